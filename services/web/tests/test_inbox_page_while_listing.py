"""The Conversations page is rendered while routing's list call is on its way, and its rows (the
parts written with `later(...)`) once the answer is known. What is checked: the page is the same
whichever way it is rendered, the shell comes before the answer is awaited, and what routing
answers instead of rows (a refused view, an empty list, an error, an expired session) still
shows what it did. Routing is a stand-in (httpx's MockTransport)."""

import asyncio
import re
from typing import Any

import httpx
import jinja2
import pytest
from starlette.requests import Request

from web import i18n
from web.app import create_app
from web.backend import Backend
from web.rendering import LaterAnswer, Renderer, ShellKey, later
from web.settings import WebSettings

ME = "00000000-0000-4000-8000-000000000001"
SAM = "00000000-0000-4000-8000-000000000002"
TEAM = "00000000-0000-4000-8000-0000000000aa"
ROW = "00000000-0000-4000-8000-0000000000c1"

DIRECTORY: dict[str, Any] = {
    "/api/v1/me": {"id": ME, "name": "Alex Admin", "email": "a@x.test", "role": "admin", "account_id": "acc"},
    "/api/v1/account/settings": {"name": "Demo", "time_zone": "America/Toronto", "unanswered_after_hours": 4},
    "/api/v1/users": [
        {"id": ME, "name": "Alex Admin", "active": True},
        {"id": SAM, "name": "Sam <i>Agent</i>", "active": True},
    ],
    "/api/v1/teams": [{"id": TEAM, "name": "Service"}],
}
A_ROW = {
    "id": ROW,
    "status": "open",
    "customer_name": "<b>Marie</b> <!--later 0-->",
    "customer_phone": "+15145550111",
    "assignee_user_id": SAM,
    "assignee_team_id": None,
    "last_activity_at": "2026-03-01T12:00:00+00:00",
    "last_message_preview": "Brakes?",
    "unread_for_me": False,
    "overdue": False,
    "assignee_has_not_read": False,
}


def web_with(list_answer) -> httpx.AsyncClient:
    """Web whose routing answers the directory as above and the list with `list_answer(request)`."""

    async def routing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/conversations":
            return await list_answer(request)
        return httpx.Response(200, json=DIRECTORY[request.url.path])

    settings = WebSettings()
    app = create_app(settings, Backend(settings, transport=httpx.MockTransport(routing)))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web.test", cookies={"sb_session": "token"}
    )


def rows_answer(*rows: dict[str, Any], next_cursor: str | None = None):
    async def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": list(rows), "next_cursor": next_cursor})

    return answer


def select_page(html: str) -> str:
    found = re.search(r'<input type="checkbox" id="select-page"[^>]*>', html)
    assert found, "no select-all checkbox"
    return found.group(0)


async def test_the_rows_are_in_the_list_and_nothing_is_left_to_fill() -> None:
    async with web_with(rows_answer(A_ROW, next_cursor="abc")) as client:
        for headers in ({}, {"hx-request": "true", "hx-target": "conversation-list"}):
            html = (await client.get("/conversations?view=all&status=open", headers=headers)).text
            rows = html.split('<ul class="rows" id="rows" role="list">', 1)[1]
            assert rows.index(f'data-conversation="{ROW}"') < rows.index("</ul>")
            assert 'id="more-rows"' in rows and "cursor=abc" in rows
            assert "disabled" not in select_page(html)
            # Typed text stays text, a marker's look-alike included; no marker is left behind.
            assert "&lt;b&gt;Marie&lt;/b&gt; &lt;!--later 0--&gt;" in html
            assert "<!--later" not in html


async def test_an_empty_list_says_so_and_has_its_select_all_off() -> None:
    async with web_with(rows_answer()) as client:
        html = (await client.get("/conversations?view=all&status=closed")).text
    assert "No conversations here." in html
    assert select_page(html).endswith(" disabled>")
    assert 'id="more-rows"' not in html


