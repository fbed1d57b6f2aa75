"""Wires the search service."""

from fastapi import FastAPI

from search.api.search import search_router
from search.consumers.feeds import register_consumers
from search.settings import SearchSettings
from shared.http.auth import Authenticated
from shared.service import build_app, build_infrastructure


def create_app(settings: SearchSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    register_consumers(infra, settings)
    return build_app(
        infra,
        title="Switchboard search",
        description="One search box over customers, conversations, messages and DMS records.",
        routers=[search_router(infra.sessions, Authenticated(settings))],
    )
