"""Search: the box in the top bar and its results page, `/search?q=`. The search service finds
customers by name, phone (typed any way), e-mail, RO number, VIN, payment amount, appointment
type or message words; the page shows its matches grouped by kind, the matched part marked."""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from web.backend import Refused
from web.deps import WebDeps

# The order of the groups on the page: who the customer is first, then what they did.
KINDS = ("name", "phone", "email", "ro", "vin", "payment", "appointment", "message")
MAX_QUERY = 200


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    @routes.get("/search")
    async def search(
        request: Request,
        q: str = Query("", max_length=1000),
        cursor: str | None = Query(None, max_length=500),
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        query = " ".join(q.split())[:MAX_QUERY]
        answer: dict[str, Any] = {"results": [], "next_cursor": None}
        nothing_to_find = False
        if query:
            params = {"q": query, "status": "all", **({"cursor": cursor} if cursor else {})}
            try:
                answer = await signed_in.api.get("search", "/api/v1/search", params=params)
            except Refused as refused:
                # Only punctuation, say: not an error, just nothing a search can use.
                if refused.status != 422:
                    raise
                nothing_to_find = True
        context = {
            "person": signed_in.person,
            "q": query,
            "groups": grouped(answer["results"]),
            "customers": len(answer["results"]),
            "next_cursor": answer.get("next_cursor"),
            "nothing_to_find": nothing_to_find,
        }
        # The box swaps only the results (#main) as the person types; a link or a reload gets
        # the whole page.
        template = (
            "partials/search_results.html" if request.headers.get("hx-target") == "main" else "search.html"
        )
        return deps.renderer.render(request, template, context, time_zone=signed_in.person.time_zone)

    return routes


def grouped(results: list[dict]) -> list[dict[str, Any]]:
    """The matches by kind (names, phones, ..., messages), each with its customer and its text
    split into plain and matched parts: the template marks the matched parts, and what people
    typed is never inserted as markup (the service's pre-marked `text` is not used)."""
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for customer in results:
        who = customer.get("name") or national(first_phone(customer)) or ""
        for match in customer.get("matches") or []:
            groups.setdefault(match["kind"], []).append(
                {
                    "customer": who,
                    "phone": national(first_phone(customer)),
                    "parts": split_marked(match.get("plain") or "", match.get("highlights") or []),
                    "detail": match.get("detail"),
                    "at": match.get("at"),
                    "conversation_id": match.get("conversation_id"),
                    "customer_id": customer.get("customer_id"),
                }
            )
    return [{"kind": kind, "items": items} for kind, items in groups.items() if items]


def split_marked(text: str, spans: list[list[int]]) -> list[tuple[str, bool]]:
    """`text` as (part, is_match) pieces from the [start, end) spans; overlapping or out-of-range
    spans are clipped rather than trusted."""
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= at or start >= end:
            continue
        start = max(start, at)
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start:end], True))
        at = end
    if at < len(text):
        parts.append((text[at:], False))
    return parts


def first_phone(customer: dict) -> str:
    phones = customer.get("phones") or []
    return phones[0]["e164"] if phones else ""


def national(e164: str) -> str:
    """+15145550100 as (514) 555-0100, the way North American staff read numbers."""
    if len(e164) == 12 and e164.startswith("+1") and e164[1:].isdigit():
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164
