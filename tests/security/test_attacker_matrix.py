"""The attacker's matrix, generated from the services' own OpenAPI documents so that a new
endpoint is covered without anyone remembering to:

- every operation that takes a staff token refuses no token, an expired one, one signed with
  another key and an unsigned one (`alg: none`) with 401 in the error shape;
- every operation an agent may not use (admin operations; anything documented "(admin)" must be
  listed here) answers an agent's token 403;
- every operation whose path names an id, called by another dealership's admin with the victim
  dealership's ids, answers 404 (nothing tells the id exists) and changes none of the victim's
  rows in any service's schema; ids in bodies (bulk actions, outreach, exports, members...) never
  bring the victim's data back either.

A new kind of id in a path fails the test until the victim dealership (conftest.py) has one."""

import random
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from devtools import demo
from shared.settings import ServiceSettings
from tests.security.conftest import (
    Dealership,
    RunningServices,
    bearer,
    settled_account_rows,
)

SERVICES = ["ingest", "routing", "notifier", "search", "exporter"]

# Answered without a staff token, by design.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/asyncapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/invitations/accept"),
    ("POST", "/api/v1/password-resets"),
    ("POST", "/api/v1/password-resets/accept"),
}
# Authenticated by a credential of their own, never a staff token: carrier signatures (403),
# a DMS integration's secret and the operator's token (401), a download link's signature.
OWN_CREDENTIAL = re.compile(
    r"^/(webhooks/|platform/v1/|api/v1/dms/(events|rejections)$|api/v1/exports/[^/]+/download$)"
)
# Operations an agent's token may not use.
ADMIN_ONLY = {
    ("ingest", "GET", "/api/v1/carrier-webhook-credentials"),
    ("ingest", "PUT", "/api/v1/carrier-webhook-credentials/twilio"),
    ("ingest", "PUT", "/api/v1/carrier-webhook-credentials/telnyx"),
    ("ingest", "DELETE", "/api/v1/carrier-webhook-credentials/{carrier}"),
    ("ingest", "GET", "/api/v1/dms/integrations"),
    ("ingest", "POST", "/api/v1/dms/integrations"),
    ("ingest", "GET", "/api/v1/dms/integrations/{integration_id}"),
    ("ingest", "POST", "/api/v1/dms/integrations/{integration_id}/rotate"),
    ("ingest", "POST", "/api/v1/dms/integrations/{integration_id}/revoke"),
    ("routing", "PATCH", "/api/v1/users/{user_id}"),
    ("routing", "POST", "/api/v1/teams"),
    ("routing", "PATCH", "/api/v1/teams/{team_id}"),
    ("routing", "DELETE", "/api/v1/teams/{team_id}"),
    ("routing", "PUT", "/api/v1/teams/{team_id}/members"),
    ("routing", "GET", "/api/v1/phone-numbers"),
    ("routing", "POST", "/api/v1/phone-numbers"),
    ("routing", "DELETE", "/api/v1/phone-numbers/{number_id}"),
    ("routing", "PATCH", "/api/v1/account/settings"),
    ("routing", "GET", "/api/v1/invitations"),
    ("routing", "POST", "/api/v1/invitations"),
    ("routing", "DELETE", "/api/v1/invitations/{invitation_id}"),
    ("notifier", "PUT", "/api/v1/notification-settings/unassigned-recipients"),
    ("notifier", "DELETE", "/api/v1/notification-settings/unassigned-recipients"),
    ("notifier", "GET", "/api/v1/carrier-accounts"),
    ("notifier", "PUT", "/api/v1/carrier-accounts/twilio"),
    ("notifier", "PUT", "/api/v1/carrier-accounts/telnyx"),
    ("notifier", "POST", "/api/v1/carrier-accounts/{carrier}/test"),
    ("notifier", "DELETE", "/api/v1/carrier-accounts/{carrier}"),
}
# Server-sent-event streams: a refused token is answered at once, an accepted one never ends.
STREAMS = {"/api/v1/notifications/stream", "/api/v1/live"}
# Path parameters that name no record of a dealership.
NOT_IDS = {"carrier"}


def documents(running: RunningServices) -> dict[str, dict]:
    return {name: httpx.get(f"{running.url(name)}/openapi.json").json() for name in SERVICES}


def operations(docs: dict[str, dict]):
    for service, doc in docs.items():
        for path, item in doc["paths"].items():
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield service, method.upper(), path, operation


def staff_operations(docs):
    for service, method, path, operation in operations(docs):
        if (method, path) not in PUBLIC and not OWN_CREDENTIAL.match(path):
            yield service, method, path, operation


def path_parameters(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{([^}]+)}", lambda m: str(values.get(m.group(1), uuid.uuid4())), path)


