"""The DMS contract's JSON Schema published for integrators (docs/dms-events.schema.json) is the
one devtools renders from the models in shared/contracts/dms.py."""

import json

from devtools.dms_schema import SCHEMA_PATH, render


def test_committed_json_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text() == render(), "run: .venv/bin/python -m devtools.dms_schema"


def test_schema_names_every_event_type_under_one_discriminator():
    schema = json.loads(render())
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {
        "customer.upserted",
        "appointment.booked",
        "appointment.changed",
        "appointment.cancelled",
        "repair_order.opened",
        "repair_order.updated",
        "repair_order.closed",
        "payment.recorded",
    }
