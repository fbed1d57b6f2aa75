"""Appointments: a day's appointments (`/appointments?date=YYYY-MM-DD`, today in the dealership's
time zone by default) from routing, each with its customer, type and time, and a mark when the
latest text sent from it did not arrive. `appointment=<id>` opens one: its details beside the
customer's conversation (the Conversations screen's pane, composer and saved replies), or, for
a customer who has none yet, a composer that starts it. Texts sent from here go through
routing's outreach with the appointment as their source, so they show where they came from."""

import asyncio
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from babel import dates
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import i18n
from web.backend import NotFound, Refused, UserApi
from web.deps import WebDeps
from web.i18n import time_zone
from web.pages.conversation import load_conversation
from web.pages.inbox_state import InboxState
from web.rendering import is_htmx
from web.session import SignedIn

MAX_TEXT = 1600
DETAIL = "partials/appointment_detail.html"
DETAIL_SWAP = {"HX-Retarget": "#appointment-detail", "HX-Reswap": "innerHTML"}


def today_in(zone_name: str) -> date:
    return datetime.now(time_zone(zone_name)).date()


def day_of(raw: str | None, zone_name: str) -> tuple[date, str | None]:
    """The day the URL asks for, or today; with the error code when what was typed is no date."""
    if not raw:
        return today_in(zone_name), None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return today_in(zone_name), "invalid_date"


def clock(value: str | None) -> str:
    """An appointment's local start time ("9:30 AM", "09 h 30"), as the page's locale writes it."""
    moment = i18n.parse_instant(value)
    if moment is None:
        return ""
    here = i18n.current.get()
    return dates.format_time(moment.astimezone(here.time_zone), "short", locale=here.locale)


def appointment_id_of(raw: str) -> str:
    try:
        return str(UUID(raw))
    except ValueError:
        raise NotFound() from None


def source_of(appointment: dict[str, Any], zone_name: str) -> dict[str, Any]:
    """The appointment as the source routing records under the texts sent from it: its DMS id,
    and a name staff recognise (type and local start)."""
    start = datetime.fromisoformat(appointment["starts_at"]).astimezone(time_zone(zone_name))
    kind = appointment.get("appointment_type") or "Appointment"
    return {
        "kind": "appointment",
        "id": appointment["dms_appointment_id"],
        "name": f"{kind}, {start:%Y-%m-%d %H:%M}"[:300],
    }


def address(day: date, appointment_id: str | None = None) -> str:
    query = {"date": day.isoformat(), **({"appointment": appointment_id} if appointment_id else {})}
    return "/appointments?" + urlencode(query)


async def undelivered_of(api: UserApi, appointments: list[dict[str, Any]]) -> set[str]:
    """The DMS ids of the day's appointments whose latest text did not reach the customer."""
    ids = sorted({a["dms_appointment_id"] for a in appointments})[:200]
    if not ids:
        return set()
    page = await api.get(
        "routing", "/api/v1/sources", params={"kind": "appointment", "id": ids, "limit": 200}
    )
    return {s["id"] for s in page["items"] if s["undelivered"]}


async def latest_text(api: UserApi, appointment: dict[str, Any]) -> dict[str, Any] | None:
    """The latest text sent from this appointment, with its delivery state."""
    path = f"/api/v1/sources/appointment/{appointment['dms_appointment_id']}/customers"
    try:
        page = await api.get("routing", path, params={"limit": 1})
    except NotFound:
        return None
    return page["items"][0] if page["items"] else None


async def detail_context(api: UserApi, appointment: dict[str, Any], **shown: Any) -> dict[str, Any]:
    conversation_id = appointment.get("active_conversation_id")
    calls: list[Any] = [latest_text(api, appointment)]
    if conversation_id:
        calls.append(load_conversation(api, conversation_id, mark_read=True))
    else:
        calls.append(api.get("routing", "/api/v1/saved-replies"))
    last, loaded = await asyncio.gather(*calls)
    context: dict[str, Any] = {
        "appointment": appointment,
        "last_text": last,
        "start_error": None,
        "start_draft": "",
        "start_key": uuid4().hex,
    }
    if conversation_id:
        context |= loaded
    else:
        context |= {"conversation": None, "saved_replies": loaded}
    return context | shown


