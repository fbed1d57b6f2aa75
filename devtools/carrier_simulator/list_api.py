"""The carriers' read APIs, shaped like the real ones, over what the simulator keeps (store.py):

Twilio (HTTP basic auth, AccountSid and auth token)
- GET /2010-04-01/Accounts/{sid}/Messages.json?To=&From=&DateSent>=&DateSent<=&PageSize=: newest
  first, paged by `next_page_uri`; DateSent takes a date or a UTC date-time;
- GET …/Messages/{MessageSid}.json and …/Messages/{MessageSid}/Media.json.

Telnyx (bearer API key)
- GET /v2/detail_records?filter[record_type]=messaging&filter[direction]=&filter[cld]=&filter[cli]=
  &filter[created_at][gte]=&filter[created_at][lt]=&sort=created_at|-created_at&page[number]=
  &page[size]=: message detail records (no text), `meta.total_pages`;
- GET /v2/messages/{id}.

POST /simulate/config can make the next reads fail (`read_failures`: HTTP statuses, one per
request, e.g. [429, 503]) or refuse credentials (`revoked_credentials`: AccountSids / API keys)."""

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from devtools.carrier_simulator import store
from devtools.carrier_simulator.carrier_answers import (
    telnyx_error,
    telnyx_key_accepted,
    telnyx_unauthenticated,
    twilio_error,
    twilio_token,
    twilio_unauthenticated,
)
from devtools.carrier_simulator.failures import behaviour_for
from devtools.carrier_simulator.state import SimulatorState