async def test_a_view_routing_refuses_shows_all_menus_and_says_the_list_is_not_available() -> None:
    asked: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        view = request.url.params["view"]
        asked.append(view)
        if view.startswith("team:"):
            error = {"code": "unsupported_view", "message": "not yet", "details": None}
            return httpx.Response(422, json={"error": error})
        return await rows_answer(A_ROW)(request)

    async with web_with(answer) as client:
        page = await client.get(f"/conversations?view=team:{TEAM}&status=open")
    assert page.status_code == 200
    html = page.text
    assert "This list is not available yet." in html
    assert 'data-conversation="' not in html and "No conversations here." in html
    assert select_page(html).endswith(" disabled>")
    assert asked[0] == f"team:{TEAM}" and "all" in asked
    assert "<!--later" not in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [(503, 503), (401, 303), (404, 404)],
)
async def test_what_routing_answers_instead_of_the_rows_is_what_the_page_answers(
    status: int, expected: int
) -> None:
    async def answer(_request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # after the shell is rendered
        return httpx.Response(status, json={"error": {"code": "x", "message": "x", "details": None}})

    async with web_with(answer) as client:
        page = await client.get("/conversations?view=all&status=open", headers={"accept": "text/html"})
    assert page.status_code == expected
    if expected == 303:
        assert page.headers["location"].startswith("/signin")
    assert "<!--later" not in page.text


def _request() -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/conversations",
            "query_string": b"",
            "headers": [(b"accept-language", b"en")],
            "csrftoken": lambda: "csrf",
        }
    )


async def test_the_shell_is_rendered_before_the_answer_is_awaited_and_the_same_as_at_once() -> None:
    order: list[str] = []
    environment = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "page.html": "<h1>{{ title }}{{ note('shell') }}</h1><ul>{{ later('rows.html') }}</ul>"
                "{{ later('count.html') }}",
                "rows.html": "{% for row in rows %}<li>{{ row }}</li>{% endfor %}",
                "count.html": "<p>{{ rows | length }} for {{ title }}</p>",
            }
        ),
        autoescape=True,
    )
    environment.globals.update(later=later, note=lambda what: order.append(what) or "")
    renderer = Renderer(environment, i18n.load_catalogues())

    async def answer() -> dict[str, Any]:
        order.append("answer awaited")
        return {"rows": ["<b>one</b>", "two"]}

    awaited = await renderer.render_awaiting(_request(), "page.html", {"title": "<T>"}, answer())
    at_once = renderer.render(_request(), "page.html", {"title": "<T>", "rows": ["<b>one</b>", "two"]})
    assert order == ["shell", "answer awaited", "shell"]
    assert awaited.body == at_once.body
    assert awaited.body.decode() == (
        "<h1>&lt;T&gt;</h1><ul><li>&lt;b&gt;one&lt;/b&gt;</li><li>two</li></ul><p>2 for &lt;T&gt;</p>"
    )


