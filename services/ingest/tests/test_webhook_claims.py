"""Webhooks claimed and published in groups (ingest/usecases/claims.py), over real Kafka and
PostgreSQL: many at once are each accepted and published once; the same MessageSid several times
at once is one event; a group whose publish fails keeps no claim, so the carrier's retry is
accepted, not taken for a duplicate. Groups overlap (the next claims while the previous waits for
Kafka): records still reach Kafka in arrival order, a failed group among them loses only its own
claims, and a key claimed by a group in flight is settled by that group's outcome. Each text is
counted for billing (usage) exactly when its claim commits: once, and never for a failed group."""

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.twilio import inbound_sms_form
from ingest.domain import twilio
from ingest.repository import TelnyxKeys, TwilioCredentials
from ingest.usecases.claims import WebhookClaims
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


async def test_the_same_message_sid_posted_many_times_at_once_is_one_event(
    client, kafka, sessions, twilio_account
):
    form = _form(twilio_account, "retried")
    responses = await asyncio.gather(*(_post(client, twilio_account, form) for _ in range(8)))
    assert sorted(r.headers["x-switchboard-outcome"] for r in responses) == ["accepted"] + ["duplicate"] * 7
    sid = form["MessageSid"]
    assert len(await kafka.all("carrier.inbound.v1", lambda v: v.get("carrier_message_id") == sid)) == 1
    assert await _counted(sessions, [sid]) == {sid: 1}


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
    sids = [form["MessageSid"] for form in forms]
    assert await _counted(sessions, sids) == {}  # nothing counted that Kafka does not hold
    # Twilio (or catch-up) brings them again: accepted, not duplicates, and counted then.
    retried = await asyncio.gather(*(_post(client, twilio_account, form) for form in forms))
    assert [r.headers.get("x-switchboard-outcome") for r in retried] == ["accepted"] * 3
    assert await _counted(sessions, sids) == dict.fromkeys(sids, 1)


class _SlowAcks(EventPublisher):
    """The real publisher over the real broker, with every group's acknowledgement awaited 40 ms
    later (so the next groups claim and hand over their records meanwhile), every other group
    slow to hand its records over (as a slow claim would be), and, when asked, one group (by the
    order groups came) failing after Kafka acknowledged it."""

    def __init__(self, broker: KafkaBroker, settings, fail_group: int | None = None) -> None:
        super().__init__(broker, settings)
        self.fail_group = fail_group
        self.groups = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def hand_in_order(self, records):
        self.groups += 1
        number = self.groups
        if number % 2:
            await asyncio.sleep(0.02)
        handed = await super().hand_in_order(records)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        publisher = self

        class Slow:
            async def acknowledged(self) -> None:
                try:
                    await asyncio.sleep(0.04)
                    await handed.acknowledged()
                    if number == publisher.fail_group:
                        raise PublishFailed(f"group {number} failed (injected)")
                finally:
                    publisher.in_flight -= 1

        return Slow()


@pytest.fixture
async def started_broker(ingest_settings):
    broker = KafkaBroker(ingest_settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    await broker.start()
    yield broker
    await broker.stop()


def _events(account, label: str, count: int):
    now = datetime.now(UTC)
    return [
        twilio.inbound_message(_form(account, f"{label} {n}"), account.account_id, now) for n in range(count)
    ]


async def _arriving(claims: WebhookClaims, events, gap: float = 0.003):
    """publish_once for each event, one arrival every `gap` seconds, in the list's order."""
    tasks = []
    for event in events:
        tasks.append(
            asyncio.create_task(
                claims.publish_once("twilio", "sms", event.carrier_message_id, CARRIER_INBOUND, event)
            )
        )
        await asyncio.sleep(gap)
    return await asyncio.gather(*tasks, return_exceptions=True)


async def _claimed(sessions, sids) -> set[str]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT dedupe_key FROM ingest.received_webhooks WHERE dedupe_key = ANY(:keys)"),
            {"keys": list(sids)},
        )
    return {row.dedupe_key for row in rows}


async def _counted(sessions, sids) -> dict[str, int]:
    """How many times usage counted each of these texts (absent: never)."""
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT message_id, count(*) AS n FROM ingest.usage_texts_in"
                " WHERE message_id = ANY(:keys) GROUP BY message_id"
            ),
            {"keys": list(sids)},
        )
    return {row.message_id: row.n for row in rows}


async def test_overlapping_groups_publish_in_arrival_order(
    sessions, kafka, ingest_settings, started_broker, twilio_account
):
    publisher = _SlowAcks(started_broker, ingest_settings)
    claims = WebhookClaims(sessions, publisher)
    events = _events(twilio_account, "in arrival order", 60)  # one customer: one partition key
    assert await _arriving(claims, events) == [True] * 60
    assert publisher.most_in_flight > 1, "the groups never overlapped"
    sids = [event.carrier_message_id for event in events]
    published = await kafka.all("carrier.inbound.v1", lambda v: v.get("carrier_message_id") in set(sids))
    assert [v["carrier_message_id"] for v in published] == sids


async def test_a_failed_group_among_overlapping_ones_keeps_no_claim_and_the_others_keep_theirs(
    sessions, client, ingest_settings, started_broker, twilio_account
):
    publisher = _SlowAcks(started_broker, ingest_settings, fail_group=2)
    claims = WebhookClaims(sessions, publisher)
    events = _events(twilio_account, "one group fails", 40)
    results = await _arriving(claims, events)
    failed = [
        e.carrier_message_id for e, r in zip(events, results, strict=True) if isinstance(r, PublishFailed)
    ]
    accepted = [e.carrier_message_id for e, r in zip(events, results, strict=True) if r is True]
    assert failed and accepted and len(failed) + len(accepted) == 40, results
    assert publisher.most_in_flight > 1, "the groups never overlapped"
    assert await _claimed(sessions, failed + accepted) == set(accepted)
    assert await _counted(sessions, failed + accepted) == dict.fromkeys(accepted, 1)
    # The carrier sends the failed ones again: accepted, not taken for duplicates.
    forms = [{**_form(twilio_account, "one group fails, again"), "MessageSid": sid} for sid in failed]
    retried = await asyncio.gather(*(_post(client, twilio_account, form) for form in forms))
    assert [r.headers.get("x-switchboard-outcome") for r in retried] == ["accepted"] * len(failed)
    assert await _counted(sessions, failed + accepted) == dict.fromkeys(failed + accepted, 1)


@pytest.mark.parametrize("first_fails", [False, True])
async def test_a_key_claimed_by_a_group_in_flight_waits_for_its_outcome(
    sessions, ingest_settings, started_broker, twilio_account, first_fails
):
    # The same MessageSid in two overlapping groups: the second group's claim waits for the
    # first group's transaction; a duplicate if that commits, claimed if it rolled back.
    publisher = _SlowAcks(started_broker, ingest_settings, fail_group=1 if first_fails else None)
    claims = WebhookClaims(sessions, publisher)
    (event,) = _events(twilio_account, "in two groups", 1)
    sid = event.carrier_message_id
    first = asyncio.create_task(claims.publish_once("twilio", "sms", sid, CARRIER_INBOUND, event))
    await asyncio.sleep(0.02)  # the first group is waiting for its (slowed) acknowledgement
    second = asyncio.create_task(claims.publish_once("twilio", "sms", sid, CARRIER_INBOUND, event))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert publisher.groups == 2
    if first_fails:
        assert isinstance(results[0], PublishFailed) and results[1] is True
    else:
        assert results == [True, False]
    assert await _claimed(sessions, [sid]) == {sid}
    assert await _counted(sessions, [sid]) == {sid: 1}
