"""A dealership's usage in the operator API: routing asks the services that count it (ingest,
notifier, exporter: here their usage endpoint, the shared one each of them mounts, behind the same
operator-token check, on real HTTP ports) with the operator's own token and adds their counts up;
a service that cannot answer is named, never a 500; the month is checked."""

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from routing.platform.routes import platform_router
from routing.settings import RoutingSettings
from shared.http.errors import install_error_handlers
from shared.http.usage import UsageMonth, usage_router
from shared.settings import ServiceSettings
from shared.testing.http_server import serving
from shared.testing.ports import free_port

OPS_TOKEN = "ops-" + secrets.token_urlsafe(24)
OPS = {"authorization": f"Bearer {OPS_TOKEN}"}


def counting_service(name: str, counts: dict[str, int], asked: list, token: str = OPS_TOKEN) -> FastAPI:
    """A service's usage endpoint as each mounts it (shared/http/usage.py), counting `counts`."""

    async def read(account_id: UUID, month: UsageMonth) -> dict[str, int]:
        asked.append((name, account_id, str(month)))
        return counts

    app = FastAPI()
    install_error_handlers(app)
    settings = ServiceSettings(service_name=name, operator_tokens=SecretStr(f"ops={token}"))
    app.include_router(usage_router(settings, read, "test"))
    return app


@pytest.fixture
async def ops(routing_database_url, sessions) -> AsyncIterator[tuple[httpx.AsyncClient, list]]:
    asked: list = []
    async with (
        serving(counting_service("ingest", {"texts_in": 12}, asked)) as ingest,
        serving(
            counting_service("notifier", {"texts_out": 7, "segments_out": 9, "undelivered": 1}, asked)
        ) as notifier,
        # This one holds another Secret: routing's caller is refused there, its counts left out.
        serving(counting_service("exporter", {"exports": 2}, asked, token="other")) as exporter,
    ):
        settings = RoutingSettings(
            database_url=routing_database_url,
            operator_tokens=SecretStr(f"ops={OPS_TOKEN}"),
            ingest_url=ingest,
            notifier_url=notifier,
            exporter_url=exporter,
        )
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(platform_router(settings, sessions))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://routing"
        ) as http:
            yield http, asked


async def test_a_dealership_shows_the_usage_each_service_counted(ops, dealer):
    client, asked = ops
    answer = await client.get(
        f"/platform/v1/dealerships/{dealer.account_id}", params={"month": "2026-11"}, headers=OPS
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"] == {
        "month": "2026-11",
        "texts_in": 12,
        "texts_out": 7,
        "segments_out": 9,
        "undelivered": 1,
        "unavailable": ["exporter"],
    }
    assert sorted(asked) == [
        ("ingest", dealer.account_id, "2026-11"),
        ("notifier", dealer.account_id, "2026-11"),
    ]

    current = (await client.get(f"/platform/v1/dealerships/{dealer.account_id}", headers=OPS)).json()
    assert current["usage"]["month"] == str(UsageMonth.of(datetime.now(UTC)))


async def test_a_bad_month_is_refused_and_nobody_is_asked(ops, dealer):
    client, asked = ops
    for month in ("2026-13", "11/2026"):
        answer = await client.get(
            f"/platform/v1/dealerships/{dealer.account_id}", params={"month": month}, headers=OPS
        )
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_month"
    assert asked == []


async def test_services_down_leave_the_dealership_shown(routing_database_url, sessions, dealer):
    down = f"http://127.0.0.1:{free_port()}"
    settings = RoutingSettings(
        database_url=routing_database_url,
        operator_tokens=SecretStr(f"ops={OPS_TOKEN}"),
        ingest_url=down,
        notifier_url=down,
        exporter_url=down,
        usage_timeout_seconds=1.0,
    )
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(platform_router(settings, sessions))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing") as http:
        answer = await http.get(f"/platform/v1/dealerships/{dealer.account_id}", headers=OPS)
    assert answer.status_code == 200
    assert answer.json()["usage"]["unavailable"] == ["ingest", "notifier", "exporter"]