def call(client: httpx.Client, base: str, method: str, path: str, headers: dict, body=None) -> httpx.Response:
    if method in {"GET", "DELETE"}:
        return client.request(method, f"{base}{path}", headers=headers)
    return client.request(method, f"{base}{path}", headers=headers, json={} if body is None else body)


def assert_error(response: httpx.Response, status: int, where: str) -> None:
    assert response.status_code == status, f"{where}: {response.status_code} {response.text[:300]}"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, f"{where}: {error}"


def forged_tokens() -> dict[str, str]:
    settings = ServiceSettings()
    now = datetime.now(UTC)
    claims = {
        "sub": str(demo.ADMIN_ID),
        "acc": str(demo.ACCOUNT_ID),
        "role": "admin",
        "iss": settings.jwt_issuer,
        "iat": now - timedelta(hours=2),
        "exp": now + timedelta(hours=1),
    }
    secret = settings.jwt_secret.get_secret_value()
    return {
        "expired": jwt.encode({**claims, "exp": now - timedelta(minutes=1)}, secret, algorithm="HS256"),
        "another key": jwt.encode(claims, secrets.token_hex(32), algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "another issuer": jwt.encode({**claims, "iss": "someone-else"}, secret, algorithm="HS256"),
        "garbage": "not.a.token",
    }


@pytest.mark.e2e
def test_every_staff_operation_refuses_missing_expired_forged_and_unsigned_tokens(running):
    docs = documents(running)
    attempts = {"no token": {}, **{name: bearer(token) for name, token in forged_tokens().items()}}
    checked = 0
    with httpx.Client(timeout=30) as client:
        for service, method, path, _ in staff_operations(docs):
            url_path = fill(path, {})
            for name, headers in attempts.items():
                response = call(client, running.url(service), method, url_path, headers)
                assert_error(response, 401, f"{name}: {service} {method} {path}")
                checked += 1
    # Every API of the five has staff operations; a document that lost them would pass silently.
    assert {service for service, *_ in staff_operations(docs)} == set(SERVICES)
    print(f"{checked} refused calls")


@pytest.mark.e2e
def test_credentials_of_their_own_are_refused_without_them(running):
    """Webhooks without a signature (403), DMS and operator endpoints without their secret
    (401), a download without its signed link: refused, never answered 2xx."""
    docs = documents(running)
    with httpx.Client(timeout=30) as client:
        for service, method, path, _ in operations(docs):
            if not OWN_CREDENTIAL.match(path):
                continue
            for headers in ({}, bearer(forged_tokens()["another key"])):
                response = client.request(
                    method,
                    f"{running.url(service)}{fill(path, {})}",
                    headers=headers,
                    **({} if method == "GET" else {"content": b"{}"}),
                )
                assert 400 <= response.status_code < 500, (service, method, path, response.status_code)
                assert "error" in response.json()


@pytest.mark.e2e
def test_an_agent_is_refused_every_admin_operation(running, agent_token):
    docs = documents(running)
    listed = set()
    with httpx.Client(timeout=30) as client:
        for service, method, path, operation in staff_operations(docs):
            said = f"{operation.get('summary', '')} {operation.get('description', '')}".lower()
            if (service, method, path) not in ADMIN_ONLY:
                assert "(admin)" not in said and "admins only" not in said, (
                    f"{service} {method} {path} is documented as an admin's: add it to ADMIN_ONLY"
                )
                continue
            listed.add((service, method, path))
            response = call(client, running.url(service), method, fill(path, {}), bearer(agent_token))
            assert_error(response, 403, f"agent: {service} {method} {path}")
    assert listed == ADMIN_ONLY, f"listed but no longer in any document: {ADMIN_ONLY - listed}"


def body_examples(operation_schema, max_tries: int = 6):
    """A few schema-valid bodies for the operation (deterministic), from schemathesis."""
    strategy = operation_schema.as_strategy()
    examples = []
    for seed in range(max_tries):
        try:
            case = find(
                strategy,
                lambda _c: True,
                settings=settings(
                    database=None,
                    max_examples=1,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                ),
                random=random.Random(seed),
            )
        except NoSuchExample:
            break
        examples.append(case.body if not _unset(case.body) else None)
    return examples


def _unset(value) -> bool:
    return type(value).__name__ == "NotSet"


@pytest.mark.e2e
def test_another_dealerships_ids_are_not_found_and_nothing_of_theirs_changes(running, admin_token, victim):
    before = settled_account_rows(running.database_url, victim.account_id)
    docs = documents(running)
    schemas = {name: schemathesis.openapi.from_dict(doc) for name, doc in docs.items()}
    attacker = bearer(admin_token)
    tried: list[str] = []
    problems: list[str] = []
    with httpx.Client(timeout=30) as client:
        for service, method, path, operation in staff_operations(docs):
            names = [n for n in path_parameters(operation) if n not in NOT_IDS]
            if not names or path in STREAMS:
                continue
            unknown = [n for n in names if n not in victim.ids]
            assert not unknown, f"{service} {method} {path}: give the victim dealership a {unknown}"
            url_path = fill(path, victim.ids)
            bodies = [None]
            if method in {"POST", "PUT", "PATCH"}:
                known = [PLAUSIBLE_BODIES[(method, path)]] if (method, path) in PLAUSIBLE_BODIES else []
                bodies = known + body_examples(schemas[service][path][method]) or [None]
            statuses = []
            for body in bodies:
                response = call(client, running.url(service), method, url_path, attacker, body)
                statuses.append(response.status_code)
                assert response.status_code not in range(200, 300), (
                    service,
                    method,
                    path,
                    response.text[:300],
                )
                assert response.status_code < 500, (service, method, path, response.text[:300])
                _leaks_nothing(response, victim)
                if response.status_code != 422:
                    break
            if statuses[-1] != 404:
                problems.append(f"{service} {method} {path}: {statuses} {response.text[:200]}")
            tried.append(f"{service} {method} {path}")
        tried += _body_ids_reach_nothing(client, running, docs, attacker, victim)
    # 422 every time: add a body that passes validation to PLAUSIBLE_BODIES.
    assert not problems, "not answered 404:\n" + "\n".join(problems)
    after = settled_account_rows(running.database_url, victim.account_id)
    changed = {
        table: _difference(before.get(table, []), after.get(table, []))
        for table in before.keys() | after.keys()
        if before.get(table) != after.get(table)
    }
    assert not changed, f"the victim's rows changed: {changed}"
    print(f"{len(tried)} operations called with the victim's ids")


def _difference(before: list[str], after: list[str]) -> dict[str, list[str]]:
    return {
        "gone": [row[:400] for row in before if row not in after],
        "new": [row[:400] for row in after if row not in before],
    }


# Bodies that pass validation where the schema cannot say all (one of two fields, a template).
PLAUSIBLE_BODIES = {
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"body": "Hello"},
    ("POST", "/api/v1/customers/{customer_id}/phones"): {"number": "(514) 555-0142"},
    ("POST", "/api/v1/saved-replies/{saved_reply_id}/preview"): {"customer_id": str(uuid.uuid4())},
}

