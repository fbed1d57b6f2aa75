"""The dealership switcher (dealer groups): shown in the top bar only to someone who works at more
than one open dealership; switching asks routing for the other dealership's token and puts it in
the session cookie. Routing and notifier are stand-ins (httpx's MockTransport): what is checked
is what web shows and asks."""

import json
import re

import httpx
import pytest

from web.app import create_app
from web.backend import Backend
from web.settings import WebSettings

HERE, THERE, CLOSED = (
    "00000000-0000-4000-8000-0000000000a1",
    "00000000-0000-4000-8000-0000000000a2",
    "00000000-0000-4000-8000-0000000000a3",
)


def dealership(account_id: str, name: str, current: bool = False, suspended: bool = False) -> dict:
    return {
        "account_id": account_id,
        "name": name,
        "role": "agent",
        "current": current,
        "suspended": suspended,
    }


def web_for(dealerships: list[dict]) -> tuple[httpx.AsyncClient, list[tuple[str, str, object]]]:
    asked: list[tuple[str, str, object]] = []
    answers = {
        "/api/v1/me": {
            "id": "00000000-0000-4000-8000-000000000001",
            "name": "Gabrielle <Group>",
            "email": "g@x.test",
            "role": "agent",
            "account_id": HERE,
            "dealerships": dealerships,
        },
        "/api/v1/account/settings": {
            "name": "Laval Autos",
            "time_zone": "America/Toronto",
            "unanswered_after_hours": 4,
        },
        "/api/v1/notification-preferences": {"email": {}},
        "/api/v1/auth/switch": {"access_token": "token-of-there", "token_type": "bearer"},
    }

    def backend(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        asked.append((request.method, request.url.path, body))
        if request.url.path == "/api/v1/auth/switch" and body["account_id"] != THERE:
            return httpx.Response(
                404, json={"error": {"code": "not_found", "message": "dealership not found"}}
            )
        return httpx.Response(200, json=answers[request.url.path])

    settings = WebSettings()
    app = create_app(settings, Backend(settings, transport=httpx.MockTransport(backend)))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://web.test",
        cookies={"sb_session": "token-of-here"},
    )
    return client, asked


@pytest.mark.parametrize(
    "dealerships",
    [
        [],
        [dealership(HERE, "Laval Autos", current=True)],
        [dealership(HERE, "Laval Autos", current=True), dealership(CLOSED, "Closed Motors", suspended=True)],
    ],
)
async def test_no_switcher_for_someone_of_one_open_dealership(dealerships):
    web, _ = web_for(dealerships)
    async with web:
        page = await web.get("/profile")
    assert page.status_code == 200
    assert 'id="dealership-choice"' not in page.text


async def test_a_group_member_switches_and_the_session_cookie_holds_the_other_dealerships_token():
    web, asked = web_for(
        [
            dealership(THERE, "Brossard <Motors>"),
            dealership(HERE, "Laval Autos", current=True),
            dealership(CLOSED, "Closed Motors", suspended=True),
        ]
    )
    async with web:
        page = await web.get("/profile")
        assert page.status_code == 200
        options = re.findall(r'<option value="([^"]+)"( selected)?>([^<]*)</option>', page.text)
        # Open dealerships only, this one selected, names shown as text.
        assert options == [(THERE, "", "Brossard &lt;Motors&gt;"), (HERE, " selected", "Laval Autos")]
        csrf = web.cookies.get("csrftoken")
        switched = await web.post("/dealership", data={"account_id": THERE, "csrftoken": csrf})
        assert switched.status_code == 303 and switched.headers["location"] == "/conversations"
        assert "sb_session=token-of-there" in switched.headers["set-cookie"]
        assert ("POST", "/api/v1/auth/switch", {"account_id": THERE}) in asked

        refused = await web.post("/dealership", data={"account_id": CLOSED, "csrftoken": csrf})
        assert refused.status_code == 404
        assert "sb_session=" not in refused.headers.get("set-cookie", "")  # they stay where they are
        not_an_id = await web.post("/dealership", data={"account_id": "nope", "csrftoken": csrf})
        assert not_an_id.status_code == 404