def _since(value: str | None) -> float | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def list_router(state: SimulatorState) -> APIRouter:
    router = APIRouter(tags=["carrier read APIs"])

    def planned_failure(carrier: str) -> JSONResponse | None:
        if not state.read_failures:
            return None
        status = state.read_failures.pop(0)
        if carrier == "twilio":
            return twilio_error(status, "20429" if status == 429 else "20503", "Simulated failure")
        return telnyx_error(status, "10011" if status == 429 else "10007", "Simulated failure")

    def twilio_denied(account_sid: str, authorization: str | None) -> JSONResponse | None:
        if not twilio_token(state, authorization, account_sid, honour_revocation=True):
            return twilio_unauthenticated()
        return planned_failure("twilio")

    def telnyx_denied(authorization: str | None) -> JSONResponse | None:
        if not telnyx_key_accepted(state, authorization, honour_revocation=True):
            return telnyx_unauthenticated()
        return planned_failure("telnyx")

    @router.get("/2010-04-01/Accounts/{account_sid}/Messages.json", summary="Twilio: list messages")
    async def twilio_list(
        account_sid: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        to: Annotated[str | None, Query(alias="To")] = None,
        from_: Annotated[str | None, Query(alias="From")] = None,
        sent_after: Annotated[str | None, Query(alias="DateSent>")] = None,
        sent_before: Annotated[str | None, Query(alias="DateSent<")] = None,
        page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
        page: Annotated[int, Query(alias="Page", ge=0)] = 0,
    ) -> JSONResponse:
        denied = twilio_denied(account_sid, authorization)
        if denied:
            return denied
        if to and behaviour_for("twilio", to).lookup_fails:
            return twilio_error(503, "20503", "Service Unavailable")
        after, before = _since(sent_after), _since(sent_before)
        # Filter on the stored fields first: a status is only worked out for what is listed.
        candidates = [
            m
            for m in state.twilio_messages.get(account_sid, [])
            if (to is None or m["to"] == to)
            and (from_ is None or m["from"] == from_)
            and (after is None or store.created_at(m) >= after)
            and (before is None or store.created_at(m) <= before)
        ]
        views = [(m, store.twilio_view(m)) for m in candidates]
        # DateSent filters leave out what has not been sent yet, as Twilio's do.
        found = sorted(
            ((m, v) for m, v in views if (after is None and before is None) or v["date_sent"]),
            key=lambda pair: (store.created_at(pair[0]), pair[0]["_seq"]),
            reverse=True,
        )
        chunk = [v for _, v in found[page * page_size : (page + 1) * page_size]]
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        params = {k: v for k, v in request.query_params.items() if k not in ("Page", "PageToken")}

        def page_uri(number: int) -> str:
            query = {**params, "PageSize": page_size, "Page": number, "PageToken": f"PA{number}"}
            return f"{uri}?{urlencode(query)}"

        more = (page + 1) * page_size < len(found)
        return JSONResponse(
            {
                "messages": chunk,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "previous_page_uri": page_uri(page - 1) if page else None,
                "page": page,
                "page_size": page_size,
                "start": page * page_size,
                "end": page * page_size + max(len(chunk) - 1, 0),
                "uri": page_uri(page),
            }
        )

    def twilio_message(account_sid: str, message_sid: str) -> dict | None:
        return next((m for m in state.twilio_messages.get(account_sid, []) if m["sid"] == message_sid), None)

    @router.get("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json", summary="Twilio: a message")
    async def twilio_fetch(
        account_sid: str, message_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        denied = twilio_denied(account_sid, authorization)
        if denied:
            return denied
        message = twilio_message(account_sid, message_sid)
        if message is None:
            return twilio_error(404, "20404", f"The requested resource {message_sid} was not found")
        return JSONResponse(store.twilio_view(message))

    @router.get(
        "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media.json",
        summary="Twilio: a message's media",
    )
    async def twilio_media(
        account_sid: str, message_sid: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        denied = twilio_denied(account_sid, authorization)
        if denied:
            return denied
        message = twilio_message(account_sid, message_sid)
        if message is None:
            return twilio_error(404, "20404", f"The requested resource {message_sid} was not found")
        base = f"/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media"
        return JSONResponse(
            {
                "media_list": [
                    {
                        "sid": f"ME{index:032x}",
                        "content_type": content_type,
                        "uri": f"{base}/ME{index:032x}.json",
                    }
                    for index, (_url, content_type) in enumerate(message.get("_media", []))
                ],
                "next_page_uri": None,
            }
        )

    @router.get("/v2/detail_records", summary="Telnyx: search message detail records")
    async def telnyx_detail_records(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        denied = telnyx_denied(authorization)
        if denied:
            return denied
        q = request.query_params
        if q.get("filter[record_type]") != "messaging":
            return telnyx_error(422, "10015", "filter[record_type] must be messaging here", "/filter")
        after, before = _since(q.get("filter[created_at][gte]")), _since(q.get("filter[created_at][lt]"))
        wanted = {name: q.get(f"filter[{name}]") for name in ("direction", "cld", "cli")}
        records = [
            m
            for m in state.telnyx_messages.values()
            if (after is None or store.created_at(m) >= after)
            and (before is None or store.created_at(m) < before)
            and wanted["direction"] in (None, m["direction"])
            and wanted["cld"] in (None, m["to"][0]["phone_number"])
            and wanted["cli"] in (None, m["from"]["phone_number"])
        ]
        records.sort(key=lambda m: (store.created_at(m), m["_seq"]), reverse=q.get("sort") == "-created_at")
        size = min(max(int(q.get("page[size]", 20)), 1), 250)
        number = max(int(q.get("page[number]", 1)), 1)
        chunk = [store.detail_record(m) for m in records[(number - 1) * size : number * size]]
        return JSONResponse(
            {
                "data": chunk,
                "meta": {
                    "page_number": number,
                    "page_size": size,
                    "total_pages": (len(records) + size - 1) // size,
                    "total_results": len(records),
                },
            }
        )

    @router.get("/v2/messages/{message_id}", summary="Telnyx: retrieve a message")
    async def telnyx_message(
        message_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        denied = telnyx_denied(authorization)
        if denied:
            return denied
        message = state.telnyx_messages.get(message_id)
        if message is None:
            return telnyx_error(404, "10005", "Resource not found")
        return JSONResponse({"data": store.telnyx_view(message)})

    return router
