"""The query box: one text, every kind of record, results grouped by customer. Always scoped to
the caller's account; another account's data cannot appear."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from search import matches, queries
from search.api.cursor import decode_cursor, encode_cursor
from search.domain.query import highlight, highlight_digits, highlight_words, parse_query
from search.queries import CustomerHit, Match, MatchKind, StatusFilter
from shared.http.auth import Authenticated, Principal
from shared.http.errors import ERROR_RESPONSE_SCHEMA, ApiError


class Phone(BaseModel):
    e164: str = Field(description="E.164, e.g. +15145550100")
    kind: str = Field(description="mobile, landline or unknown")


class SearchMatch(BaseModel):
    kind: MatchKind = Field(
        description="What matched: the customer's name, phone or e-mail address, a message, a repair "
        "order number, a vehicle's VIN (whole or its last characters), a payment amount or an "
        "appointment type"
    )
    text: str = Field(description="The matched text, HTML-escaped, the matched part in <mark>…</mark>")
    plain: str = Field(description="The matched text as stored")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) offsets of the matched parts in `plain`"
    )
    detail: str | None = Field(None, description="Context: message direction, RO status, payment currency…")
    at: datetime | None = Field(None, description="When: message time, appointment start, payment time")
    conversation_id: UUID | None = Field(description="The conversation to open (null: the customer has none)")
    link: str | None = Field(description="Where the app opens it, e.g. /conversations/<id>")


class CustomerResult(BaseModel):
    customer_id: UUID
    name: str | None = Field(description="First and last name, when known")
    phones: list[Phone]
    last_activity_at: datetime | None = Field(description="The customer's latest message, if any")
    matches: list[SearchMatch] = Field(description="At most 3 of each kind, newest first")


class SearchPage(BaseModel):
    results: list[CustomerResult] = Field(description="Customers, most recently active first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


def _present(hit: CustomerHit, query) -> CustomerResult:
    return CustomerResult(
        customer_id=hit.customer_id,
        name=hit.name,
        phones=[Phone(e164=e164, kind=kind) for e164, kind in hit.phones],
        last_activity_at=hit.last_activity_at if hit.last_activity_at.year > 1 else None,
        matches=[_present_match(m, query) for m in hit.matches],
    )


def _present_match(match: Match, query) -> SearchMatch:
    if match.kind == "phone":
        marked, spans = highlight_digits(match.text, query.phone_digits or "")
    elif match.kind == "message":
        marked, spans = highlight_words(match.text, query.words)
    elif match.kind in ("ro", "payment"):
        marked, spans = _mark_whole(match.text)
    elif match.kind == "email":
        marked, spans = highlight(match.text, (query.email_prefix or "",))
    elif match.kind == "vin":
        marked, spans = highlight(match.text, ((query.vin_tail or "").lower(),))
    elif match.kind == "appointment":
        marked, spans = highlight(match.text, (" ".join(query.words),))
    else:
        marked, spans = highlight(match.text, tuple(w for w in query.words if len(w) >= 2))
    cid = match.conversation_id
    return SearchMatch(
        kind=match.kind,
        text=marked,
        plain=match.text,
        highlights=spans,
        detail=match.detail,
        at=match.at,
        conversation_id=cid,
        link=f"/conversations/{cid}" if cid else None,
    )


def _mark_whole(value: str) -> tuple[str, list[tuple[int, int]]]:
    return highlight(value, (value.lower(),))


def search_router(sessions: async_sessionmaker[AsyncSession], auth: Authenticated) -> APIRouter:
    """`auth`: in the service, CurrentStaffAuthenticated (active staff only, current role)."""
    router = APIRouter(prefix="/api/v1/search", tags=["search"])
    Caller = Annotated[Principal, Depends(auth)]

    @router.get(
        "",
        summary="Find customers by name, phone, RO number, payment amount, appointment type or message words",
        response_model=SearchPage,
        responses={
            401: {**ERROR_RESPONSE_SCHEMA, "description": "No token, an expired one, or a deactivated user"},
            403: {**ERROR_RESPONSE_SCHEMA, "description": "Not a staff token (service tokens are refused)"},
            422: ERROR_RESPONSE_SCHEMA,
            503: {
                **ERROR_RESPONSE_SCHEMA,
                "description": "`auth_unavailable`: routing cannot confirm the user",
            },
        },
    )
    async def search(
        caller: Caller,
        q: str = Query(
            min_length=1,
            max_length=200,
            description='A name ("tremb"), a phone typed any way ("(514) 555-0100", "514 555"), an '
            'e-mail address or its start ("marie.t@"), an RO number, a VIN or its last characters '
            '("3A004352"), a complete payment amount ("412.50"), an appointment type ("oil change") '
            "or words from messages (English and French)",
        ),
        status: StatusFilter = Query(
            "all", description="Conversations to search: open, closed (and archived), all"
        ),
        cursor: str | None = Query(None, max_length=500, description="`next_cursor` of the previous page"),
        limit: int = Query(20, ge=1, le=100, description="Customers per page"),
    ) -> SearchPage:
        query = parse_query(q)
        if not (query.words or query.phone_digits or query.amount is not None or query.ro_compact):
            raise ApiError(422, "invalid_query", "the query has nothing to search for", {"q": q})
        after = decode_cursor(cursor) if cursor else None
        async with sessions() as session:
            hits = await queries.matching_customers(
                session, caller.account_id, query, status, after, limit + 1
            )
            page, more = hits[:limit], len(hits) > limit
            await matches.describe_matches(session, caller.account_id, query, status, page)
        return SearchPage(
            results=[_present(hit, query) for hit in page],
            next_cursor=encode_cursor(page[-1]) if more else None,
        )

    return router


__all__ = ["UUID", "SearchPage", "search_router"]
