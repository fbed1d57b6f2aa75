"""Building DMS events the way an integrator writes them (plain JSON), and applying them the way
routing's consumer does."""

import json
import secrets
from uuid import UUID, uuid4

from routing.dms.usecases.events import apply_dms_event
from shared.contracts.dms import DmsEvent


def customer_event(
    account_id: UUID,
    dms_id: str,
    version: int,
    phones: list[tuple[str, str]],
    first_name: str | None = "Pat",
    last_name: str | None = "Doe",
    occurred_at: str | None = None,
) -> dict:
    return {
        "event_id": str(uuid4()),
        "account_id": str(account_id),
        **({"occurred_at": occurred_at} if occurred_at else {}),
        "type": "customer.upserted",
        "dms_record_id": dms_id,
        "record_version": version,
        "payload": {
            "dms_customer_id": dms_id,
            "first_name": first_name,
            "last_name": last_name,
            "phones": [{"number": number, "type": kind} for number, kind in phones],
        },
    }


def appointment_event(
    account_id: UUID,
    appointment_id: str,
    dms_customer_id: str,
    starts_at: str,
    version: int = 1,
    kind: str = "appointment.booked",
    appointment_type: str = "oil change",
) -> dict:
    return {
        "event_id": str(uuid4()),
        "account_id": str(account_id),
        "type": kind,
        "dms_record_id": appointment_id,
        "record_version": version,
        "payload": {
            "appointment_id": appointment_id,
            "dms_customer_id": dms_customer_id,
            "starts_at": starts_at,
            "appointment_type": appointment_type,
            "advisor": "Maude",
            "vehicle": {"year": 2019, "make": "Honda", "model": "Civic", "vin": "2HGFC2F59KH512345"},
        },
    }


def new_number() -> str:
    return f"+1438{secrets.randbelow(10**7):07d}"


def dms_id() -> str:
    return f"C-{secrets.token_hex(4)}"


async def apply(sessions, event: dict) -> bool:
    parsed = DmsEvent.model_validate_json(json.dumps(event)).root
    async with sessions.begin() as session:
        return await apply_dms_event(session, parsed, "US")
