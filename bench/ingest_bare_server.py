"""The baseline for bench/ingest_checks.py: ingest's own server stack — the same `build_app`
(error handlers, request metrics, OpenTelemetry, lifespan with the Kafka broker), the same
uvicorn configuration (`shared.runner.serve`, one process) and the same settings from the
environment — with one bare webhook endpoint that reads the form body and answers ingest's
empty TwiML, doing none of ingest's checks (no signature, no database, no Kafka publish).

    HTTP_PORT=9000 .venv/bin/python bench/ingest_bare_server.py
"""

import sys
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.api.twilio import EMPTY_TWIML  # noqa: E402
from ingest.settings import IngestSettings  # noqa: E402
from shared.runner import serve  # noqa: E402
from shared.service import build_app, build_infrastructure  # noqa: E402


def bare_router() -> APIRouter:
    router = APIRouter()

    @router.post("/bare/webhook", response_class=Response)
    async def bare(request: Request) -> Response:
        dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        return Response(EMPTY_TWIML, media_type="text/xml", headers={"x-switchboard-outcome": "accepted"})

    return router


def main() -> None:
    settings = IngestSettings(service_name="ingest-bare")
    infra = build_infrastructure(settings)
    app = build_app(infra, title="bare baseline", description="no checks", routers=[bare_router()])
    serve(app, settings)


if __name__ == "__main__":
    main()
