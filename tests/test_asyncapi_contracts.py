"""Each service's /asyncapi.json gives every topic it reads (and any it declares it writes) the JSON
Schema of the topic's contract, although the consumers take raw bytes; and the static DMS
document for integrators matches the contract and what the services serve."""

from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI

from devtools.dms_asyncapi import ASYNCAPI_PATH, dms_asyncapi, render
from exporter.app import create_app as create_exporter
from exporter.settings import ExporterSettings
from ingest.app import create_app as create_ingest
from ingest.settings import IngestSettings
from notifier.app import create_app as create_notifier
from notifier.settings import NotifierSettings
from routing.app import create_app as create_routing
from routing.settings import RoutingSettings
from search.app import create_app as create_search
from search.settings import SearchSettings
from shared.contracts.carrier import CarrierInbound
from shared.contracts.dms import DMS_EVENT_TYPES
from shared.contracts.topics import (
    ALL_TOPICS,
    CARRIER_INBOUND,
    CONVERSATION_ASSIGNED,
    CONVERSATION_MERGED,
    DMS_EVENTS,
    DMS_REJECTED,
    EXPORT_COMPLETED,
    EXPORT_REQUESTED,
    MESSAGE_RECEIVED,
    SMS_OUTBOUND_REQUESTED,
    SMS_OUTBOUND_STATUS,
)
from shared.service import build_app, build_infrastructure
from shared.settings import ServiceSettings

SERVICES = {
    "ingest": lambda: create_ingest(IngestSettings()),
    "routing": lambda: create_routing(RoutingSettings()),
    "notifier": lambda: create_notifier(NotifierSettings()),
    "search": lambda: create_search(SearchSettings()),
    "exporter": lambda: create_exporter(ExporterSettings()),
}
CONTRACTS = {spec.name: spec.contract for spec in ALL_TOPICS}


async def _asyncapi(app: FastAPI) -> dict:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        answer = await client.get("/asyncapi.json")
    assert answer.status_code == 200
    return answer.json()


def _resolve(document: dict, reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def _deref(document: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(document, node["$ref"])
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _payloads(document: dict, action: str) -> dict[str, list[dict]]:
    """Topic -> the payload schema of each message an operation with `action` has on it."""
    found: dict[str, list[dict]] = {}
    for operation in document["operations"].values():
        if operation["action"] != action:
            continue
        channel = _resolve(document, operation["channel"]["$ref"])
        for reference in operation["messages"]:
            message = _deref(document, reference)
            found.setdefault(channel["address"], []).append(_deref(document, message["payload"]))
    return found


def _type_values(document: dict, schema: dict) -> set[str]:
    """The `type` values a (possibly oneOf) event schema allows."""
    values: set[str] = set()
    for alternative in schema.get("oneOf", [schema]):
        kind = _deref(document, alternative)["properties"]["type"]
        values.update(kind.get("enum", [kind.get("const")]))
    return values


async def test_routing_documents_the_dms_and_carrier_payloads():
    document = await _asyncapi(create_routing(RoutingSettings()))
    received = _payloads(document, "receive")

    (dms,) = received[DMS_EVENTS.name]
    assert dms["discriminator"] == "type"
    assert _type_values(document, dms) == set(DMS_EVENT_TYPES)
    booked = next(
        _deref(document, a) for a in dms["oneOf"] if _deref(document, a)["title"] == "AppointmentEvent"
    )
    payload = _deref(document, booked["properties"]["payload"])
    assert {"appointment_id", "dms_customer_id", "starts_at"} <= set(payload["required"])

    (inbound,) = received[CARRIER_INBOUND.name]
    assert set(inbound["properties"]) == set(CarrierInbound.model_json_schema()["properties"])
    assert {"carrier_message_id", "from_number", "to_number", "received_at"} <= set(inbound["required"])

    channel = next(c for c in document["channels"].values() if c["address"] == DMS_EVENTS.name)
    message = _deref(document, next(iter(channel["messages"].values())))
    assert message["bindings"]["kafka"]["key"]["description"] == DMS_EVENTS.key


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_consumed_topic_has_its_contract_schema(service):
    document = await _asyncapi(SERVICES[service]())
    received = _payloads(document, "receive")
    assert received, service
    for topic, payloads in received.items():
        expected = CONTRACTS[topic].__name__
        assert [payload.get("title") for payload in payloads] == [expected] * len(payloads), topic
        assert "properties" in payloads[0] or "oneOf" in payloads[0], topic
    assert "EmptyPayload" not in document["components"]["schemas"]
    for reference in _refs(document):
        _resolve(document, reference)  # every $ref leads somewhere


async def test_declared_published_topics_are_documented_with_their_contract():
    infra = build_infrastructure(ServiceSettings(service_name="publishing"))
    app = build_app(infra, title="t", description="d", routers=[], publishes=[DMS_EVENTS, DMS_REJECTED])
    document = await _asyncapi(app)
    sent = _payloads(document, "send")
    assert _type_values(document, sent[DMS_EVENTS.name][0]) == set(DMS_EVENT_TYPES)
    assert sent[DMS_REJECTED.name][0]["title"] == "DmsEventRejected"
    for reference in _refs(document):
        _resolve(document, reference)


@pytest.mark.parametrize(
    ("service", "written"),
    [
        ("ingest", {CARRIER_INBOUND, DMS_EVENTS, DMS_REJECTED}),
        ("routing", {MESSAGE_RECEIVED, CONVERSATION_ASSIGNED, CONVERSATION_MERGED, SMS_OUTBOUND_REQUESTED}),
        ("notifier", {SMS_OUTBOUND_STATUS}),
        ("exporter", {EXPORT_REQUESTED, EXPORT_COMPLETED}),
    ],
)
async def test_services_document_the_topics_they_write(service, written):
    sent = _payloads(await _asyncapi(SERVICES[service]()), "send")
    for spec in written:
        assert [payload.get("title") for payload in sent[spec.name]] == [spec.contract.__name__], spec.name


async def test_committed_dms_asyncapi_is_up_to_date_and_matches_the_services():
    assert ASYNCAPI_PATH.read_text() == render(), "run: .venv/bin/python -m devtools.dms_asyncapi"
    static = dms_asyncapi()
    for reference in _refs(static):
        _resolve(static, reference)
    (dms,) = _payloads(static, "receive")[DMS_EVENTS.name]
    assert _type_values(static, dms) == set(DMS_EVENT_TYPES)

    served = await _asyncapi(create_routing(RoutingSettings()))
    for name in ("CustomerUpserted", "AppointmentEvent", "RepairOrderEvent", "PaymentRecorded"):
        assert static["components"]["schemas"][name] == served["components"]["schemas"][name], name
