"""A second dealership, created by an operator through routing's operator API with every
service a real process: its first admin is e-mailed the invitation (real SMTP), sets a password
from the link, and from then on sees nothing of Demo Motors (nor Demo Motors of it). Suspending
and resuming it are stored and published on Kafka (dealership.suspended/resumed.v1)."""

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.kafka_records import first_record
from shared.testing.waiting import eventually
from tests.e2e.clients import login
from tests.e2e.conftest import OPERATOR_TOKEN

pytestmark = pytest.mark.e2e
OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_an_operator_creates_a_dealership_whose_admin_is_emailed_and_sees_only_their_own(
    services, mailbox, kafka_bootstrap, topic_prefix
):
    ingest, routing, search = (services[n].url for n in ("ingest", "routing", "search"))
    tag = uuid.uuid4().hex[:8]
    admin_email = f"dana.{tag}@laurier.test"
    async with httpx.AsyncClient(timeout=30) as client:
        demo_admin = {
            "authorization": f"Bearer {await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)}"
        }
        # A staff token opens nothing on the operator API.
        refused = await client.get(f"{routing}/platform/v1/dealerships", headers=demo_admin)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"

        created = await client.post(
            f"{routing}/platform/v1/dealerships",
            headers=OPERATOR | {"idempotency-key": f"e2e-{tag}"},
            json={
                "name": f"Laurier Toyota {tag}",
                "time_zone": "America/Toronto",
                "language": "en",
                "admin": {"name": "Dana Owner", "email": admin_email},
            },
        )
        assert created.status_code == 201, created.text
        dealership = created.json()
        provisioned = await first_record(
            kafka_bootstrap,
            f"{topic_prefix}dealership.provisioned.v1",
            lambda r: json.loads(r.value)["account_id"] == dealership["id"],
        )
        assert provisioned is not None and json.loads(provisioned.value)["name"] == f"Laurier Toyota {tag}"

        # notifier e-mails the admin the same link the operator was answered.
        async def emails() -> list:
            return mailbox.to(admin_email)

        [email] = await eventually(emails, timeout=60)
        text = email.get_body(("plain",)).get_content()
        assert dealership["admin_invitation"]["link"] in text
        accepted = await client.post(
            f"{routing}/api/v1/invitations/accept",
            json={"token": _token(dealership["admin_invitation"]["link"]), "password": "laurier owner pass"},
        )
        assert accepted.status_code == 200, accepted.text
        dana = {"authorization": f"Bearer {accepted.json()['access_token']}"}
        me = (await client.get(f"{routing}/api/v1/me", headers=dana)).json()
        assert (me["account_id"], me["role"]) == (dealership["id"], "admin")

        # A customer texts Demo Motors: only Demo Motors sees it.
        word = f"zebra{tag}"
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID, f"+1438555{uuid.uuid4().int % 10_000:04d}", demo.DEALERSHIP_NUMBER, word
        )
        assert (await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)).status_code == 200

        async def demo_conversation() -> str | None:
            listed = (await client.get(f"{routing}/api/v1/conversations", headers=demo_admin)).json()["items"]
            return next((c["id"] for c in listed if c["customer_phone"] == form["From"]), None)

        conversation_id = await eventually(demo_conversation, timeout=60)

        async def found(headers) -> int:
            answer = await client.get(f"{search}/api/v1/search", params={"q": word}, headers=headers)
            return len(answer.json()["results"])

        assert await eventually(lambda: found(demo_admin), timeout=60) >= 1
        assert await found(dana) == 0
        assert (await client.get(f"{routing}/api/v1/conversations", headers=dana)).json()["items"] == []
        for path in (
            f"/api/v1/conversations/{conversation_id}",
            f"/api/v1/conversations/{conversation_id}/messages",
        ):
            assert (await client.get(f"{routing}{path}", headers=dana)).status_code == 404, path
        assert (await client.get(f"{routing}/api/v1/users/{demo.ADMIN_ID}", headers=dana)).status_code == 404
        assert (await client.get(f"{routing}/api/v1/users/{me['id']}", headers=demo_admin)).status_code == 404
        dana_users = (await client.get(f"{routing}/api/v1/users", headers=dana)).json()
        assert [u["email"] for u in dana_users] == [admin_email]

        # Suspend and resume: the state is stored and each change published.
        base = f"{routing}/platform/v1/dealerships/{dealership['id']}"
        suspended = await client.post(f"{base}/suspend", headers=OPERATOR, json={"reason": "e2e"})
        assert suspended.json()["status"] == "suspended"
        event = await first_record(
            kafka_bootstrap,
            f"{topic_prefix}dealership.suspended.v1",
            lambda r: json.loads(r.value)["account_id"] == dealership["id"],
        )
        assert event is not None and json.loads(event.value)["suspended_by"] == "e2e"
        assert (await client.get(base, headers=OPERATOR)).json()["status"] == "suspended"
        assert (await client.post(f"{base}/resume", headers=OPERATOR)).json()["status"] == "active"
        event = await first_record(
            kafka_bootstrap,
            f"{topic_prefix}dealership.resumed.v1",
            lambda r: json.loads(r.value)["account_id"] == dealership["id"],
        )
        assert event is not None

        trail = (
            await client.get(f"{routing}/platform/v1/audit?account_id={dealership['id']}", headers=OPERATOR)
        ).json()
        assert [line["action"] for line in trail["items"]][:3] == [
            "dealership.resume",
            "dealership.get",
            "dealership.suspend",
        ]
        assert OPERATOR_TOKEN not in json.dumps(trail)
