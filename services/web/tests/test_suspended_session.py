"""A suspended dealership's staff, as the web inbox relays it: routing refuses their token with
401 `dealership_suspended` (or their sign-in with 403), and the page sends them to sign in with a
plain message, in English or Canadian French. Routing is a stand-in (httpx's MockTransport): what
is checked is what web does with its answers."""

import httpx
import pytest

from web.app import create_app
from web.backend import Backend
from web.settings import WebSettings

SUSPENDED = {"error": {"code": "dealership_suspended", "message": "suspended", "details": None}}
MESSAGE_EN = "Your dealership's access to Switchboard is suspended"
MESSAGE_FR = "L\u2019accès de votre concession à Switchboard est suspendu"


@pytest.fixture
def web() -> httpx.AsyncClient:
    def routing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/login":
            return httpx.Response(403, json=SUSPENDED)
        return httpx.Response(401, json=SUSPENDED)

    settings = WebSettings()
    app = create_app(settings, Backend(settings, transport=httpx.MockTransport(routing)))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web.test", cookies={"sb_session": "token"}
    )


async def test_an_open_session_of_a_suspended_dealership_goes_to_sign_in_with_a_plain_message(web):
    async with web:
        page = await web.get("/conversations?status=open", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=%2Fconversations%3Fstatus%3Dopen&reason=suspended"
        assert "sb_session=" in page.headers["set-cookie"]  # the cookie is ended
        shown = await web.get(page.headers["location"])
        assert MESSAGE_EN in shown.text
        french = await web.get(page.headers["location"], headers={"accept-language": "fr-CA"})
        assert MESSAGE_FR in french.text
        # The live stream's session check tells the page where to go.
        check = await web.get("/session", headers={"accept": "*/*"})
        assert check.status_code == 401 and "reason=suspended" in check.headers["x-sign-in"]
        # The reason is remembered a minute, whichever of a page's requests reaches sign-in first.
        assert MESSAGE_EN in (await web.get("/signin?next=%2Fconversations")).text
        # An ordinary expiry (another browser) says nothing about suspension.
        web.cookies.clear()
        plain = await web.get("/signin?next=%2Fconversations")
        assert MESSAGE_EN not in plain.text


async def test_signing_in_to_a_suspended_dealership_says_so(web):
    async with web:
        form = await web.get("/signin")
        csrf = form.cookies.get("csrftoken") or web.cookies.get("csrftoken")
        answer = await web.post(
            "/signin",
            data={
                "email": "a@x.test",
                "password": "right password",
                "next": "/conversations",
                "csrftoken": csrf,
            },
        )
        assert answer.status_code == 403
        assert MESSAGE_EN in answer.text
