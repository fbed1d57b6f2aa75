"""Writes docs/dms-events.asyncapi.json, the AsyncAPI 3.0 document of the Kafka side of a DMS
integration: Switchboard receives events on `dms.events.v1`, sets the ones it cannot use aside on
`dms.events.v1.dlq`, and ingest reports events it refused over HTTP on `dms.events.rejected.v1`.
The payload schemas are rendered from shared/contracts/dms.py by the same code that fills every
service's /asyncapi.json (shared.kafka.asyncapi.contract_schemas), so the three never disagree.

    .venv/bin/python -m devtools.dms_asyncapi          # rewrite the file
    .venv/bin/python -m devtools.dms_asyncapi --check  # exit 1 when the file is out of date
"""

import json
import sys
from pathlib import Path

from devtools.generated_file import write_or_check
from shared.contracts.dms import SCHEMA_VERSION, DmsEvent, DmsEventRejected
from shared.contracts.topics import DMS_EVENTS, DMS_REJECTED
from shared.kafka.asyncapi import contract_schemas

ASYNCAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "dms-events.asyncapi.json"

# The headers shared/kafka/consumer.py puts on a dead letter (its body is the original bytes).
DEAD_LETTER_HEADERS = {
    "x-dead-letter-reason": "Why it could not be used, e.g. the validation errors (up to 2000 characters)",
    "x-dead-letter-error": "The kind of failure, e.g. ValidationError or JSONDecodeError",
    "x-original-topic": "The topic it was read from",
    "x-original-partition": "Its partition there",
    "x-original-offset": "Its offset there",
    "x-consumer-group": "The consumer group that set it aside (one per Switchboard service)",
}


def _kafka_key(description: str) -> dict:
    return {"kafka": {"key": {"type": "string", "description": description}, "bindingVersion": "0.4.0"}}


def _channel(address: str, description: str, message: str) -> dict:
    return {
        "address": address,
        "description": description,
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        "bindings": {"kafka": {"topic": address, "bindingVersion": "0.4.0"}},
    }


def _operation(action: str, channel: str, message: str, summary: str) -> dict:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
    }


def dms_asyncapi() -> dict:
    refs, schemas = contract_schemas([DmsEvent, DmsEventRejected])
    # The model's docstring talks to Python consumers; integrators get the rule instead.
    schemas["DmsEvent"]["description"] = (
        "One DMS event: `type` decides which of these it is and the shape of its `payload`."
    )
    events, dead_letters, rejected = DMS_EVENTS.name, DMS_EVENTS.dead_letter, DMS_REJECTED.name
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Switchboard DMS events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "The Kafka side of a DMS integration, as Switchboard sees it: your integration "
                f"produces each event as JSON onto `{events}`, keyed by the DMS customer id (so one "
                "customer's events stay in order); Switchboard's services receive it. The same "
                "events can be POSTed to ingest's `/api/v1/dms/events` instead. The rules "
                "(event ids, record versions, whole records) are in docs/dms-integration.md; the "
                "same payload as a plain JSON Schema is docs/dms-events.schema.json. Topic names "
                "carry the environment's prefix, if it has one."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            events: _channel(events, DMS_EVENTS.description, "DmsEvent"),
            dead_letters: _channel(
                dead_letters,
                "Events a Switchboard service could not use (not JSON, not this contract, or "
                "refused by the service), byte for byte as produced, with the reason in headers",
                "DeadLetter",
            ),
            rejected: _channel(rejected, DMS_REJECTED.description, "DmsEventRejected"),
        },
        "operations": {
            "receiveDmsEvent": _operation(
                "receive", events, "DmsEvent", "Switchboard applies a DMS event (integrators send these)"
            ),
            "sendDeadLetter": _operation(
                "send", dead_letters, "DeadLetter", "Switchboard sets aside an event it cannot use"
            ),
            "sendRejection": _operation(
                "send", rejected, "DmsEventRejected", "ingest records an event it refused over HTTP"
            ),
        },
        "components": {
            "messages": {
                "DmsEvent": {
                    "name": "DmsEvent",
                    "title": "DMS event",
                    "summary": "One customer, appointment, repair order or payment record; `type` "
                    "decides the shape of `payload`.",
                    "contentType": "application/json",
                    "payload": refs[DmsEvent],
                    "bindings": _kafka_key(DMS_EVENTS.key),
                },
                "DeadLetter": {
                    "name": "DeadLetter",
                    "title": "Dead-lettered DMS event",
                    "summary": "The record exactly as it was produced (it may not even be JSON).",
                    "headers": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string", "description": description}
                            for name, description in DEAD_LETTER_HEADERS.items()
                        },
                    },
                    "payload": {"description": "The original record value, unchanged."},
                    "bindings": _kafka_key(f"the original record's key ({DMS_EVENTS.key})"),
                },
                "DmsEventRejected": {
                    "name": "DmsEventRejected",
                    "title": "Rejected DMS event",
                    "summary": "An event ingest refused, with the reason; also listed by "
                    "GET /api/v1/dms/rejections.",
                    "contentType": "application/json",
                    "payload": refs[DmsEventRejected],
                    "bindings": _kafka_key(DMS_REJECTED.key),
                },
            },
            "schemas": schemas,
        },
    }


def render() -> str:
    return json.dumps(dms_asyncapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(ASYNCAPI_PATH, render(), "devtools.dms_asyncapi", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
