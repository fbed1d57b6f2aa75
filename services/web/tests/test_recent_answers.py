"""Who a session is and the staff directory are reused for a few seconds between pages, per
token, and asked again after the person changes them."""

import httpx

from web.backend import Backend
from web.settings import WebSettings


def counting_backend() -> tuple[Backend, list[str]]:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path} {request.headers['authorization']}")
        return httpx.Response(200, json={"path": request.url.path})

    return Backend(WebSettings(recent_answers_seconds=60), transport=httpx.MockTransport(answer)), asked


async def test_a_recent_answer_is_reused_for_the_same_token_only() -> None:
    backend, asked = counting_backend()
    first, second, other = backend.as_user("a"), backend.as_user("a"), backend.as_user("b")
    assert await first.get_recent("routing", "/api/v1/me") == {"path": "/api/v1/me"}
    assert await second.get_recent("routing", "/api/v1/me") == {"path": "/api/v1/me"}
    await other.get_recent("routing", "/api/v1/me")
    assert asked == ["GET /api/v1/me Bearer a", "GET /api/v1/me Bearer b"]


async def test_a_change_by_the_person_is_seen_on_their_next_page() -> None:
    backend, asked = counting_backend()
    api = backend.as_user("a")
    await api.get_recent("routing", "/api/v1/teams")
    await api.post("routing", "/api/v1/conversations/x/read")  # not what is kept: still reused
    await api.get_recent("routing", "/api/v1/teams")
    await api.patch("routing", "/api/v1/teams/t", json={"name": "Body shop"})
    await api.get_recent("routing", "/api/v1/teams")
    assert [line for line in asked if line.startswith("GET")] == ["GET /api/v1/teams Bearer a"] * 2
