"""The DMS contract as integrators see it: what it accepts, what it refuses, and the published
JSON Schema (docs/, rendered by devtools; tests/test_dms_schema_document.py keeps it in step with
the models)."""

import json
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.contracts.dms import AppointmentEvent, CustomerUpserted, DmsEvent, PaymentRecorded
from shared.contracts.topics import ALL_TOPICS, CONVERSATION_MERGED, CUSTOMER_CHANGED, DMS_EVENTS

PAID = {"payment_id": "P-1", "dms_customer_id": "C-9", "amount": "412.5", "currency": "USD"}


def _payment(**overrides) -> dict:
    event = {
        "event_id": str(uuid4()),
        "account_id": str(uuid4()),
        "type": "payment.recorded",
        "dms_record_id": "P-1",
        "record_version": 3,
        "payload": dict(PAID),
    }
    event.update(overrides)
    return event


def test_type_decides_the_payload_and_amount_keeps_two_places():
    event = DmsEvent.model_validate_json(json.dumps(_payment())).root
    assert isinstance(event, PaymentRecorded)
    assert json.loads(event.to_bytes())["payload"]["amount"] == "412.50"
    assert DmsEvent.model_validate(_payment()).partition_key == "C-9"


def test_timestamp_versions_compare_in_time_order():
    older = DmsEvent.model_validate(_payment(record_version="2026-11-25T10:00:00Z")).root
    newer = DmsEvent.model_validate(_payment(record_version="2026-11-25T10:00:00.000001+00:00")).root
    assert newer.record_version - older.record_version == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "payment.refunded"}, "type"),
        ({"dms_record_id": "P-2"}, "dms_record_id"),
        ({"event_id": None}, "event_id"),
        ({"record_version": -1}, "record_version"),
        ({"record_version": "yesterday"}, "record_version"),
        ({"payload": {**PAID, "amount": "1.234"}}, "amount"),
        ({"payload": {**PAID, "currency": "usd"}}, "currency"),
    ],
)
def test_invalid_events_are_refused_with_the_field(change, field):
    with pytest.raises(ValidationError) as refused:
        DmsEvent.model_validate(_payment(**change))
    assert field in str(refused.value)


def test_appointment_times_need_an_offset():
    base = {
        "event_id": str(uuid4()),
        "account_id": str(uuid4()),
        "type": "appointment.booked",
        "dms_record_id": "A-1",
        "record_version": 1,
        "payload": {"appointment_id": "A-1", "dms_customer_id": "C-1", "starts_at": "2026-11-26T09:30:00"},
    }
    with pytest.raises(ValidationError, match="offset"):
        DmsEvent.model_validate(base)
    base["payload"]["starts_at"] = "2026-11-26T09:30:00-05:00"
    assert isinstance(DmsEvent.model_validate(base).root, AppointmentEvent)


def test_unknown_fields_are_ignored_for_forward_compatibility():
    event = _payment(extra_field="x")
    event["payload"]["future"] = 1
    assert isinstance(DmsEvent.model_validate(event).root, PaymentRecorded)
    customer = DmsEvent.model_validate(
        {
            "event_id": str(uuid4()),
            "account_id": str(uuid4()),
            "type": "customer.upserted",
            "dms_record_id": "C-1",
            "record_version": 1,
            "payload": {"dms_customer_id": "C-1", "phones": [{"number": "514 555 0101", "type": "mobile"}]},
        }
    ).root
    assert isinstance(customer, CustomerUpserted)


def test_topics_are_declared():
    names = {spec.name for spec in ALL_TOPICS}
    assert {"dms.events.v1", "dms.events.rejected.v1"} <= names
    assert {"customer.changed.v1", "conversation.merged.v1"} <= names
    assert DMS_EVENTS.consumed and CUSTOMER_CHANGED.consumed and CONVERSATION_MERGED.consumed
