"""Wires the exporter service. Rendering arrives with the export issue; today it serves its
operational endpoints and owns its schema."""

from fastapi import FastAPI

from exporter.settings import ExporterSettings
from shared.service import build_app, build_infrastructure


def create_app(settings: ExporterSettings) -> FastAPI:
    infra = build_infrastructure(settings)
    return build_app(
        infra,
        title="Switchboard exporter",
        description="Conversation transcripts as PDF, delivered by e-mailed, signed links.",
        routers=[],
    )