# Body fields that carry a dealership's ids, and which victim id each gets.
BODY_IDS = {
    "conversation_id": "conversation_id",
    "conversation_ids": "conversation_id",
    "customer_id": "customer_id",
    "user_id": "agent_id",
    "user_ids": "agent_id",
    "team_id": "team_id",
    "team_ids": "team_id",
    "saved_reply_id": "saved_reply_id",
}


def _body_ids_reach_nothing(client, running, docs, attacker, victim: Dealership) -> list[str]:
    """Every JSON body naming ids (by field name, nested `assignee` included) is sent with the
    victim's ids in otherwise plausible bodies: never a 2xx that shows their data, never 5xx."""
    tried = []
    for service, method, path, operation in staff_operations(docs):
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            continue
        body = _body_with_victim_ids(docs[service], schema, victim)
        if body is None:
            continue
        response = call(client, running.url(service), method, fill(path, {}), attacker, body)
        assert response.status_code < 500, (service, method, path, response.text[:300])
        _leaks_nothing(response, victim)
        tried.append(f"{service} {method} {path} (body)")
    return tried


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _body_with_victim_ids(doc: dict, schema: dict, victim: Dealership, depth: int = 0) -> dict | None:
    schema = _resolve(doc, schema)
    properties = schema.get("properties", {})
    body: dict = {}
    found = False
    for name, prop in properties.items():
        if name in BODY_IDS:
            value = str(victim.ids[BODY_IDS[name]])
            is_list = _resolve(doc, prop).get("type") == "array" or name.endswith("_ids")
            body[name] = [value] if is_list else value
            found = True
        elif depth < 2 and (nested := _object_schema(doc, prop)) is not None:
            inner = _body_with_victim_ids(doc, nested, victim, depth + 1)
            if inner is not None:
                body[name] = inner
                found = True
    if not found:
        return None
    # Plausible values for the rest that a use case would need.
    for name in schema.get("required", []):
        body.setdefault(name, _plausible(name))
    return body


def _object_schema(doc: dict, prop: dict) -> dict | None:
    for candidate in [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]:
        resolved = _resolve(doc, candidate)
        if resolved.get("type") == "object" or "properties" in resolved:
            return resolved
    return None


def _plausible(name: str):
    return {
        "body": "Hello from the other dealership",
        "source": {"kind": "campaign", "id": "attacker-campaign"},
        "name": "Attacker",
    }.get(name, "x")


def _leaks_nothing(response: httpx.Response, victim: Dealership) -> None:
    text = response.text
    for secret_of_theirs in victim.secrets:
        assert secret_of_theirs not in text, (
            f"{response.request.method} {response.request.url} showed {secret_of_theirs!r}"
        )
