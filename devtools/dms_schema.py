"""Writes docs/dms-events.schema.json, the JSON Schema integrators validate their DMS events
against, from the pydantic models in shared/contracts/dms.py (the one source of truth).

    .venv/bin/python -m devtools.dms_schema          # rewrite the file
    .venv/bin/python -m devtools.dms_schema --check  # exit 1 when the file is out of date
"""

import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from devtools.generated_file import write_or_check
from shared.contracts.dms import DmsEvent, DmsEventRejected

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "dms-events.schema.json"


def dms_events_schema() -> dict:
    schema = TypeAdapter(DmsEvent).json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://switchboard.example/schemas/dms-events.v1.json"
    schema["title"] = "Switchboard DMS event (dms.events.v1)"
    schema["description"] = (
        "One event on Kafka topic dms.events.v1 (key: the DMS customer id), or one item of "
        "POST /api/v1/dms/events on ingest. `type` decides the shape of `payload`. Events that "
        "fail this schema land on dms.events.rejected.v1 with the reason, shaped like "
        "$defs.DmsEventRejected."
    )
    rejected = TypeAdapter(DmsEventRejected).json_schema(mode="serialization")
    schema.setdefault("$defs", {})["DmsEventRejected"] = rejected
    return schema


def render() -> str:
    return json.dumps(dms_events_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(SCHEMA_PATH, render(), "devtools.dms_schema", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
