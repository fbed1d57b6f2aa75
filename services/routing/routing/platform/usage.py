"""A dealership's usage for the operator API: routing owns no counter of its own (each service
counts what it sees, in its own schema), so it asks ingest (texts in), notifier (texts out, their
segments, undelivered) and exporter (exports) for their `GET /platform/v1/usage`, in parallel,
with the operator's own token (the services check it against the same Secret: routing holds no
token of its own to call them with).

A service that does not answer in time is named in `unavailable` and its counts are left out:
the dealership is still shown, never a 500."""

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import structlog

log = structlog.get_logger(__name__)

# Which service counts what (shared/http/usage.py describes the months).
COUNTING_SERVICES = ("ingest", "notifier", "exporter")


@dataclass(frozen=True)
class UsageSources:
    """Where each counting service answers (INGEST_URL, NOTIFIER_URL, EXPORTER_URL)."""

    urls: dict[str, str]
    timeout_seconds: float = 3.0


class DealershipUsage:
    """Operators ask rarely: one short-lived HTTP client per question, nothing to close."""

    def __init__(self, sources: UsageSources) -> None:
        self._sources = sources

    async def of(self, account_id: UUID, month: str, authorization: str) -> dict[str, Any]:
        """`month`: YYYY-MM."""
        async with httpx.AsyncClient(timeout=self._sources.timeout_seconds) as http:
            answers = await asyncio.gather(
                *(self._ask(http, service, account_id, month, authorization) for service in COUNTING_SERVICES)
            )
        # {"month", every service's counts..., "unavailable": [services that did not answer]}
        usage: dict[str, Any] = {"month": month}
        unavailable = []
        for service, answer in zip(COUNTING_SERVICES, answers, strict=True):
            if answer is None:
                unavailable.append(service)
                continue
            usage.update({k: v for k, v in answer.get("counts", {}).items() if isinstance(v, int)})
        usage["unavailable"] = unavailable
        return usage

    async def _ask(
        self, http: httpx.AsyncClient, service: str, account_id: UUID, month: str, authorization: str
    ) -> dict | None:
        url = self._sources.urls[service].rstrip("/") + "/platform/v1/usage"
        params = {"account_id": str(account_id), "month": month}
        try:
            response = await http.get(url, params=params, headers={"authorization": authorization})
        except httpx.HTTPError as exc:
            log.warning("usage not available", service=service, reason=type(exc).__name__)
            return None
        if response.status_code != 200:
            log.warning("usage not available", service=service, status=response.status_code)
            return None
        try:
            return response.json()
        except ValueError:
            return None
