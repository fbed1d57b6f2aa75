"""Runs a service app under uvicorn with a graceful shutdown window."""

import uvicorn
from fastapi import FastAPI

from shared.settings import HttpProcessSettings


def serve(app: FastAPI, settings: HttpProcessSettings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
    )
    uvicorn.Server(config).run()
