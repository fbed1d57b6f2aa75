"""Every answer of the API services carries the security headers (the web inbox sends its own,
with its Content-Security-Policy: services/web/tests)."""

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from exporter.app import create_app
from exporter.settings import ExporterSettings
from shared.http.security_headers import ApiSecurityHeaders
from tests.security.conftest import RunningServices, bearer

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _app(strict_transport_security: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/json")
    async def json_answer() -> dict:
        return {"ok": True}

    @app.get("/download")
    async def download() -> Response:
        return Response(b"%PDF", media_type="application/pdf", headers={"cache-control": "private, no-store"})

    app.add_middleware(ApiSecurityHeaders, strict_transport_security=strict_transport_security)
    return app


async def test_headers_are_added_without_overriding_what_a_route_set():
    transport = httpx.ASGITransport(app=_app(strict_transport_security=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        answer = await client.get("/json")
        download = await client.get("/download")
        missing = await client.get("/nowhere")
    for response in (answer, missing):
        assert {k: response.headers.get(k) for k in EXPECTED} == EXPECTED
        assert "strict-transport-security" not in response.headers
    assert download.headers.get_list("cache-control") == ["private, no-store"]
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_hsts_only_when_behind_tls():
    transport = httpx.ASGITransport(app=_app(strict_transport_security=True))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        response = await client.get("/json")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["ingest", "routing", "notifier", "search", "exporter"])
def test_every_service_answers_with_them(service, running: RunningServices, admin_token):
    base = running.url(service)
    for response in (
        httpx.get(f"{base}/healthz"),
        httpx.get(f"{base}/openapi.json"),
        httpx.get(f"{base}/api/v1/nowhere", headers=bearer(admin_token)),
        httpx.post(f"{base}/api/v1/nowhere"),
    ):
        assert {k: response.headers.get(k) for k in EXPECTED} == EXPECTED, (service, response.request.url)


@pytest.mark.parametrize(("environment", "expected"), [("true", True), ("false", False), (None, False)])
async def test_a_service_sends_hsts_when_its_deployment_says_https(monkeypatch, environment, expected):
    """Through a real service's wiring (exporter's app, built by shared/service.py), from the
    variable the production overlay sets (deploy/overlays/production:
    STRICT_TRANSPORT_SECURITY=true)."""
    if environment is None:
        monkeypatch.delenv("STRICT_TRANSPORT_SECURITY", raising=False)
    else:
        monkeypatch.setenv("STRICT_TRANSPORT_SECURITY", environment)
    app = create_app(ExporterSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    if expected:
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    else:
        assert "strict-transport-security" not in response.headers
