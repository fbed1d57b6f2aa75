"""Wires one service process: FastAPI for HTTP and a FastStream Kafka broker in the same process,
sharing one lifespan. Each service's `app.py` is the only caller; it passes its own routers,
consumers and periodic jobs, and this module builds nothing from globals."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.contracts.topics import ALL_TOPICS, TopicSpec
from shared.db.engine import create_engine, create_session_factory, ping
from shared.http.errors import install_error_handlers
from shared.http.observability import ReadinessCheck, RequestMetrics, observability_router
from shared.http.security_headers import ApiSecurityHeaders
from shared.kafka.asyncapi import with_contract_payloads
from shared.kafka.broker import EventPublisher, build_broker, start_broker
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
        publisher=EventPublisher(broker, settings, registry),
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
    preflight: Sequence[Callable[[], Awaitable[None]]] = (),
) -> FastAPI:
    """`publishes` lists the topics the service writes, for its AsyncAPI document only (it
    publishes through `infra.publisher` whatever this says). `preflight` checks run first, before
    Kafka is touched: one that raises stops the process (production's refusals)."""
    settings = infra.settings

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for check in preflight:
            await check()
        created = await ensure_topics(settings)
        if created:
            log.info("topics created", topics=created)
        await start_broker(infra.broker)
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

    # Traces and metrics come from RequestMetrics (one pure ASGI middleware, one span per
    # request); FastAPI's own telemetry would record a second set of each.
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(RequestMetrics, registry=infra.registry, tracer_provider=infra.tracer_provider)
    app.add_middleware(ApiSecurityHeaders, strict_transport_security=settings.strict_transport_security)
    app.include_router(observability_router(settings.service_name, infra.registry, infra.readiness_checks))
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

    return app


async def _supervise(job: BackgroundJob, stop: asyncio.Event) -> None:
    """A failing job is logged and restarted after a pause; it never takes the process down."""
    while not stop.is_set():
        try:
            await job(stop)
        except Exception:
            log.exception("background job failed; restarting", job=getattr(job, "__name__", job))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
