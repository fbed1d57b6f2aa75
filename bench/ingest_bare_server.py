"""The baseline for bench/ingest_checks.py: ingest's own server stack — the same `build_app`
(error handlers, request metrics, OpenTelemetry, lifespan with the Kafka broker), the same
uvicorn configuration (`shared.runner.serve`, one process) and the same settings from the
environment, the same route class, form reading and answer as ingest's Twilio webhooks
(`RequestOnlyRoute`, `read_form`, `TwimlAnswer`) — with one bare webhook endpoint that reads the
form body and answers ingest's empty TwiML, doing none of ingest's checks (no signature, no
database, no Kafka publish).

    HTTP_PORT=9000 .venv/bin/python bench/ingest_bare_server.py
"""

import sys
from pathlib import Path

from fastapi import APIRouter, Request, Response

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.api.request_only_route import RequestOnlyRoute  # noqa: E402
from ingest.api.twilio import TwimlAnswer, read_form  # noqa: E402
from ingest.settings import IngestSettings  # noqa: E402
from ingest.usecases.common import Outcome  # noqa: E402
from shared.runner import serve  # noqa: E402
from shared.service import build_app, build_infrastructure  # noqa: E402


def bare_router(settings: IngestSettings) -> APIRouter:
    router = APIRouter(route_class=RequestOnlyRoute)

    @router.post("/bare/webhook", response_class=Response)
    async def bare(request: Request) -> Response:
        await read_form(request, settings)
        return TwimlAnswer(Outcome.ACCEPTED)

    return router


def main() -> None:
    settings = IngestSettings(service_name="ingest-bare")
    infra = build_infrastructure(settings)
    app = build_app(infra, title="bare baseline", description="no checks", routers=[bare_router(settings)])
    serve(app, settings)


if __name__ == "__main__":
    main()
