"""DMS events the way integrators send them, through real Kafka into routing running as its own
process: raw JSON produced with a plain Kafka producer, and events posted over HTTP to ingest
(in-process, on its own database) which hands them to the same topic. What routing cannot use is
dead-lettered with the reason; the next event is still handled."""

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from devtools.processes import ServiceProcess
from ingest.app import create_app as create_ingest_app
from ingest.dms_repository import save_dms_integration
from ingest.migrations import migrate as migrate_ingest
from ingest.settings import IngestSettings
from routing.tables import appointments, conversations, customer_phones, customers
from shared.db.engine import create_engine, create_session_factory
from shared.testing.infrastructure import fresh_database, kafka_bootstrap
from shared.testing.kafka_records import first_record
from shared.testing.ports import free_port
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually

from .dms_helpers import appointment_event, customer_event, dms_id, new_number

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kafka() -> str:
    return kafka_bootstrap()


@pytest.fixture(scope="module")
def prefix(routing_database_url, kafka, tmp_path_factory) -> str:
    """routing as a real process on this session's database, with topics of its own prefix."""
    topic_prefix = new_topic_prefix("td")
    env = {
        "DATABASE_URL": routing_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "KAFKA_PARTITIONS": "1",
        "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
        "KAFKA_HANDLER_RETRY_SECONDS": "3",
        "LOG_FORMAT": "json",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }
    log_path = tmp_path_factory.mktemp("routing-dms") / "routing.log"
    service = ServiceProcess("routing", free_port(), env, log_path)
    service.start()
    try:
        service.wait_ready()
        yield topic_prefix
    finally:
        service.stop()


@pytest.fixture(scope="module")
def ingest_database_url() -> str:
    with fresh_database("sbingestdms", migrate_ingest) as url:
        yield url


