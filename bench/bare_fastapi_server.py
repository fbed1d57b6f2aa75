"""The floor for bench/ingest_edge.py: a bare FastAPI app — one route that reads the form body
and answers ingest's empty TwiML, no middleware, no lifespan, no database, no Kafka — in one
uvicorn process with uvicorn's defaults (uvloop and httptools when installed, as for the services).

    HTTP_PORT=9000 .venv/bin/python bench/bare_fastapi_server.py
"""

import os
from urllib.parse import parse_qsl

import uvicorn
from fastapi import FastAPI, Request, Response

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

app = FastAPI()


@app.post("/bare/webhook", response_class=Response)
async def bare(request: Request) -> Response:
    dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    return Response(EMPTY_TWIML, media_type="text/xml")


@app.get("/readyz")
async def readyz() -> dict:
    return {"service": "bare-fastapi", "ready": True}


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["HTTP_PORT"]), log_level="warning", access_log=False
    )
