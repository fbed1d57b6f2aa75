"""What an operator bills a dealership on, month by month: each service counts what it sees
(ingest texts in, notifier texts out with their segments and the undelivered ones, exporter
exports) in its own schema and answers `GET /platform/v1/usage?account_id=&month=YYYY-MM` behind
the operator token. Months are calendar months in UTC, so every service (and routing, which adds
them up for `/platform/v1/dealerships/{id}`) draws the same line between two months."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError
from shared.http.operator_auth import OPERATOR_BEARER, Operator, require_operator
from shared.settings import ServiceSettings

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class UsageMonth:
    """A calendar month in UTC: [start, end)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "UsageMonth":
        """`YYYY-MM`; ValueError otherwise."""
        found = _MONTH.match(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
            raise ValueError("a month is written YYYY-MM, e.g. 2026-12")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> "UsageMonth":
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# (account, month) -> {counter name: value}; each service reads its own schema.
UsageReader = Callable[[UUID, UsageMonth], Awaitable[dict[str, int]]]


class ServiceUsage(BaseModel):
    service: str
    account_id: UUID
    month: str = Field(description="YYYY-MM, a calendar month in UTC")
    period_start: datetime
    period_end: datetime = Field(description="Exclusive")
    counts: dict[str, int] = Field(description="What this service counted for the dealership that month")


def usage_router(settings: ServiceSettings, read_usage: UsageReader, described: str) -> APIRouter:
    """`GET /platform/v1/usage` for one service; `described` says what its counts are."""
    router = APIRouter(prefix="/platform/v1", tags=["platform (operators)"])
    operator = require_operator(settings)

    @router.get(
        "/usage",
        response_model=ServiceUsage,
        summary="A dealership's usage in a month, as this service counted it (operator token)",
        description=described,
        responses={
            401: {**ERROR_RESPONSE_SCHEMA, "description": "No operator token, or not a valid one"},
            422: {**ERROR_RESPONSE_SCHEMA, "description": "account_id or month malformed"},
        },
        dependencies=[Depends(OPERATOR_BEARER)],
    )
    async def usage(
        _operator: Annotated[Operator, Depends(operator)],
        account_id: Annotated[UUID, Query(description="The dealership's account id")],
        month: Annotated[
            str | None, Query(max_length=20, description="YYYY-MM (UTC); the current month when left out")
        ] = None,
    ) -> ServiceUsage:
        try:
            period = UsageMonth.parse(month) if month else UsageMonth.of(datetime.now(UTC))
        except ValueError as exc:
            raise ApiError(422, "invalid_month", str(exc), {"month": month}) from exc
        counts = await read_usage(account_id, period)
        return ServiceUsage(
            service=settings.service_name,
            account_id=account_id,
            month=str(period),
            period_start=period.start,
            period_end=period.end,
            counts=counts,
        )

    return router