@pytest.fixture(scope="module")
async def ingest(prefix, kafka, ingest_database_url) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """ingest's app in-process on the same topics; yields its client and its sessions."""
    settings = IngestSettings(
        database_url=ingest_database_url,
        kafka_bootstrap_servers=kafka,
        kafka_topic_prefix=prefix,
        kafka_partitions=1,
        log_level="WARNING",
    )
    app = create_ingest_app(settings)
    engine = create_engine(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
            yield http, create_session_factory(engine)
    await engine.dispose()


async def produce(kafka: str, topic: str, value: bytes, key: str) -> None:
    """As an integrator would: a plain producer, bytes of JSON, keyed by the DMS customer id."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def test_raw_json_on_kafka_is_applied_once(prefix, kafka, dealer, sessions):
    cid, mobile = dms_id(), new_number()
    event = customer_event(dealer.account_id, cid, 1, [(mobile, "mobile")], "Jo", "Tremblay")
    raw = json.dumps(event).encode()
    await produce(kafka, f"{prefix}dms.events.v1", raw, cid)
    await produce(kafka, f"{prefix}dms.events.v1", raw, cid)  # at least once: delivered twice

    async def profiles():
        async with sessions() as session:
            return (
                await session.execute(
                    select(customers.c.id, customers.c.first_name).where(
                        customers.c.account_id == dealer.account_id, customers.c.dms_customer_id == cid
                    )
                )
            ).all()

    [(customer_id, first_name)] = await eventually(profiles)
    assert first_name == "Jo"
    # The profile goes out on customer.changed.v1 through the outbox.
    record = await first_record(
        kafka,
        f"{prefix}customer.changed.v1",
        lambda r: json.loads(r.value)["customer_id"] == str(customer_id),
    )
    assert json.loads(record.value)["phones"] == [{"e164": mobile, "kind": "mobile"}]
    assert record.key == str(customer_id).encode()


async def test_what_routing_cannot_use_is_dead_lettered_and_the_next_event_still_handled(
    prefix, kafka, dealer, sessions
):
    bad_amount = {
        "event_id": str(uuid.uuid4()),
        "account_id": str(dealer.account_id),
        "type": "payment.recorded",
        "dms_record_id": "P-1",
        "record_version": 1,
        "payload": {"payment_id": "P-1", "dms_customer_id": "C-1", "amount": "12.345", "currency": "USD"},
    }
    await produce(kafka, f"{prefix}dms.events.v1", json.dumps(bad_amount).encode(), "C-1")
    await produce(kafka, f"{prefix}dms.events.v1", b"this is not json {", "C-2")
    cid = dms_id()
    good = customer_event(dealer.account_id, cid, 1, [(new_number(), "mobile")])
    await produce(kafka, f"{prefix}dms.events.v1", json.dumps(good).encode(), cid)

    dead = await first_record(
        kafka, f"{prefix}dms.events.v1.dlq", lambda r: bad_amount["event_id"].encode() in r.value
    )
    reason = dict(dead.headers)["x-dead-letter-reason"].decode()
    assert "amount" in reason and "decimal places" in reason
    not_json = await first_record(
        kafka, f"{prefix}dms.events.v1.dlq", lambda r: r.value == b"this is not json {"
    )
    assert "json" in dict(not_json.headers)["x-dead-letter-reason"].decode().lower()

    async def applied():
        async with sessions() as session:
            return await session.scalar(
                select(customers.c.id).where(
                    customers.c.account_id == dealer.account_id, customers.c.dms_customer_id == cid
                )
            )

    assert await eventually(applied)


async def test_events_posted_to_ingest_reach_routing_and_the_appointments_api(
    prefix, kafka, ingest, dealer, other_dealer, sessions, client
):
    http, ingest_sessions = ingest
    secret = secrets.token_urlsafe(24)
    async with ingest_sessions.begin() as session:
        await save_dms_integration(session, uuid.uuid4(), dealer.account_id, "Test DMS", secret)
    auth = {"authorization": f"Bearer {secret}"}
    cid, mobile = dms_id(), new_number()
    customer = customer_event(dealer.account_id, cid, 1, [(mobile, "mobile")], "Ana", "Roy")
    booked = appointment_event(dealer.account_id, f"A-{cid}", cid, "2027-03-04T09:00:00-05:00")
    for event in (customer, booked):
        del event["account_id"]  # optional over HTTP: the integration's account
    foreign = appointment_event(other_dealer.account_id, f"A-x-{cid}", cid, "2027-03-04T10:00:00-05:00")

    response = await http.post(
        "/api/v1/dms/events", json={"events": [customer, booked, foreign]}, headers=auth
    )
    assert response.status_code == 202, response.text
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted", "rejected"]
    wrong = await http.post("/api/v1/dms/events", json=customer, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401

    async def listed():
        found = await client.get("/api/v1/appointments", params={"date": "2027-03-04"}, headers=dealer.sam)
        return [item for item in found.json()["items"] if item["dms_customer_id"] == cid]

    async def with_customer():
        items = await listed()
        return items if items and items[0]["customer"] else None

    [item] = await eventually(with_customer)
    assert (item["appointment_type"], item["customer"]["first_name"]) == ("oil change", "Ana")
    assert item["customer"]["mobile_e164"] == mobile
    # The other account's appointment never arrived anywhere.
    others = await client.get("/api/v1/appointments", params={"date": "2027-03-04"}, headers=other_dealer.sam)
    assert others.json()["items"] == []

    # Sending the same batch again (an integrator's retry) changes nothing.
    again = await http.post("/api/v1/dms/events", json={"events": [customer, booked]}, headers=auth)
    assert again.status_code == 202
    await asyncio.sleep(2)
    assert len(await listed()) == 1
    async with sessions() as session:
        assert (
            await session.scalar(
                select(appointments.c.record_version).where(appointments.c.dms_appointment_id == f"A-{cid}")
            )
        ) == 1


async def test_a_merge_through_kafka_in_reverse_order(prefix, kafka, dealer, sessions, ago):
    a_number, old_number, cid = new_number(), new_number(), dms_id()
    a_conversation = await dealer.receive(ago(1), "hi", customer_number=a_number)
    newer = customer_event(dealer.account_id, cid, 2, [(a_number, "mobile")])
    older = customer_event(dealer.account_id, cid, 1, [(old_number, "mobile")])
    for event in (newer, older):
        await produce(kafka, f"{prefix}dms.events.v1", json.dumps(event).encode(), cid)

    record = await first_record(
        kafka,
        f"{prefix}conversation.merged.v1",
        lambda r: json.loads(r.value)["moved_conversation_ids"] == [str(a_conversation)],
    )
    merged = json.loads(record.value)
    await asyncio.sleep(1)  # the older event arrives after and must change nothing
    async with sessions() as session:
        holder = await session.scalar(
            select(customer_phones.c.customer_id).where(customer_phones.c.e164 == a_number)
        )
        old_holder = await session.scalar(
            select(customer_phones.c.customer_id).where(customer_phones.c.e164 == old_number)
        )
        owner = await session.scalar(
            select(conversations.c.customer_id).where(conversations.c.id == a_conversation)
        )
    assert str(holder) == merged["surviving_customer_id"] == str(owner)
    assert old_holder is None
