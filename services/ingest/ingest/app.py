"""Wires the ingest service."""

from datetime import timedelta

import httpx
from fastapi import FastAPI

from ingest.api.carrier_accounts import carrier_accounts_router
from ingest.api.dms import dms_router
from ingest.api.dms_integrations import dms_integrations_router
from ingest.api.telnyx import telnyx_router
from ingest.api.twilio import twilio_router
from ingest.api.unavailable import install_unavailable_handlers
from ingest.carriers.apis import CarrierApis
from ingest.catch_up_job import catch_up_job
from ingest.catch_up_metrics import CatchUpMetrics
from ingest.consumers import register_consumers
from ingest.gc_tuning import freeze_startup_objects
from ingest.production_checks import refuse_demo_credentials
from ingest.repository import TelnyxKeys, TwilioCredentials
from ingest.settings import IngestSettings
from ingest.usage_repository import USAGE_DESCRIBED, usage_reader
from ingest.usecases.catch_up import CatchUpDeps
from ingest.usecases.common import WebhookDeps
from ingest.usecases.dms import DmsDeps
from shared.contracts.topics import (
    CARRIER_INBOUND,
    CARRIER_REJECTED,
    CARRIER_STATUS,
    DMS_EVENTS,
    DMS_REJECTED,
)
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.http.usage import usage_router
from shared.production import PRODUCTION
from shared.service import build_app, build_infrastructure


def create_app(settings: IngestSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    deps = WebhookDeps(
        sessions=infra.sessions,
        publisher=infra.publisher,
        credentials=TwilioCredentials(infra.sessions, settings.credentials_cache_seconds),
        telnyx_keys=TelnyxKeys(infra.sessions, settings.credentials_cache_seconds),
        telnyx_tolerance_seconds=settings.telnyx_timestamp_tolerance_seconds,
    )
    dms = DmsDeps(
        infra.sessions,
        infra.publisher,
        settings.dms_max_batch,
        timedelta(seconds=settings.dms_last_used_every_seconds),
    )
    register_consumers(infra, settings, infra.sessions)
    auth_http = httpx.AsyncClient(timeout=settings.auth_timeout_seconds)
    # Carrier credentials are admin business: staff tokens, checked against routing's users.
    staff = CurrentStaffAuthenticated(
        settings,
        RoutingStaffDirectory(settings, auth_http, settings.routing_url),
        cache_seconds=settings.auth_cache_seconds,
    )
    carrier_http = httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.carrier_timeout_seconds, connect=min(5.0, settings.carrier_timeout_seconds)
        ),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )
    catch_up = CatchUpDeps(
        sessions=infra.sessions,
        publisher=infra.publisher,
        apis=CarrierApis(carrier_http, settings.twilio_api_base_url, settings.telnyx_api_base_url),
        settings=settings,
        metrics=CatchUpMetrics.on(infra.registry),
    )
    app = build_app(
        infra,
        title="Switchboard ingest",
        description="Carrier webhooks (Twilio, Telnyx) and DMS events: verified, deduplicated, "
        "handed to Kafka.",
        publishes=[CARRIER_INBOUND, CARRIER_STATUS, CARRIER_REJECTED, DMS_EVENTS, DMS_REJECTED],
        routers=[
            twilio_router(settings, deps),
            telnyx_router(settings, deps),
            dms_router(dms, settings.dms_max_body_bytes),
            carrier_accounts_router(deps, staff),
            dms_integrations_router(
                infra.sessions, staff, timedelta(hours=settings.dms_secret_overlap_hours)
            ),
            usage_router(settings, usage_reader(infra.sessions), USAGE_DESCRIBED),
        ],
        background_jobs=[catch_up_job(catch_up)] if settings.catch_up_enabled else [],
        on_startup=[freeze_startup_objects],
        on_shutdown=[auth_http.aclose, carrier_http.aclose],
        preflight=[lambda: refuse_demo_credentials(infra.sessions)]
        if settings.environment == PRODUCTION
        else [],
    )
    install_unavailable_handlers(app)
    app.state.catch_up = catch_up
    return app
