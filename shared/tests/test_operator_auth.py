"""Operator tokens: parsing the Secret's entries and recognising a presented token (pure logic),
and the dependency's answers over HTTP (a tiny FastAPI app, no infrastructure involved)."""

from uuid import UUID

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.http.auth import issue_token
from shared.http.errors import install_error_handlers
from shared.http.operator_auth import (
    InvalidOperatorTokens,
    Operator,
    find_operator,
    hash_operator_token,
    parse_operator_tokens,
    require_operator,
)
from shared.settings import ServiceSettings

_ACCOUNT = UUID("00000000-0000-0000-0000-0000000000aa")


def test_named_plain_and_hashed_entries_are_all_recognised():
    tokens = parse_operator_tokens(
        f"alice=plain-token-1, ci={hash_operator_token('hashed-token-2')},bare-token-3"
    )
    assert find_operator(tokens, "plain-token-1").name == "alice"
    assert find_operator(tokens, "hashed-token-2").name == "ci"
    bare = find_operator(tokens, "bare-token-3")
    assert bare.name == bare.fingerprint
    assert bare.fingerprint.startswith("sha256:") and "bare-token-3" not in bare.fingerprint
    assert find_operator(tokens, "plain-token") is None
    assert find_operator(tokens, "") is None


def test_no_token_configured_recognises_nobody():
    assert parse_operator_tokens("") == ()
    assert find_operator(parse_operator_tokens(SecretStr("")), "anything") is None


@pytest.mark.parametrize("raw", ["alice=", "ci=sha256:abc", "sha256:zz" + "0" * 62])
def test_malformed_entries_are_refused_without_echoing_them(raw):
    with pytest.raises(InvalidOperatorTokens) as error:
        parse_operator_tokens(raw)
    assert "abc" not in str(error.value) and "zz" not in str(error.value)


def _client(settings: ServiceSettings) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/who")
    async def who(operator: Operator = Depends(require_operator(settings))) -> dict:
        return {"name": operator.name}

    return TestClient(app)


def test_the_dependency_answers_401_in_the_error_shape_for_missing_wrong_and_staff_tokens():
    settings = ServiceSettings(operator_tokens=SecretStr("ops=right-token,old=older-token"))
    client = _client(settings)
    assert client.get("/who", headers={"Authorization": "Bearer right-token"}).json() == {"name": "ops"}
    assert client.get("/who", headers={"Authorization": "Bearer older-token"}).json() == {"name": "old"}
    staff_jwt = issue_token(settings, "00000000-0000-0000-0000-000000000001", _ACCOUNT, "admin")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {staff_jwt}"}):
        answer = client.get("/who", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


def test_a_refused_token_is_logged_without_the_token(monkeypatch):
    import structlog
    from structlog.testing import capture_logs

    from shared.http import operator_auth

    # A logger of its own: capture_logs cannot see a logger that an earlier test in the same
    # process already used (structlog caches loggers on first use once logging is set up).
    monkeypatch.setattr(operator_auth, "log", structlog.get_logger(operator_auth.__name__))
    client = _client(ServiceSettings(operator_tokens=SecretStr("ops=right-token")))
    with capture_logs() as logs:
        client.get("/who", headers={"Authorization": "Bearer a-guessed-token"})
    [entry] = [e for e in logs if e["event"] == "operator token refused"]
    assert entry["reason"] == "unknown" and entry["path"] == "/who"
    assert "a-guessed-token" not in repr(logs) and "right-token" not in repr(logs)
