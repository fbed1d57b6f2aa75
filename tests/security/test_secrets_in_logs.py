"""Secrets never reach the logs, even at DEBUG: the services of this session log at DEBUG
(conftest.py); a flow that carries every kind of secret goes through them — passwords at sign-in,
the JWTs they answer (in headers, and in the live stream's query), a carrier auth token set by an
admin and a webhook signed with it, a DMS integration's secret and an event sent with it, the
operator token that created the second dealership — and then every line the five services wrote
is searched for each secret."""

import base64
import secrets
import time

import httpx
import pytest
from twilio.request_validator import RequestValidator

from devtools import demo
from tests.security.conftest import OPERATOR_TOKEN, Dealership, RunningServices, bearer, login


@pytest.mark.e2e
def test_no_secret_of_a_flow_reaches_any_log_line(running: RunningServices, victim: Dealership, agent_token):
    routing, ingest, notifier = running.url("routing"), running.url("ingest"), running.url("notifier")
    admin_token = login(routing, demo.ADMIN_EMAIL, demo.PASSWORD)
    wrong_password = f"not-the-password-{secrets.token_hex(4)}"
    auth_token = secrets.token_hex(16)
    account_sid = f"AC{secrets.token_hex(16)}"
    admin = bearer(victim.admin_token)
    with httpx.Client(timeout=20) as http:
        refused = http.post(
            f"{routing}/api/v1/auth/login", json={"email": victim.admin_email, "password": wrong_password}
        )
        assert refused.status_code == 401
        for credentials in (
            f"{ingest}/api/v1/carrier-webhook-credentials",
            f"{notifier}/api/v1/carrier-accounts",
        ):
            answer = http.put(
                f"{credentials}/twilio",
                headers=admin,
                json={"account_sid": account_sid, "auth_token": auth_token},
            )
            assert answer.status_code == 200, answer.text
        url = f"{ingest}/webhooks/twilio/sms"
        form = {
            "AccountSid": account_sid,
            "MessageSid": f"SM{secrets.token_hex(16)}",
            "From": "+14385550199",
            "To": "+14385550100",
            "Body": "Is my car ready?",
            "NumMedia": "0",
        }
        signature = RequestValidator(auth_token).compute_signature(url, form)
        webhook = http.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert webhook.status_code in (200, 400), webhook.text  # 400: the number is unknown
        forged = http.post(
            url, data=form, headers={"X-Twilio-Signature": base64.b64encode(b"x" * 20).decode()}
        )
        assert forged.status_code == 403
        event = {
            "event_id": secrets.token_hex(8),
            "type": "customer.upserted",
            "dms_record_id": "C-1",
            "record_version": 1,
            "payload": {"dms_customer_id": "C-1", "first_name": "Ann", "phones": ["+14385550199"]},
        }
        dms = http.post(f"{ingest}/api/v1/dms/events", json=event, headers=bearer(victim.dms_secret))
        assert dms.status_code in (202, 422), dms.text
        wrong_dms = http.post(
            f"{ingest}/api/v1/dms/events", json=event, headers=bearer(victim.dms_secret + "x")
        )
        assert wrong_dms.status_code == 401
        with http.stream(
            "GET", f"{notifier}/api/v1/notifications/stream", params={"access_token": admin_token}
        ) as stream:
            assert stream.status_code == 200
        http.get(f"{routing}/api/v1/me", headers=bearer(agent_token))
    time.sleep(1.0)  # let the consumers log what they handled
    logs = running.logs()
    assert '"level": "debug"' in logs, "the services were expected to log at DEBUG"
    kept_secret = {
        "the demo password": demo.PASSWORD,
        "the victim's password": victim.password,
        "a wrong password": wrong_password,
        "the admin's JWT": admin_token,
        "the victim admin's JWT": victim.admin_token,
        "the agent's JWT": agent_token,
        "the Twilio auth token": auth_token,
        "the Twilio signature": signature,
        "the DMS secret": victim.dms_secret,
        "the demo DMS secret": demo.DMS_INTEGRATION_SECRET,
        "the demo Twilio auth token": demo.TWILIO_AUTH_TOKEN,
        "the operator token (which created the victim)": OPERATOR_TOKEN,
    }
    leaked = {name: _line_with(logs, value) for name, value in kept_secret.items() if value in logs}
    assert not leaked, leaked


def _line_with(logs: str, value: str) -> str:
    line = next(line for line in logs.splitlines() if value in line)
    return line[:400]
