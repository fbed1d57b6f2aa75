"""The Conversations page paints its rows with one routing call; the menus' numbers come by the
page's own second request (`/conversations/counts`), each one out of band. Routing is a stand-in
here (httpx's MockTransport): what is checked is which calls web makes and what it renders."""

import re
from typing import Any

import httpx
import pytest

from web.app import create_app
from web.backend import Backend
from web.settings import WebSettings

ME = "00000000-0000-4000-8000-000000000001"
SAM = "00000000-0000-4000-8000-000000000002"
TEAM = "00000000-0000-4000-8000-0000000000aa"
ROW = "00000000-0000-4000-8000-0000000000c1"

ANSWERS: dict[str, Any] = {
    "/api/v1/me": {"id": ME, "name": "Alex Admin", "email": "a@x.test", "role": "admin", "account_id": "acc"},
    "/api/v1/account/settings": {"name": "Demo", "time_zone": "America/Toronto", "unanswered_after_hours": 4},
    "/api/v1/users": [
        {"id": ME, "name": "Alex Admin", "active": True},
        {"id": SAM, "name": "Sam Agent", "active": True},
    ],
    "/api/v1/teams": [{"id": TEAM, "name": "Service"}],
    "/api/v1/conversations": {
        "items": [
            {
                "id": ROW,
                "status": "open",
                "customer_name": "<b>Marie</b>",
                "customer_phone": "+15145550111",
                "assignee_user_id": SAM,
                "assignee_team_id": None,
                "last_activity_at": "2026-03-01T12:00:00+00:00",
                "last_message_preview": "Brakes?",
                "unread_for_me": False,
                "overdue": True,
                "assignee_has_not_read": True,
            }
        ],
        "next_cursor": None,
    },
    "/api/v1/conversations/counts": {
        "current": 1234,
        "views": {"mine": 7, "all": 1234, "unassigned": 3, "users": {SAM: 1200}, "teams": {TEAM: 24}},
        "status": {"open": 1234, "closed": 5000, "archived": 2, "all": 6234},
        "read": {"read": 1000, "unread": 234, "unanswered": 99},
    },
}


@pytest.fixture
def web() -> tuple[httpx.AsyncClient, list[str]]:
    asked: list[str] = []

    def routing(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if "limit" in request.url.params:
            asked.append(f"limit={request.url.params['limit']}")
        return httpx.Response(200, json=ANSWERS[request.url.path])

    settings = WebSettings()
    app = create_app(settings, Backend(settings, transport=httpx.MockTransport(routing)))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web.test", cookies={"sb_session": "token"}
    )
    return client, asked


def count(html: str, element_id: str) -> str:
    found = re.search(rf'<span class="count" id="{element_id}"[^>]*>([^<]*)</span>', html)
    assert found, f"no #{element_id}"
    return found.group(1)


async def test_the_page_paints_its_rows_without_waiting_for_the_counts(web) -> None:
    client, asked = web
    page = await client.get("/conversations?view=all&status=open")
    assert page.status_code == 200
    assert "/api/v1/conversations/counts" not in asked
    assert asked.count("/api/v1/conversations") == 1
    html = page.text
    assert 'data-conversation="' + ROW in html
    assert "&lt;b&gt;Marie&lt;/b&gt;" in html  # typed text stays text
    assert 'hx-get="/conversations/counts?view=all&amp;status=open"' in html
    assert count(html, "count-status-closed") == ""
    assert count(html, "count-view-all") == ""


async def test_the_counts_come_out_of_band_each_in_its_place(web) -> None:
    client, asked = web
    answer = await client.get("/conversations/counts?view=all&status=open", headers={"hx-request": "true"})
    assert answer.status_code == 200
    assert asked.count("/api/v1/conversations/counts") == 1
    assert "/api/v1/conversations" not in asked
    html = answer.text
    assert '<div id="list-counts" hidden data-loaded></div>' in html
    assert count(html, "count-status-closed") == "5,000"
    assert count(html, f"count-view-user-{SAM}") == "1,200"
    assert count(html, f"count-view-team-{TEAM}") == "24"
    assert count(html, "count-view-mine") == "7"
    assert count(html, "count-current-view") == "1,234"
    assert count(html, "count-read-unanswered") == "99"
    assert html.count('hx-swap-oob="true"') >= 12
    assert 'data-total="1234"' in html and "1,234 conversations" in html
    assert "Select all 1,234 that match" in html


async def test_a_live_refresh_keeps_the_numbers_shown_until_its_own_arrive(web) -> None:
    client, _ = web
    headers = {"hx-request": "true", "hx-target": "conversation-list", "hx-trigger": "list-refresh"}
    refreshed = await client.get("/conversations?view=all&status=open", headers=headers)
    assert re.search(r'id="count-status-open" hx-preserve', refreshed.text)
    # ... and asks for them when static/live.js says they are due (at most once a second).
    assert 'hx-trigger="counts-due"' in refreshed.text
    chosen = await client.get(
        "/conversations?view=all&status=closed", headers={**headers, "hx-trigger": "status-menu"}
    )
    assert "hx-preserve" not in chosen.text
    assert re.search(r'id="list-counts"[^>]*hx-trigger="load"', chosen.text)


async def test_a_live_refresh_asks_for_the_rows_the_page_shows(web) -> None:
    client, asked = web
    headers = {"hx-request": "true", "hx-target": "conversation-list", "hx-trigger": "list-refresh"}
    for shown in ("75", "100000", "nonsense", "3"):
        await client.get(f"/conversations?view=all&status=open&shown={shown}", headers=headers)
    assert [line for line in asked if line.startswith("limit=")] == [
        "limit=75",
        "limit=200",
        "limit=50",
        "limit=50",
    ]
