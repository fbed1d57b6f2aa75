"""Every operation of every API service, fuzzed by schemathesis from the service's own OpenAPI
document with the demo admin's real token, against the services running as processes: valid
and invalid requests alike are never answered 5xx, every error is `{"error": {"code",
"message", "details"}}`, and every answer matches what the document says (status, content
type, schema).

`make test` runs FUZZ_EXAMPLES (default 4) cases per operation and generation mode, a few
hundred in all; `make fuzz` runs thousands. The web service serves pages, not an API: its
answers are covered by the browser tests and test_markup_as_text.py."""

import os
import time
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from tests.security.conftest import RunningServices, bearer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Server-sent-event streams answer 200 and never end: fuzzing them would only wait.
STREAMS = {("GET", "/api/v1/notifications/stream"), ("GET", "/api/v1/live")}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def error_shape_problem(response: requests.Response) -> str | None:
    """What is wrong with an error answer's body, or None."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
        return f"not the error shape: {str(body)[:300]}"
    if not isinstance(error["code"], str) or not isinstance(error["message"], str):
        return f"code and message must be text: {error}"
    return None


@dataclass
class Findings:
    cases: int = 0
    problems: dict[str, str] = field(default_factory=dict)

    def add(self, operation: str, problem: str) -> None:
        # One problem per operation and kind is enough to fix it; keep the first (shrunk) one.
        self.problems.setdefault(f"{operation}: {problem.splitlines()[0][:120]}", problem[:1500])


def fuzz_operation(operation, base_url: str, headers: dict[str, str], mode: GenerationMode, found: Findings):
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        found.cases += 1
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=20)
        except requests.RequestException as exc:
            found.add(operation.label, f"no answer: {exc!r}\n{case.as_curl_command(headers)}")
            return
        problem = error_shape_problem(response)
        if problem:
            found.add(operation.label, f"{response.status_code} {problem}\n{case.as_curl_command(headers)}")
        if mode is GenerationMode.NEGATIVE and response.status_code < 500:
            return  # invalid input: only the answer's kind and shape matter, checked above
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # a group of the checks' failures
            found.add(operation.label, f"{exc}\n{case.as_curl_command(headers)}")

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (an operation without parameters or body, negative mode).
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["ingest", "routing", "notifier", "search", "exporter"])
def test_no_operation_answers_5xx_or_off_its_document(service, running: RunningServices, admin_token):
    base_url = running.url(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # The sign-ins it fails count against an address of its own (uvicorn takes X-Forwarded-For
    # from 127.0.0.1), not 127.0.0.1's, which other tests of the same database sign in from.
    headers = {**bearer(admin_token), "x-forwarded-for": "198.18.0.1"}
    found = Findings()
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in STREAMS:
            continue
        operations += 1
        began = time.monotonic()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, base_url, headers, mode, found)
        if os.environ.get("FUZZ_TIMINGS"):
            print(f"  {operation.label}: {time.monotonic() - began:.1f}s")
    elapsed = time.monotonic() - started
    print(f"{service}: {found.cases} cases over {operations} operations in {elapsed:.1f}s")
    assert found.cases >= operations, "every operation was exercised"
    assert not found.problems, "\n\n".join(found.problems.values())
