"""Sending through real Kafka: routing runs as its own process (on this session's database, with
topics of its own prefix); another system asks it to text a customer on
`messaging.send_requested.v1`, the relay hands the message to notifier's topic, and notifier's
and the carrier's reports come back and move the message forward. A request that can never be
sent lands in the dead-letter topic with its reason."""

import json
import secrets
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from devtools.processes import ServiceProcess
from routing.tables import early_carrier_receipts, messages, outbox
from shared.contracts.base import Event
from shared.contracts.carrier import CarrierStatus
from shared.contracts.messaging import MessageSource, OutboundRequested, OutboundStatusChanged, SendRequested
from shared.testing.infrastructure import kafka_bootstrap
from shared.testing.kafka_records import first_record
from shared.testing.ports import free_port
from shared.testing.topic_prefixes import new_topic_prefix
from shared.testing.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kafka() -> str:
    return kafka_bootstrap()


@pytest.fixture(scope="module")
def routing_service(routing_database_url, kafka, tmp_path_factory):
    """routing as a real process; yields its topic prefix."""
    prefix = new_topic_prefix("t")
    env = {
        "DATABASE_URL": routing_database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_PARTITIONS": "1",
        "KAFKA_PUBLISH_TIMEOUT_SECONDS": "3",
        # A status for a message nobody knows is retried this long before it is dead-lettered.
        "KAFKA_HANDLER_RETRY_SECONDS": "3",
        "LOG_FORMAT": "json",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }
    log_path = tmp_path_factory.mktemp("routing-kafka") / "routing.log"
    service = ServiceProcess("routing", free_port(), env, log_path)
    service.start()
    try:
        service.wait_ready()
        yield prefix
    finally:
        service.stop()


