"""Reading a batch of DMS events posted by an integration: which are usable, which are not and
why. Pure functions; publishing and storing are the use case's job."""

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from ingest.domain.unstorable import NUL, has_nul
from shared.contracts.dms import DmsEvent

MAX_BATCH = 500


class BatchUnreadable(ValueError):
    """The body as a whole is not a DMS event nor a batch of them."""


@dataclass(frozen=True)
class Accepted:
    index: int
    event: DmsEvent


@dataclass(frozen=True)
class Refused:
    index: int
    event_id: str | None
    reason: str
    payload: str
    errors: list[dict[str, Any]] = field(default_factory=list)


def split_batch(body: bytes, max_batch: int = MAX_BATCH) -> tuple[list[Any], bool]:
    """The items of `{"events": [...]}`, or the one event posted alone; True when it was a batch."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BatchUnreadable(f"the body is not JSON: {exc}") from exc
    if isinstance(document, dict) and "events" in document and "type" not in document:
        items = document["events"]
        if not isinstance(items, list) or not items:
            raise BatchUnreadable('"events" must be a non-empty list of events')
        if len(items) > max_batch:
            raise BatchUnreadable(f"at most {max_batch} events per request ({len(items)} sent)")
        return items, True
    if isinstance(document, dict):
        return [document], False
    raise BatchUnreadable('expected one event (a JSON object) or {"events": [...]}')


def check_event(index: int, item: Any, account_id: UUID, integration_id: UUID) -> Accepted | Refused:
    """An event is usable when it fits the contract and is for the integration's own account.
    `account_id` may be left out (it is the integration's); `integration_id` is always ours."""
    payload = json.dumps(item, separators=(",", ":"), default=str)
    event_id = _event_id_of(item)
    if not isinstance(item, dict):
        return Refused(index, None, "an event must be a JSON object", payload)
    if has_nul(item):
        reason = "the event contains the NUL character (U+0000), which cannot be stored"
        kept_id = event_id.replace(NUL, "\\u0000") if event_id else None
        return Refused(index, kept_id, reason, payload, [{"loc": "", "msg": reason, "type": "nul_character"}])
    claimed = item.get("account_id")
    if claimed is not None and str(claimed).lower() != str(account_id):
        return Refused(
            index,
            event_id,
            "account_id is not the account of this integration",
            payload,
            [{"loc": "account_id", "msg": "not this integration's account", "type": "forbidden_account"}],
        )
    try:
        event = DmsEvent.model_validate(
            {**item, "account_id": str(account_id), "integration_id": str(integration_id)}
        )
    except ValidationError as exc:
        errors = describe_errors(exc)
        reason = "; ".join(f"{error['loc'] or '(event)'}: {error['msg']}" for error in errors[:5])
        return Refused(index, event_id, reason[:2000], payload, errors)
    return Accepted(index, event)


def describe_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Where and what, without echoing the input back (it may be large)."""
    described = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        # The union's tag ("payment.recorded") is not a field the integrator wrote.
        loc = [str(part) for part in error["loc"] if not (isinstance(part, str) and "." in part)]
        described.append({"loc": ".".join(loc), "msg": error["msg"], "type": error["type"]})
    return described


def _event_id_of(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("event_id"), str):
        return item["event_id"][:100]
    return None
