"""What the simulated carriers keep of every message, sent or received, so their list APIs can
answer like the real ones. A text we sent reaches its final status `callback_delay_seconds` after
it was accepted, whether or not its status callback could be posted (the carrier delivers it
either way); the status is worked out when the message is read."""

import itertools
import time
from datetime import UTC, datetime
from email.utils import format_datetime

_order = itertools.count()


def stamp(message: dict, final_status: str, final_in: float, error: tuple[str, str] | None = None) -> dict:
    """Private fields (leading underscore) never leave the simulator."""
    message["_created"] = time.time()
    message["_seq"] = next(_order)
    message["_final"] = (final_status, time.time() + final_in, error)
    return message


def received(message: dict) -> dict:
    message["_created"] = time.time()
    message["_seq"] = next(_order)
    return message


def created_at(message: dict) -> float:
    return message.get("_created", 0.0)


def _final(message: dict) -> tuple[str, tuple[str, str] | None] | None:
    final = message.get("_final")
    if final and time.time() >= final[1]:
        return final[0], final[2]
    return None


def twilio_view(message: dict) -> dict:
    view = {k: v for k, v in message.items() if not k.startswith("_")}
    final = _final(message)
    if final is not None:
        status, error = final
        view["status"] = status
        view["date_sent"] = view.get("date_sent") or view["date_created"]
        view["date_updated"] = format_datetime(datetime.now(UTC), usegmt=True)
        if error:
            view["error_code"], view["error_message"] = int(error[0]), error[1]
    return view


def telnyx_view(message: dict) -> dict:
    view = {k: v for k, v in message.items() if not k.startswith("_")}
    final = _final(message)
    if final is not None:
        status, error = final
        view["to"] = [{**view["to"][0], "status": status}]
        view["completed_at"] = datetime.now(UTC).isoformat()
        if error:
            view["errors"] = [{"code": error[0], "title": error[1], "detail": error[1]}]
    return view


def detail_record(message: dict) -> dict:
    """A message detail record (MDR) as GET /v2/detail_records lists it: no text."""
    view = telnyx_view(message)
    return {
        "record_type": "message_detail_record",
        "uuid": view["id"],
        "cli": view["from"]["phone_number"],
        "cld": view["to"][0]["phone_number"],
        "direction": view["direction"],
        "created_at": datetime.fromtimestamp(created_at(message), UTC).isoformat().replace("+00:00", "Z"),
        "status": view["to"][0].get("status"),
        "message_type": view.get("type", "SMS"),
        "parts": view.get("parts", 1),
    }
