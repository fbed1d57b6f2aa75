"""Webhooks claimed and published in groups (ingest/usecases/claims.py), over real Kafka and
PostgreSQL: many at once are each accepted and published once; the same MessageSid several times
at once is one event; a group whose publish fails keeps no claim, so the carrier's retry is
accepted, not taken for a duplicate."""

import asyncio
from collections import Counter
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.twilio import inbound_sms_form
from ingest.domain import twilio
from ingest.repository import TelnyxKeys, TwilioCredentials
from ingest.usecases.common import WebhookDeps, publish_once
from shared.contracts.topics import CARRIER_INBOUND
from shared.kafka.broker import EventPublisher, PublishFailed

SMS_URL = "https://ingest.example.test/webhooks/twilio/sms"
CUSTOMER = "+14385550123"


def _post(client, account, form: dict[str, str]):
    signature = RequestValidator(account.auth_token).compute_signature(SMS_URL, form)
    return client.post(SMS_URL, data=form, headers={"X-Twilio-Signature": signature})


def _form(account, body: str) -> dict[str, str]:
    return inbound_sms_form(account.account_sid, CUSTOMER, account.number, body)


async def test_many_webhooks_at_once_are_each_accepted_and_published_once(client, kafka, twilio_account):
    forms = [_form(twilio_account, f"at once {index}") for index in range(40)]
    responses = await asyncio.gather(*(_post(client, twilio_account, form) for form in forms))
    assert [r.status_code for r in responses] == [200] * 40
    assert {r.headers["x-switchboard-outcome"] for r in responses} == {"accepted"}
    sids = {form["MessageSid"] for form in forms}
    published = await kafka.all("carrier.inbound.v1", lambda v: v.get("carrier_message_id") in sids)
    assert Counter(v["carrier_message_id"] for v in published) == dict.fromkeys(sids, 1)


async def test_the_same_message_sid_posted_many_times_at_once_is_one_event(client, kafka, twilio_account):
    form = _form(twilio_account, "retried")
    responses = await asyncio.gather(*(_post(client, twilio_account, form) for _ in range(8)))
    assert sorted(r.headers["x-switchboard-outcome"] for r in responses) == ["accepted"] + ["duplicate"] * 7
    sid = form["MessageSid"]
    assert len(await kafka.all("carrier.inbound.v1", lambda v: v.get("carrier_message_id") == sid)) == 1


async def test_a_failed_publish_keeps_no_claim_so_the_retry_is_accepted(
    ingest_settings, sessions, client, kafka, twilio_account
):
    unreachable = ingest_settings.model_copy(
        update={"kafka_bootstrap_servers": "127.0.0.1:1", "kafka_publish_timeout_seconds": 1.0}
    )
    kafka_down = WebhookDeps(
        sessions=sessions,
        publisher=EventPublisher(KafkaBroker(unreachable.kafka_bootstrap_servers), unreachable),
        credentials=TwilioCredentials(sessions, 0),
        telnyx_keys=TelnyxKeys(sessions, 0),
    )
    forms = [_form(twilio_account, f"while Kafka is down {index}") for index in range(3)]
    events = [twilio.inbound_message(form, twilio_account.account_id, datetime.now(UTC)) for form in forms]
    results = await asyncio.gather(
        *(
            publish_once(kafka_down, "twilio", "sms", e.carrier_message_id, CARRIER_INBOUND, e)
            for e in events
        ),
        return_exceptions=True,
    )
    assert all(isinstance(result, PublishFailed) for result in results), results
    async with sessions() as session:
        kept = await session.scalar(
            text("SELECT count(*) FROM ingest.received_webhooks WHERE dedupe_key = ANY(:keys)"),
            {"keys": [form["MessageSid"] for form in forms]},
        )
    assert kept == 0
    # Twilio (or catch-up) brings them again: accepted, not duplicates.
    retried = await asyncio.gather(*(_post(client, twilio_account, form) for form in forms))
    assert [r.headers.get("x-switchboard-outcome") for r in retried] == ["accepted"] * 3
