"""CurrentStaffAuthenticated when routing cannot be asked, and its cache's bound."""

from uuid import uuid4

import httpx
from fastapi import Depends, FastAPI

from shared.http.auth import Principal, issue_token
from shared.http.errors import install_error_handlers
from shared.http.staff import CurrentRoleCache, CurrentStaffAuthenticated, RoutingStaffDirectory
from shared.settings import ServiceSettings


async def test_routing_unreachable_refuses_with_a_clear_503():
    settings = ServiceSettings(service_name="exporter")
    async with httpx.AsyncClient(timeout=2) as http:
        # Nothing listens on the discard port: the connection is refused.
        auth = CurrentStaffAuthenticated(
            settings, RoutingStaffDirectory(settings, http, "http://127.0.0.1:9")
        )
        app = FastAPI()
        install_error_handlers(app)

        @app.get("/probe")
        async def probe(caller: Principal = Depends(auth)) -> dict:
            return {"role": caller.role}

        token = issue_token(settings, str(uuid4()), uuid4(), "admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            answer = await client.get("/probe", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "auth_unavailable"


def test_the_cache_stays_bounded_and_forgets_after_its_ttl():
    now = [0.0]
    cache = CurrentRoleCache(5, clock=lambda: now[0], max_entries=3)
    account = uuid4()
    users = [uuid4() for _ in range(10)]
    for user in users:
        cache.put(account, user, "agent")
        assert len(cache) <= 3
    assert cache.get(account, users[-1]) == (True, "agent")
    now[0] += 5
    assert cache.get(account, users[-1]) == (False, None)