async def publish(kafka: str, topic: str, event: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        await producer.send_and_wait(topic, event.to_bytes(), key=event.partition_key.encode())
    finally:
        await producer.stop()


async def test_a_send_request_is_texted_and_its_outcome_recorded(routing_service, kafka, dealer):
    prefix = routing_service
    request = SendRequested(
        account_id=dealer.account_id,
        request_id=f"campaign-42:{uuid4()}",
        customer_phone=f"(438) 555-{secrets.randbelow(10**4):04d}",
        body="Winter tires are in. Reply to book!",
        source=MessageSource(kind="campaign", id="campaign-42", name="Winter tires"),
    )
    await publish(kafka, f"{prefix}messaging.send_requested.v1", request)
    # Delivered twice (Kafka is at least once): one message all the same.
    await publish(
        kafka, f"{prefix}messaging.send_requested.v1", request.model_copy(update={"event_id": uuid4()})
    )

    async def stored():
        async with dealer.sessions() as session:
            return (
                await session.execute(
                    select(messages).where(
                        messages.c.account_id == dealer.account_id,
                        messages.c.client_reference == request.request_id,
                    )
                )
            ).all()

    [message] = await eventually(stored)
    assert (message.status, message.source_kind, message.source_id) == ("queued", "campaign", "campaign-42")
    assert message.from_e164 == dealer.number

    # The relay handed it to notifier, keyed by the sending number.
    record = await first_record(
        kafka, f"{prefix}sms.outbound_requested.v1", lambda r: str(message.id).encode() in r.value
    )
    requested = OutboundRequested.model_validate_json(record.value)
    assert record.key == dealer.number.encode()
    assert (requested.to_number, requested.respect_quiet_hours) == (message.to_e164, True)

    # notifier reports the carrier's id, then the carrier's receipt arrives through ingest.
    carrier_id = f"SM{uuid4().hex}"
    sent = OutboundStatusChanged(
        account_id=dealer.account_id,
        message_id=message.id,
        status="sent",
        carrier="twilio",
        carrier_message_id=carrier_id,
    )
    await publish(kafka, f"{prefix}sms.outbound_status.v1", sent)
    receipt = CarrierStatus(
        account_id=dealer.account_id, carrier="twilio", carrier_message_id=carrier_id, status="delivered"
    )
    await publish(kafka, f"{prefix}carrier.status.v1", receipt)

    async def delivered():
        async with dealer.sessions() as session:
            row = (await session.execute(select(messages).where(messages.c.id == message.id))).one()
        return row if row.status == "delivered" else None

    row = await eventually(delivered)
    assert row.carrier_message_id == carrier_id
    assert len(await stored()) == 1


async def test_requests_that_cannot_be_handled_land_in_the_dead_letter_topic(routing_service, kafka, dealer):
    prefix = routing_service
    landline = SendRequested(
        account_id=dealer.account_id,
        request_id=f"auto-{uuid4()}",
        customer_phone="+33 1 42 68 53 00",
        body="Your car is ready",
        source=MessageSource(kind="automation", id="ready"),
    )
    unknown = OutboundStatusChanged(account_id=dealer.account_id, message_id=uuid4(), status="delivered")
    await publish(kafka, f"{prefix}messaging.send_requested.v1", landline)
    await publish(kafka, f"{prefix}sms.outbound_status.v1", unknown)

    dead = await first_record(
        kafka, f"{prefix}messaging.send_requested.v1.dlq", lambda r: landline.request_id.encode() in r.value
    )
    headers = {key: value.decode() for key, value in dead.headers}
    assert headers["x-dead-letter-error"] == "PermanentError"
    assert "landline" in headers["x-dead-letter-reason"]

    # A status for a message routing never stored is retried for a while, then set aside.
    dead = await first_record(
        kafka, f"{prefix}sms.outbound_status.v1.dlq", lambda r: str(unknown.message_id).encode() in r.value
    )
    assert "MessageNotYetKnown" in dict(dead.headers)["x-dead-letter-error"].decode()
    async with dealer.sessions() as session:
        assert (
            await session.scalar(select(messages.c.id).where(messages.c.id == UUID(str(unknown.message_id))))
            is None
        )


async def test_a_receipt_that_overtakes_the_carrier_id_is_applied_when_it_comes(
    routing_service, kafka, dealer
):
    """After an outage the carrier's receipt can reach routing before notifier's report naming
    the carrier's id: routing keeps it (no dead letter) and applies it when the report comes."""
    prefix = routing_service
    request = SendRequested(
        account_id=dealer.account_id,
        request_id=f"campaign-43:{uuid4()}",
        customer_phone=f"(438) 555-{secrets.randbelow(10**4):04d}",
        body="Your winter tires are installed.",
        source=MessageSource(kind="campaign", id="campaign-43"),
    )
    await publish(kafka, f"{prefix}messaging.send_requested.v1", request)

    async def queued():
        async with dealer.sessions() as session:
            return (
                await session.execute(
                    select(messages).where(
                        messages.c.account_id == dealer.account_id,
                        messages.c.client_reference == request.request_id,
                    )
                )
            ).first()

    message = await eventually(queued)
    carrier_id = f"SM{uuid4().hex}"
    receipt = CarrierStatus(
        account_id=dealer.account_id,
        carrier="twilio",
        carrier_message_id=carrier_id,
        status="undelivered",
        error_code="30003",
        error_category="unreachable",
        error_message="Unreachable destination handset",
    )
    await publish(kafka, f"{prefix}carrier.status.v1", receipt)

    async def kept():
        async with dealer.sessions() as session:
            return await session.scalar(
                select(early_carrier_receipts.c.event_id).where(
                    early_carrier_receipts.c.event_id == receipt.event_id
                )
            )

    await eventually(kept)
    sent = OutboundStatusChanged(
        account_id=dealer.account_id,
        message_id=message.id,
        status="sent",
        carrier="twilio",
        carrier_message_id=carrier_id,
    )
    await publish(kafka, f"{prefix}sms.outbound_status.v1", sent)

    async def undelivered():
        async with dealer.sessions() as session:
            row = (await session.execute(select(messages).where(messages.c.id == message.id))).one()
        return row if row.status == "undelivered" else None

    row = await eventually(undelivered)
    assert (row.error_category, row.error_code, row.carrier_message_id) == (
        "unreachable",
        "30003",
        carrier_id,
    )
    assert await kept() is None

    # The live inbox hears each step once, through the relay, on the conversation's key.
    async def announced():
        async with dealer.sessions() as session:
            payloads = await session.scalars(
                select(outbox.c.payload)
                .where(outbox.c.topic == "conversation.message_status_changed.v1")
                .order_by(outbox.c.id)
            )
            events = [json.loads(bytes(p)) for p in payloads]
        return [(e["status"], e["error_category"]) for e in events if e["message_id"] == str(message.id)]

    assert await announced() == [("sent", None), ("undelivered", "unreachable")]
    record = await first_record(
        kafka,
        f"{prefix}conversation.message_status_changed.v1",
        lambda r: str(message.id).encode() in r.value and b"undelivered" in r.value,
    )
    assert record.key == str(message.conversation_id).encode()
