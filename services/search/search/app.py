"""Wires the search service."""

import httpx
from fastapi import FastAPI

from search.api.search import search_router
from search.consumers.feeds import register_consumers
from search.settings import SearchSettings
from shared.http.staff import CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.service import build_app, build_infrastructure


def create_app(settings: SearchSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    register_consumers(infra, settings)
    auth_http = httpx.AsyncClient(timeout=settings.auth_timeout_seconds)
    # Staff only (service tokens get 403), checked against routing's users every few seconds.
    auth = CurrentStaffAuthenticated(
        settings,
        RoutingStaffDirectory(settings, auth_http, settings.routing_url),
        cache_seconds=settings.auth_cache_seconds,
    )
    return build_app(
        infra,
        title="Switchboard search",
        description="One search box over customers, conversations, messages and DMS records.",
        routers=[search_router(infra.sessions, auth)],
        on_shutdown=[auth_http.aclose],
    )
