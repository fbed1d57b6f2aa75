"""Wires one service process: FastAPI for HTTP and a FastStream Kafka broker in the same process,
sharing one lifespan. Each service's `app.py` is the only caller; it passes its own routers,
consumers and periodic jobs, and this module builds nothing from globals."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import structlog
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from pydantic.json_schema import models_json_schema
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts.topics import ALL_TOPICS, TopicSpec
from shared.db.engine import create_engine, create_session_factory, ping
from shared.http.errors import install_error_handlers
from shared.http.observability import ReadinessCheck, RequestMetrics, observability_router
from shared.http.redaction import redact_request_span
from shared.kafka.broker import EventPublisher, build_broker
from shared.kafka.topics import ensure_topics
from shared.settings import ServiceSettings
from shared.telemetry import setup_logging, setup_tracing

log = structlog.get_logger(__name__)

# A periodic job runs until `stop` is set; every replica runs it, so it must lock what it takes.
BackgroundJob = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class Infrastructure:
    """The connections a service's code receives explicitly."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    publisher: EventPublisher
    registry: CollectorRegistry
    tracer_provider: TracerProvider
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)


def build_infrastructure(settings: ServiceSettings) -> Infrastructure:
    setup_logging(settings)
    tracer_provider = setup_tracing(settings)
    registry = CollectorRegistry()
    engine = create_engine(settings)
    broker = build_broker(settings, tracer_provider, registry)
    infra = Infrastructure(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        broker=broker,
        publisher=EventPublisher(broker, settings),
        registry=registry,
        tracer_provider=tracer_provider,
    )
    infra.readiness_checks["database"] = lambda: ping(engine)
    infra.readiness_checks["kafka"] = lambda: _ping_kafka(broker)
    return infra


async def _ping_kafka(broker: KafkaBroker) -> None:
    if not await broker.ping(timeout=2.0):
        raise ConnectionError("Kafka does not answer")


def build_app(
    infra: Infrastructure,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    background_jobs: Sequence[BackgroundJob] = (),
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    publishes: Sequence[TopicSpec] = (),
) -> FastAPI:
    """`publishes` lists the topics the service writes, for its AsyncAPI document only (it
    publishes through `infra.publisher` whatever this says)."""
    settings = infra.settings

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        created = await ensure_topics(settings)
        if created:
            log.info("topics created", topics=created)
        await infra.broker.start()
        for hook in on_startup:
            await hook()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_supervise(job, stop)) for job in background_jobs]
        log.info("service started", port=settings.http_port)
        try:
            yield
        finally:
            stop.set()
            # Stops consuming, lets in-flight handlers finish and commits their offsets.
            await infra.broker.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            for hook in on_shutdown:
                await hook()
            await infra.engine.dispose()
            infra.tracer_provider.shutdown()
            log.info("service stopped")

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(RequestMetrics, registry=infra.registry)
    app.include_router(observability_router(infra.registry, infra.readiness_checks))
    for router in routers:
        app.include_router(router)

    for spec in publishes:
        # Declares the topic to FastStream so the document lists it; a FastStream publisher does
        # nothing at start, and the service's events still go out through EventPublisher.
        infra.broker.publisher(
            infra.publisher.topic(spec),
            title=f"{settings.service_name}:{spec.name}:publish",
            description=spec.description,
            schema=spec.contract,
        )
    asyncapi = AsyncAPI(infra.broker, title=f"{title} events", description=description)
    contracts = {infra.publisher.topic(spec): spec for spec in ALL_TOPICS}

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the Kafka side")
    async def asyncapi_document() -> dict:
        return with_contract_payloads(asyncapi.to_specification().to_jsonable(), contracts)

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=infra.tracer_provider,
        excluded_urls="healthz,readyz,metrics",
        server_request_hook=redact_request_span,
    )
    return app


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


async def _supervise(job: BackgroundJob, stop: asyncio.Event) -> None:
    """A failing job is logged and restarted after a pause; it never takes the process down."""
    while not stop.is_set():
        try:
            await job(stop)
        except Exception:
            log.exception("background job failed; restarting", job=getattr(job, "__name__", job))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