async def test_a_session_refused_while_the_list_is_asked_ends_the_list_call_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Who is signed in is asked beside the list call: when routing refuses the token there, the
    list call still on its way is cancelled (not left running, its answer never read)."""
    ended: list[str] = []

    async def slow_list(_request: httpx.Request) -> httpx.Response:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    async def routing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/conversations":
            return await slow_list(request)
        return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "x", "details": None}})

    settings = WebSettings()
    app = create_app(settings, Backend(settings, transport=httpx.MockTransport(routing)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web.test", cookies={"sb_session": "expired"}
    ) as client:
        page = await asyncio.wait_for(
            client.get("/conversations?view=all&status=open", headers={"accept": "text/html"}), timeout=2
        )
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert ended == ["cancelled"]
    assert "never retrieved" not in caplog.text


def _shell_renderer(shells: list[str]) -> Renderer:
    environment = jinja2.Environment(
        loader=jinja2.DictLoader(
            {
                "page.html": '<b data-csrf="{{ csrf_token }}">{{ note(who) }}</b>'
                '<ul>{{ later("rows.html") }}</ul>',
                "rows.html": "{% for row in rows %}<li>{{ row }}</li>{% endfor %}",
            }
        ),
        autoescape=True,
    )
    environment.globals.update(later=later, note=lambda who: shells.append(who) or who)
    return Renderer(environment, i18n.load_catalogues())


async def test_a_kept_shell_is_used_again_only_with_the_same_key_and_the_same_answers() -> None:
    shells: list[str] = []
    renderer = _shell_renderer(shells)
    directory: list[dict] = [{"id": SAM}]
    me: dict = {"id": ME}

    async def page(who: str, key: str, answers: tuple, rows: list[str], csrf: str) -> str:
        async def rest() -> dict[str, Any]:
            return {"rows": rows}

        request = _request()
        request.scope["csrftoken"] = lambda: csrf
        shell_key = ShellKey((key,), answers)
        response = await renderer.render_awaiting(
            request, "page.html", {"who": who}, rest(), shell_key=shell_key
        )
        return response.body.decode()

    first = await page("Alex", "alex /conversations", (me, directory), ["one"], "token-1")
    again = await page("Alex", "alex /conversations", (me, directory), ["<two>"], "token-2")
    assert shells == ["Alex"]  # the second page is made from the kept shell ...
    assert first == '<b data-csrf="token-1">Alex</b><ul><li>one</li></ul>'
    # ... with its own rows and its own CSRF token.
    assert again == '<b data-csrf="token-2">Alex</b><ul><li>&lt;two&gt;</li></ul>'
    # Web asked routing again (a new answer, equal or not): the shell is made again.
    await page("Alex", "alex /conversations", ({"id": ME}, directory), [], "t")
    # Another key (another person, another address): a shell of its own.
    other = await page("Sam", "sam /conversations", (me, directory), [], "t")
    assert shells == ["Alex", "Alex", "Sam"]
    assert ">Sam<" in other


async def test_a_kept_shell_filled_from_the_same_bytes_again_is_not_read_again() -> None:
    """A list shown again while routing's answer is byte for byte the same (a reload, a live
    refresh after a change in another list): the page is the one made before, with this
    request's CSRF token; other bytes are read and rendered."""
    shells: list[str] = []
    reads: list[bytes] = []
    renderer = _shell_renderer(shells)
    answers = ({"id": ME}, [{"id": SAM}])

    def read(content: bytes) -> dict[str, Any]:
        reads.append(content)
        return {"rows": content.decode().split(",")}

    async def page(content: bytes, csrf: str, key: str = "alex /conversations") -> str:
        async def rest() -> LaterAnswer:
            return LaterAnswer(content, read)

        request = _request()
        request.scope["csrftoken"] = lambda: csrf
        response = await renderer.render_awaiting(
            request, "page.html", {"who": "Alex"}, rest(), shell_key=ShellKey((key,), answers)
        )
        return response.body.decode()

    first = await page(b"one,<two>", "token-1")
    again = await page(b"one,<two>", "token-2")
    changed = await page(b"one,three", "token-3")
    assert first == '<b data-csrf="token-1">Alex</b><ul><li>one</li><li>&lt;two&gt;</li></ul>'
    assert again == first.replace("token-1", "token-2")
    assert changed == '<b data-csrf="token-3">Alex</b><ul><li>one</li><li>three</li></ul>'
    assert reads == [b"one,<two>", b"one,three"] and shells == ["Alex"]
    # Another shell (another person or address) makes its own page from the same bytes.
    await page(b"one,three", "token-4", key="sam /conversations")
    assert reads == [b"one,<two>", b"one,three", b"one,three"]


async def test_each_person_gets_their_own_shell_and_a_change_of_theirs_shows_at_once() -> None:
    """Two people on the same address; one renames a team through web (which forgets what web
    kept for them): their next page shows the new name, the other's is their own."""
    teams = {"alex": [{"id": TEAM, "name": "Service"}], "sam": [{"id": TEAM, "name": "Service"}]}

    async def routing(request: httpx.Request) -> httpx.Response:
        who = request.headers["authorization"].removeprefix("Bearer ")
        path = request.url.path
        if path == "/api/v1/conversations":
            return await rows_answer(A_ROW)(request)
        if path == "/api/v1/me":
            return httpx.Response(200, json={**DIRECTORY[path], "name": f"{who.title()} Person"})
        if path == "/api/v1/teams":
            return httpx.Response(200, json=teams[who])
        if request.method == "PATCH":
            teams[who] = [{"id": TEAM, "name": "Service & Parts"}]
            return httpx.Response(200, json={})
        return httpx.Response(200, json=DIRECTORY[path])

    settings = WebSettings()
    backend = Backend(settings, transport=httpx.MockTransport(routing))
    app = create_app(settings, backend)
    transport = httpx.ASGITransport(app=app)
    address = "/conversations?view=all&status=open"
    async with (
        httpx.AsyncClient(
            transport=transport, base_url="http://web.test", cookies={"sb_session": "alex"}
        ) as alex,
        httpx.AsyncClient(
            transport=transport, base_url="http://web.test", cookies={"sb_session": "sam"}
        ) as sam,
    ):
        assert "Alex Person" in (await alex.get(address)).text
        assert "Alex Person" in (await alex.get(address)).text
        assert "Sam Person" in (await sam.get(address)).text
        await backend.as_user("alex").patch("routing", f"/api/v1/teams/{TEAM}", json={"name": "x"})
        renamed = (await alex.get(address)).text
        assert "Service &amp; Parts" in renamed and "Alex Person" in renamed
        assert "Service &amp; Parts" not in (await sam.get(address)).text
