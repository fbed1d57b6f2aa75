"""The webhook's own request parts (issue 17): the form parser gives what `parse_qsl` gives on any
input; the request-only route serves and documents an endpoint as FastAPI would, refusing an
endpoint it would serve wrongly; the body is read whole in any chunks, never past its limit; the
prebuilt answers are Starlette's, each with headers of its own."""

from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import ClientDisconnect

from ingest.api.body import parse_form, read_body
from ingest.api.request_only_route import RequestOnlyRoute
from ingest.api.twilio import EMPTY_TWIML, FORM, TwimlAnswer
from ingest.usecases.common import Outcome
from shared.http.errors import ApiError, install_error_handlers

# Characters that matter to form encoding, beside arbitrary text.
_FORM_CHARACTERS = st.sampled_from([*"&=+%; 2fFAzé\x00\u2603", "%2", "%zz", "%C3", "%A9", "%E2%82"])
_RAW_FORMS = st.lists(st.one_of(_FORM_CHARACTERS, st.text(max_size=4)), max_size=40).map("".join)


def _expected(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False))


@given(_RAW_FORMS)
def test_any_text_parses_as_parse_qsl_does(text):
    assert parse_form(text) == _expected(text)


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=25))
def test_encoded_forms_come_back_whole(pairs):
    text = urlencode(pairs)
    assert parse_form(text) == dict(pairs) == _expected(text)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("", {}),
        ("&&", {}),
        ("=", {"": ""}),
        ("a", {"a": ""}),
        ("a=1&a=2", {"a": "2"}),
        ("a=b=c", {"a": "b=c"}),
        ("Body=caf%C3%A9+%26+more&From=%2B15145550100", {"Body": "café & more", "From": "+15145550100"}),
        ("bad=%C3%28", {"bad": "\ufffd("}),
    ],
)
def test_edge_cases(text, form):
    assert parse_form(text) == form == _expected(text)


def _app() -> FastAPI:
    router = APIRouter(prefix="/hooks", route_class=RequestOnlyRoute)

    @router.post("/echo", summary="Echo", responses={403: {"description": "Refused"}})
    async def echo(request: Request) -> Response:
        body = await request.body()
        if body == b"refuse":
            raise ApiError(403, "refused", "no")
        return Response(body[::-1], media_type="text/plain", headers={"x-seen": request.url.path})

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    return app


def test_the_request_reaches_the_endpoint_and_its_response_goes_back():
    client = TestClient(_app())
    answer = client.post("/hooks/echo", content=b"abc")
    assert (answer.status_code, answer.content, answer.headers["x-seen"]) == (200, b"cba", "/hooks/echo")


def test_errors_go_through_the_apps_handlers():
    answer = TestClient(_app()).post("/hooks/echo", content=b"refuse")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "refused"


def test_the_operation_is_documented_as_declared():
    operation = _app().openapi()["paths"]["/hooks/echo"]["post"]
    assert operation["summary"] == "Echo"
    assert set(operation["responses"]) == {"200", "403"}


def test_methods_other_than_the_routes_are_refused():
    assert TestClient(_app()).get("/hooks/echo").status_code == 405


def test_a_sync_endpoint_is_refused():
    def not_async(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="takes only the Request"):
        APIRouter(route_class=RequestOnlyRoute).post("/x")(not_async)


def test_an_endpoint_with_other_parameters_is_refused():
    router = APIRouter(route_class=RequestOnlyRoute)

    async def with_query(request: Request, limit: int) -> Response:
        return Response()

    async def without_request(limit: int) -> Response:
        return Response()

    for endpoint in (with_query, without_request):
        with pytest.raises(TypeError, match="takes only the Request"):
            router.post("/x")(endpoint)


def _request_receiving(messages: list[dict], headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    pending = iter(messages)

    async def receive() -> dict:
        return next(pending)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": headers or [(b"content-type", b"application/x-www-form-urlencoded")],
    }
    return Request(scope, receive)


def _chunks(*bodies: bytes) -> list[dict]:
    last = len(bodies) - 1
    return [{"type": "http.request", "body": body, "more_body": i < last} for i, body in enumerate(bodies)]


@pytest.mark.parametrize(
    "bodies",
    [(b"a=1",), (b"",), (b"a=", b"1", b"&b=2"), (b"a=1", b""), (b"", b"a=1"), (b"x" * 10, b"y" * 10)],
)
async def test_a_body_is_read_whole_whatever_its_chunks(bodies):
    body = await read_body(_request_receiving(_chunks(*bodies)), FORM, 20)
    assert body == b"".join(bodies)


@pytest.mark.parametrize("bodies", [(b"x" * 21,), (b"x" * 10, b"y" * 11), (b"x" * 20, b"", b"y")])
async def test_a_body_over_the_limit_is_refused_without_content_length(bodies):
    with pytest.raises(ApiError) as refused:
        await read_body(_request_receiving(_chunks(*bodies)), FORM, 20)
    assert (refused.value.status, refused.value.code) == (413, "payload_too_large")


async def test_a_client_that_goes_away_is_not_waited_for():
    messages = [*_chunks(b"a=1", b"&b")[:1], {"type": "http.disconnect"}]
    with pytest.raises(ClientDisconnect):
        await read_body(_request_receiving(messages), FORM, 20)


def test_the_answers_carry_their_outcome_and_each_its_own_headers():
    accepted, again = TwimlAnswer(Outcome.ACCEPTED), TwimlAnswer(Outcome.ACCEPTED)
    expected = Response(EMPTY_TWIML, media_type="text/xml", headers={"x-switchboard-outcome": "accepted"})
    assert (accepted.status_code, accepted.body, accepted.raw_headers) == (
        200,
        expected.body,
        expected.raw_headers,
    )
    accepted.raw_headers.append((b"x-added", b"by a middleware"))
    assert again.raw_headers == expected.raw_headers == TwimlAnswer(Outcome.ACCEPTED).raw_headers
    assert (b"x-switchboard-outcome", b"duplicate") in TwimlAnswer(Outcome.DUPLICATE).raw_headers
