"""The services' AsyncAPI documents carry each topic's real contract.

FastStream documents a handler's parameters, and our consumers take the raw message and validate
the bytes themselves (so that a bad message is dead-lettered: shared/kafka/consumer.py), so on its
own it can only say "empty payload". These functions put the contracts' JSON Schemas in."""

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from pydantic.json_schema import models_json_schema

from shared.contracts.topics import TopicSpec


def contract_schemas(contracts: Iterable[type]) -> tuple[dict[type, dict], dict[str, dict]]:
    """The JSON Schema of each contract as AsyncAPI wants it: a `$ref` per contract, and the
    schemas (nested models included, each once) for `components.schemas`. Validation mode: what
    consumers accept."""
    refs, top = models_json_schema(
        [(contract, "validation") for contract in dict.fromkeys(contracts)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = {name: _asyncapi_schema(schema) for name, schema in top.get("$defs", {}).items()}
    return {contract: ref for (contract, _mode), ref in refs.items()}, schemas


def _asyncapi_schema(schema: Any) -> Any:
    """AsyncAPI 3.0's schema object takes the discriminator as the property name alone (the
    values stay in each alternative's `type`)."""
    if isinstance(schema, list):
        return [_asyncapi_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _asyncapi_schema(value) for key, value in schema.items()}
    if isinstance(converted.get("discriminator"), dict):
        converted["discriminator"] = converted["discriminator"]["propertyName"]
    return converted


def with_contract_payloads(document: dict, contracts: Mapping[str, TopicSpec]) -> dict:
    """Gives each message of a channel whose address is a declared topic the JSON Schema of the
    topic's contract, and its key as the Kafka message key. FastStream documents a handler's
    parameters, and our consumers take the raw message and validate the bytes themselves (so that
    a bad message is dead-lettered: shared/kafka/consumer.py), so it can only say "empty"."""
    components = document.setdefault("components", {})
    messages = components.setdefault("messages", {})
    schemas = components.setdefault("schemas", {})
    documented: dict[str, TopicSpec] = {}  # message name -> topic
    for channel in document.get("channels", {}).values():
        spec = contracts.get(channel.get("address", ""))
        if spec is None:
            continue
        for reference in channel.get("messages", {}).values():
            documented[_pointer_tail(reference["$ref"], "#/components/messages/")] = spec
    if not documented:
        return document
    refs, contract_defs = contract_schemas(spec.contract for spec in documented.values())
    replaced = set()
    for name, spec in documented.items():
        message = messages[name]
        payload_ref = message.get("payload", {}).get("$ref", "")
        if payload_ref.startswith("#/components/schemas/"):
            replaced.add(_pointer_tail(payload_ref, "#/components/schemas/"))
        message["payload"] = dict(refs[spec.contract])
        message["bindings"] = {
            "kafka": {
                "key": {"type": "string", "description": spec.key},
                "bindingVersion": "0.4.0",
            }
        }
    # What FastStream put there instead ("EmptyPayload", or its own rendering of a publisher's
    # schema), unless a message we left alone still points at it.
    still_used = {
        _pointer_tail(message["payload"]["$ref"], "#/components/schemas/")
        for name, message in messages.items()
        if name not in documented and "$ref" in message.get("payload", {})
    }
    for name in replaced - still_used:
        schemas.pop(name, None)
    schemas.update(contract_defs)
    return document


def _pointer_tail(reference: str, prefix: str) -> str:
    """The name a `$ref` of `prefix` points at (FastStream escapes it as a URI fragment)."""
    return unquote(reference.removeprefix(prefix)).replace("~1", "/").replace("~0", "~")
