"""Wires the exporter service: the exports API, the export.requested.v1 consumer, the relay
of job events Kafka did not acknowledge at once and the cleanup of expired PDFs."""

from datetime import timedelta

import httpx
from fastapi import FastAPI

from exporter.api.exports import exports_router
from exporter.consumers.export_requests import register_export_consumer
from exporter.links import DownloadLinks
from exporter.routing_client import RoutingClient
from exporter.settings import ExporterSettings
from exporter.storage.chosen import pdf_store_for
from exporter.usage import USAGE_DESCRIBED, usage_reader
from exporter.usecases.events import JobEvents
from exporter.usecases.expire_files import ExpiredFileSweeper
from exporter.usecases.relay import ExportOutboxRelay
from exporter.usecases.run_export import ExportRunner, RenderPolicy
from shared.contracts.topics import EXPORT_COMPLETED, EXPORT_REQUESTED
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.http.usage import usage_router
from shared.service import build_app, build_infrastructure


def create_app(settings: ExporterSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    http = httpx.AsyncClient(base_url=settings.routing_url, timeout=settings.routing_timeout_seconds)
    auth_http = httpx.AsyncClient(timeout=settings.auth_timeout_seconds)
    auth = CurrentStaffAuthenticated(
        settings,
        RoutingStaffDirectory(settings, auth_http, settings.routing_url),
        cache_seconds=settings.auth_cache_seconds,
    )
    links = DownloadLinks(settings.link_secret(), timedelta(days=settings.download_link_days))
    storage = pdf_store_for(settings)
    events = JobEvents(infra.sessions, infra.publisher, links, settings.public_url())
    runner = ExportRunner(
        infra.sessions,
        RoutingClient(http, settings),
        storage,
        links,
        events,
        RenderPolicy(
            chunk_size=settings.render_chunk_size,
            page_size=settings.routing_page_size,
            attempts=settings.render_attempts,
            retry_initial_seconds=settings.render_retry_initial_seconds,
            lease_seconds=settings.render_lease_seconds,
        ),
    )
    register_export_consumer(infra, runner)
    relay = ExportOutboxRelay(infra.sessions, events, timedelta(seconds=settings.outbox_retry_seconds))
    sweeper = ExpiredFileSweeper(
        infra.sessions,
        storage,
        grace=timedelta(hours=settings.expired_file_grace_hours),
        interval=timedelta(seconds=settings.expired_file_sweep_seconds),
    )
    return build_app(
        infra,
        title="Switchboard exporter",
        description="Conversation transcripts as PDF, delivered by e-mailed, signed links.",
        publishes=[EXPORT_REQUESTED, EXPORT_COMPLETED],
        routers=[
            exports_router(infra.sessions, auth, events, links, storage),
            usage_router(settings, usage_reader(infra.sessions), USAGE_DESCRIBED),
        ],
        background_jobs=[relay.run, sweeper.run],
        on_startup=[storage.start],
        on_shutdown=[http.aclose, auth_http.aclose, storage.close],
    )
