"""Runs a service app under uvicorn with a graceful shutdown window."""

import uvicorn
from fastapi import FastAPI

from shared.settings import HttpProcessSettings


def server_config(app: FastAPI, settings: HttpProcessSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        lifespan="on",
    )


def serve(app: FastAPI, settings: HttpProcessSettings) -> None:
    uvicorn.Server(server_config(app, settings)).run()