def router(deps: WebDeps) -> APIRouter:
    routes = APIRouter()

    async def day_and_selected(
        signed_in: SignedIn, day: date, appointment_id: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        answer = await signed_in.api.get("routing", "/api/v1/appointments", params={"date": day.isoformat()})
        items = answer["items"]
        selected = None
        if appointment_id:
            selected = next((a for a in items if a["id"] == appointment_id), None)
            if selected is None:  # not that day's, or another dealership's
                raise NotFound()
        return items, selected

    async def render(
        request: Request,
        signed_in: SignedIn,
        raw_date: str | None,
        appointment_id: str | None,
        *,
        partial: bool = False,
        **shown: Any,
    ) -> Response:
        # Appointments are the dealership's: its day, its clock.
        zone = signed_in.person.account_time_zone
        day, date_error = day_of(raw_date, zone)
        items, selected = await day_and_selected(signed_in, day, appointment_id)
        undelivered, detail = await asyncio.gather(
            undelivered_of(signed_in.api, items),
            detail_context(signed_in.api, selected, **shown) if selected else asyncio.sleep(0, {}),
        )
        context = {
            "person": signed_in.person,
            "state": InboxState(),
            "day": day,
            "day_at": datetime.combine(day, time(12), tzinfo=time_zone(zone)),
            "clock": clock,
            "typed_date": raw_date if date_error else day.isoformat(),
            "date_error": date_error,
            "previous_day": address(date.fromordinal(day.toordinal() - 1)),
            "next_day": address(date.fromordinal(day.toordinal() + 1)),
            "today": address(today_in(zone)),
            "appointments": items,
            "undelivered": undelivered,
            "selected": selected,
            "address": address,
            **detail,
        }
        template = DETAIL if partial else "appointments.html"
        return deps.renderer.render(request, template, context, time_zone=zone)

    @routes.get("/appointments")
    async def appointments(
        request: Request, date: str | None = None, appointment: str | None = None
    ) -> Response:
        signed_in = await deps.sessions.signed_in(request)
        appointment_id = appointment_id_of(appointment) if appointment else None
        partial = request.headers.get("hx-target") == "appointment-detail" and appointment_id is not None
        return await render(request, signed_in, (date or "")[:20] or None, appointment_id, partial=partial)

    @routes.post("/appointments/{raw_id}/messages")
    async def start_or_send(
        request: Request,
        raw_id: str,
        date: str = "",
        body: Annotated[str, Form(max_length=10 * MAX_TEXT)] = "",
        reply_key: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        """A text to the appointment's customer through routing's outreach, the appointment as
        its source: in their conversation, or starting one. A refusal is shown beside the text,
        which is kept."""
        appointment_id = appointment_id_of(raw_id)
        signed_in = await deps.sessions.signed_in(request)
        day, _ = day_of(date[:20], signed_in.person.account_time_zone)
        _, selected = await day_and_selected(signed_in, day, appointment_id)
        assert selected is not None
        error = None
        customer = selected.get("customer")
        if not body.strip():
            error = "empty"
        elif len(body) > MAX_TEXT:
            error = "too_long"
        elif customer is None:
            error = "no_customer"
        else:
            try:
                await signed_in.api.backend.call(
                    "routing",
                    "POST",
                    "/api/v1/outreach",
                    token=signed_in.api.token,
                    json={
                        "customer_id": customer["id"],
                        "body": body,
                        "source": source_of(selected, signed_in.person.account_time_zone),
                    },
                    headers={"Idempotency-Key": reply_key} if reply_key else None,
                )
            except Refused as refused:
                error = refused.message or refused.code
        if error is None and not is_htmx(request):
            return RedirectResponse(address(day, appointment_id), status_code=303)
        shown: dict[str, Any] = {"sent": error is None}
        if error is not None:
            shown |= {"start_error": error, "start_draft": body, "draft": body}
        if is_htmx(request):
            # The row's mark and the appointment's conversation may both have changed. The
            # composer may be one the Conversations screen rendered (after a note): the answer
            # is the whole detail, wherever the form aimed.
            answer = await render(request, signed_in, day.isoformat(), appointment_id, partial=True, **shown)
            answer.headers.update(DETAIL_SWAP)
            return answer
        return await render(request, signed_in, day.isoformat(), appointment_id, **shown)

    @routes.post("/appointments/{raw_id}/saved-reply")
    async def insert_saved_reply(
        request: Request,
        raw_id: str,
        date: str = "",
        saved_reply_id: Annotated[str, Form(max_length=100)] = "",
        body: Annotated[str, Form(max_length=10 * MAX_TEXT)] = "",
    ) -> Response:
        """The start composer's text with the saved reply, rendered for this customer and this
        appointment, added."""
        appointment_id = appointment_id_of(raw_id)
        signed_in = await deps.sessions.signed_in(request)
        day, _ = day_of(date[:20], signed_in.person.account_time_zone)
        _, selected = await day_and_selected(signed_in, day, appointment_id)
        assert selected is not None
        draft, error = body, None
        customer = selected.get("customer")
        here = deps.renderer.localization(request, signed_in.person.account_time_zone)
        if saved_reply_id and customer:
            reply_id = appointment_id_of(saved_reply_id)
            try:
                preview = await signed_in.api.post(
                    "routing",
                    f"/api/v1/saved-replies/{reply_id}/preview",
                    json={"customer_id": customer["id"], "variables": variables_of(selected, here)},
                )
                draft = (body.rstrip() + "\n" if body.strip() else "") + preview["text"]
            except Refused as refused:
                error = refused.message or refused.code
        context = {"start_draft": draft, "start_error": error, "appointment": selected}
        return deps.renderer.render(
            request,
            "partials/start_composer_body.html",
            context,
            time_zone=signed_in.person.account_time_zone,
        )

    return routes


def variables_of(appointment: dict[str, Any], here: i18n.Localization) -> dict[str, str]:
    """What the saved reply's appointment placeholders say, from the appointment itself, in the
    person's language and the dealership's time zone."""
    start = datetime.fromisoformat(appointment["starts_at"]).astimezone(here.time_zone)
    found = {
        "appointment.date": dates.format_date(start, "long", locale=here.locale),
        "appointment.time": dates.format_time(start, "short", locale=here.locale),
        "appointment.service": appointment.get("appointment_type"),
        "appointment.advisor": appointment.get("advisor"),
    }
    return {key: value[:500] for key, value in found.items() if value}
