"""The backend client over a real socket (aiohttp, as in production): what it sends (token,
query, JSON body, extra headers) and how each kind of answer becomes a page's exception."""

from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from web.backend import Backend, NotFound, Refused, SessionExpired, Unavailable
from web.settings import WebSettings


async def owner(request: web.Request) -> web.Response:
    """A stand-in for routing: echoes what it was sent, or answers with the status asked."""
    answer = request.match_info["answer"]
    if answer == "echo":
        return web.json_response(
            {
                "method": request.method,
                "query": [[key, value] for key, value in request.query.items()],
                "authorization": request.headers.get("authorization"),
                "idempotency": request.headers.get("idempotency-key"),
                "cookie": request.headers.get("cookie"),
                "body": orjson.loads(await request.read()) if request.can_read_body else None,
            },
            headers={"set-cookie": "kept=no; Path=/"},
        )
    if answer == "empty":
        return web.Response(status=204)
    if answer == "moved":
        return web.Response(status=303, headers={"location": "/elsewhere"})
    if answer == "suspended":
        return web.json_response({"error": {"code": "dealership_suspended", "message": "x"}}, status=401)
    if answer == "expired":
        return web.json_response({"error": {"code": "unauthorized", "message": "x"}}, status=401)
    if answer == "missing":
        return web.json_response({"error": {"code": "not_found", "message": "x"}}, status=404)
    if answer == "refused":
        return web.json_response(
            {"error": {"code": "too_long", "message": "The note is too long.", "details": {"max": 5}}},
            status=422,
        )
    if answer == "not-json":
        return web.Response(status=409, text="<html>conflict</html>")
    return web.Response(status=500, text="boom")


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    app = web.Application()
    app.router.add_route("*", "/api/{answer}", owner)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # By name, not IP: a cookie jar would keep cookies from a named host (not from an IP).
    address = f"http://localhost:{server.port}"
    client = Backend(WebSettings(routing_url=address, backend_timeout_seconds=5))
    try:
        yield client
    finally:
        await client.close()
        await server.close()


async def test_a_call_carries_the_token_the_query_and_the_body(backend: Backend) -> None:
    answer = await backend.call(
        "routing",
        "POST",
        "/api/echo",
        token="abc",
        params={"id": ["1", "2"], "kind": "appointment", "all": True, "q": "a&b é"},
        json={"body": "<b>hi</b>"},
        headers={"Idempotency-Key": "k1"},
    )
    assert answer["method"] == "POST"
    assert answer["query"] == [
        ["id", "1"],
        ["id", "2"],
        ["kind", "appointment"],
        ["all", "true"],
        ["q", "a&b é"],
    ]
    assert answer["authorization"] == "Bearer abc"
    assert answer["idempotency"] == "k1"
    assert answer["body"] == {"body": "<b>hi</b>"}


async def test_pairs_as_params_keep_their_order_and_a_cookie_is_never_carried_over(backend: Backend) -> None:
    params = [
        ("view", "user:00000000-0000-0000-0000-000000000001"),
        ("read", "unread"),
        ("read", "unanswered"),
    ]
    first = await backend.call("routing", "GET", "/api/echo", token=None, params=params)
    second = await backend.call("routing", "GET", "/api/echo", token="t")
    assert first["query"] == [list(pair) for pair in params]
    assert first["authorization"] is None and first["body"] is None
    # The first answer set a cookie: a shared client must not send it with anyone's next call.
    assert second["cookie"] is None


async def test_each_kind_of_refusal_becomes_what_the_page_shows(backend: Backend) -> None:
    assert await backend.call("routing", "DELETE", "/api/empty", token="t") is None
    # A redirect is not followed: the owner's APIs never redirect, and web must not be led away.
    assert await backend.call("routing", "GET", "/api/moved", token="t") is None
    with pytest.raises(SessionExpired) as suspended:
        await backend.call("routing", "GET", "/api/suspended", token="t")
    assert suspended.value.reason == "suspended"
    with pytest.raises(SessionExpired) as expired:
        await backend.call("routing", "GET", "/api/expired", token="t")
    assert expired.value.reason is None
    with pytest.raises(NotFound):
        await backend.call("routing", "GET", "/api/missing", token="t")
    with pytest.raises(Refused) as refused:
        await backend.call("routing", "POST", "/api/refused", token="t", json={})
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        422,
        "too_long",
        "The note is too long.",
    )
    assert refused.value.details == {"max": 5}
    with pytest.raises(Refused) as unexplained:
        await backend.call("routing", "POST", "/api/not-json", token="t")
    assert (unexplained.value.status, unexplained.value.code) == (409, "refused")
    with pytest.raises(Unavailable):
        await backend.call("routing", "GET", "/api/failing", token="t")


async def test_a_service_that_cannot_be_reached_is_unavailable() -> None:
    client = Backend(WebSettings(notifier_url="http://127.0.0.1:9", backend_timeout_seconds=2))
    try:
        with pytest.raises(Unavailable) as unavailable:
            await client.call("notifier", "GET", "/api/v1/notifications", token="t")
        assert unavailable.value.service == "notifier"
    finally:
        await client.close()


async def test_an_answer_as_bytes_is_the_one_sent_and_refusals_raise_alike(backend: Backend) -> None:
    """`get_content` (the list's rows, kept by their bytes): the answer undecoded, the query the
    same on every call (its address is kept), a refusal the same exception as a decoded call."""
    api = backend.as_user("t")
    params = [("view", "all"), ("status", "open")]
    first = await api.get_content("routing", "/api/echo", params=params)
    again = await api.get_content("routing", "/api/echo", params=params)
    assert isinstance(first, bytes) and first == again
    assert orjson.loads(first)["query"] == [["view", "all"], ["status", "open"]]
    # A value that cannot be kept (a list among pairs) is written as before, not refused.
    assert await api.get("routing", "/api/echo", params=[("q", ["a"])])
    with pytest.raises(NotFound):
        await api.get_content("routing", "/api/missing")
    with pytest.raises(Refused):
        await api.get_content("routing", "/api/refused")
