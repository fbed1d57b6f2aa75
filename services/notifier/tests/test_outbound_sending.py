"""Outbound sending against real PostgreSQL (a fresh database migrated with notifier's history),
real Kafka (a topic prefix of its own; statuses are read back from `sms.outbound_status.v1`) and
the carrier simulator as a real HTTP server, for both carriers."""

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from devtools.carrier_simulator.__main__ import create_app as create_simulator
from devtools.carrier_simulator.send_api import SimulatorConfig, SimulatorState
from notifier.migrations import migrate
from notifier.outbound.credentials import save_carrier_account
from notifier.outbound.release import QuietHoursRelease
from notifier.outbound.wiring import build_outbound_sending, register_outbound_sending
from notifier.settings import NotifierSettings
from shared.contracts.base import Attachment
from shared.contracts.messaging import OutboundRequested, OutboundStatusChanged
from shared.contracts.topics import SMS_OUTBOUND_REQUESTED, SMS_OUTBOUND_STATUS
from shared.kafka.broker import PublishFailed
from shared.kafka.topics import ensure_topics, topic_name
from shared.service import build_infrastructure
from shared.testing.http_server import serving
from shared.testing.infrastructure import fresh_database
from shared.testing.topic_prefixes import new_topic_prefix

ROOT = Path(__file__).resolve().parents[3]
_PG_PORT = os.environ.get("SWITCHBOARD_PG_PORT", "55432")
KAFKA = os.environ.get(
    "KAFKA_BOOTSTRAP_SERVERS", f"localhost:{os.environ.get('SWITCHBOARD_KAFKA_PORT', '9092')}"
)
LONG_CODE = "+15145550100"
RETRY_ATTEMPTS = 4


def customer(suffix: str = "") -> str:
    """A fresh Montréal mobile number; `suffix` picks the simulator's behaviour (failures.py)."""
    tail = suffix or f"{secrets.randbelow(9000) + 1000}"
    if not suffix and tail in {f"00{n:02d}" for n in range(1, 13)}:
        tail = "5555"
    return f"+1438{secrets.randbelow(800) + 200}{tail}"


def sending_number() -> str:
    return f"+1514{secrets.randbelow(800) + 200}{secrets.randbelow(9000) + 1000}"


class Clock:
    """Real time unless a test sets a moment."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)


class StatusWatcher:
    """Everything published on sms.outbound_status.v1 in this session, by message id."""

    def __init__(self) -> None:
        self.events: list[OutboundStatusChanged] = []

    def of(self, message_id: UUID) -> list[OutboundStatusChanged]:
        return [e for e in self.events if e.message_id == message_id]

    async def wait_for(self, message_id: UUID, status: str, timeout: float = 20.0) -> OutboundStatusChanged:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for event in self.of(message_id):
                if event.status == status:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {status} for {message_id}; saw {[e.status for e in self.of(message_id)]}")


@pytest.fixture(scope="session")
def outbound_database_url() -> Iterator[str]:
    with fresh_database("sboutbound", migrate) as url:
        yield url


@pytest.fixture(scope="session")
def simulator_state() -> SimulatorState:
    # Status callbacks are the simulator test's business; ingest does not run here.
    return SimulatorState(SimulatorConfig(callbacks_enabled=False, slow_seconds=1.5))


@pytest.fixture(scope="session")
async def simulator_url(simulator_state: SimulatorState) -> AsyncIterator[str]:
    async with serving(create_simulator("http://127.0.0.1:9", simulator_state)) as url:
        yield url


@pytest.fixture(scope="session")
def outbound_settings(outbound_database_url: str, simulator_url: str) -> NotifierSettings:
    return NotifierSettings(
        database_url=outbound_database_url,
        kafka_bootstrap_servers=KAFKA,
        kafka_topic_prefix=new_topic_prefix("t"),
        kafka_partitions=2,
        twilio_api_base_url=simulator_url,
        telnyx_api_base_url=simulator_url,
        carrier_callback_base_url="http://ingest.test",
        carrier_timeout_seconds=1.0,
        outbound_retry_attempts=RETRY_ATTEMPTS,
        # The attempts alone decide here; test_outbound_a_carrier_refusing_for_a_while_is_waited_out
        # gives its sender time.
        outbound_retry_seconds=0,
        outbound_retry_initial_seconds=0.05,
        outbound_retry_max_seconds=0.3,
        log_format="console",
    )


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
async def outbound(outbound_settings: NotifierSettings, clock: Clock):
    """The sending pieces on a started broker; the Kafka consumer is wired exactly as app.py wires it."""
    infra = build_infrastructure(outbound_settings)
    await ensure_topics(outbound_settings)
    jobs = register_outbound_sending(infra, outbound_settings).background_jobs()
    sending = build_outbound_sending(infra, outbound_settings, clock=clock)
    await infra.broker.start()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(job(stop)) for job in jobs]
    yield infra, sending
    stop.set()
    await infra.broker.stop()
    await asyncio.gather(*tasks, return_exceptions=True)
    await sending.http.aclose()
    await infra.engine.dispose()


@pytest.fixture(scope="session")
async def statuses(outbound_settings: NotifierSettings, outbound) -> AsyncIterator[StatusWatcher]:
    watcher = StatusWatcher()
    consumer = AIOKafkaConsumer(
        topic_name(outbound_settings, SMS_OUTBOUND_STATUS.name),
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()

    async def collect() -> None:
        async for record in consumer:
            watcher.events.append(OutboundStatusChanged.model_validate_json(record.value))

    task = asyncio.create_task(collect())
    yield watcher
    task.cancel()
    await consumer.stop()


@pytest.fixture
async def account(outbound) -> UUID:
    """A dealership with credentials for both carriers."""
    infra, _ = outbound
    account_id = uuid4()
    async with infra.sessions.begin() as session:
        await save_carrier_account(
            session, account_id, "twilio", "token-" + secrets.token_hex(8), f"AC{uuid4().hex}"
        )
        await save_carrier_account(session, account_id, "telnyx", "KEY" + secrets.token_hex(12))
    return account_id


@pytest.fixture
def sender(outbound):
    return outbound[1].sender


@pytest.fixture(autouse=True)
def _real_time(clock: Clock):
    clock.moment = None
    yield
    clock.moment = None


def request(
    account_id: UUID,
    to_number: str,
    carrier: str = "twilio",
    from_number: str | None = None,
    source_kind: str = "manual",
    **extra,
) -> OutboundRequested:
    automated = source_kind in ("automation", "campaign")
    return OutboundRequested(
        account_id=account_id,
        message_id=uuid4(),
        conversation_id=uuid4(),
        customer_id=uuid4(),
        carrier=carrier,
        from_number=from_number or sending_number(),
        to_number=to_number,
        body=extra.pop("body", "Your car is ready"),
        source_kind=source_kind,
        respect_quiet_hours=extra.pop("respect_quiet_hours", automated),
        **extra,
    )


def received(state: SimulatorState, to_number: str) -> list:
    return [r for r in state.sent if r.to_number == to_number]


async def stored_row(outbound, message_id: UUID) -> dict:
    infra, _ = outbound
    from sqlalchemy import text

    async with infra.sessions() as session:
        row = (
            await session.execute(
                text("SELECT * FROM notifier.outbound_messages WHERE message_id = :id"), {"id": message_id}
            )
        ).one()
    return dict(row._mapping)


# --- happy paths ---------------------------------------------------------------------------------


async def test_outbound_twilio_text_is_sent_with_its_media_callback_and_idempotency_key(
    account, sender, statuses, simulator_state, simulator_url, outbound
):
    event = request(
        account,
        customer(),
        attachments=[Attachment(url="https://files.test/invoice.pdf", content_type="application/pdf")],
    )
    await sender.handle(event)

    sent = await statuses.wait_for(event.message_id, "sent")
    assert [e.status for e in statuses.of(event.message_id)] == ["sending", "sent"]
    assert sent.carrier_message_id.startswith("SM") and len(sent.carrier_message_id) == 34
    assert sent.conversation_id == event.conversation_id and sent.carrier == "twilio"
    async with httpx.AsyncClient() as client:
        records = (await client.get(f"{simulator_url}/simulate/sent", params={"to": event.to_number})).json()
    assert len(records) == 1
    assert records[0] | {"received_at": 0} == {
        "carrier": "twilio",
        "id": sent.carrier_message_id,
        "from_number": event.from_number,
        "to_number": event.to_number,
        "body": "Your car is ready",
        "media_urls": ["https://files.test/invoice.pdf"],
        "received_at": 0,
        "http_status": 201,
        "error_code": None,
        "idempotency_key": str(event.message_id),
        "callback_url": "http://ingest.test/webhooks/twilio/status",
    }
    row = await stored_row(outbound, event.message_id)
    assert (row["status"], row["carrier_message_id"], row["attempts"]) == ("sent", sent.carrier_message_id, 1)


async def test_outbound_telnyx_text_is_sent(account, sender, statuses, simulator_state):
    event = request(account, customer(), carrier="telnyx", body="Bonjour 🚗")
    await sender.handle(event)

    sent = await statuses.wait_for(event.message_id, "sent")
    UUID(sent.carrier_message_id)
    [record] = received(simulator_state, event.to_number)
    assert (record.carrier, record.id, record.body) == ("telnyx", sent.carrier_message_id, "Bonjour 🚗")
    assert record.callback_url == "http://ingest.test/webhooks/telnyx"


async def test_outbound_account_without_credentials_fails_without_reaching_a_carrier(
    sender, statuses, simulator_state
):
    event = request(uuid4(), customer())
    await sender.handle(event)
    failed = await statuses.wait_for(event.message_id, "failed")
    assert (failed.error_category, failed.error_code) == ("unknown", "no_credentials")
    assert received(simulator_state, event.to_number) == []


@pytest.mark.parametrize("to_number", ["5145551234", "+1", "not a number"])
async def test_outbound_impossible_number_fails_as_wrong_number_without_a_carrier(
    account, sender, statuses, simulator_state, to_number
):
    event = request(account, to_number)
    await sender.handle(event)
    failed = await statuses.wait_for(event.message_id, "failed")
    assert (failed.error_category, failed.error_code) == ("wrong_number", "invalid_number")
    assert received(simulator_state, to_number) == []


# --- failures, categories and retries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "suffix", "category", "code"),
    [
        ("twilio", "0001", "landline", "21614"),
        ("twilio", "0002", "wrong_number", "21211"),
        ("twilio", "0006", "opted_out", "21610"),
        ("telnyx", "0002", "wrong_number", "10002"),
        ("telnyx", "0006", "opted_out", "40300"),
    ],
)
async def test_outbound_permanent_carrier_errors_fail_at_once_with_their_category(
    account, sender, statuses, simulator_state, carrier, suffix, category, code
):
    event = request(account, customer(suffix), carrier=carrier)
    await sender.handle(event)

    failed = await statuses.wait_for(event.message_id, "failed")
    assert (failed.error_category, failed.error_code) == (category, code)
    assert failed.error_message
    assert len(received(simulator_state, event.to_number)) == 1, "a permanent error is never retried"


@pytest.mark.parametrize(("carrier", "suffix"), [("twilio", "0005"), ("telnyx", "0005"), ("twilio", "0007")])
async def test_outbound_rate_limited_or_server_error_once_is_retried_then_sent(
    account, sender, statuses, simulator_state, outbound, carrier, suffix
):
    event = request(account, customer(suffix), carrier=carrier)
    await sender.handle(event)

    sent = await statuses.wait_for(event.message_id, "sent")
    attempts = received(simulator_state, event.to_number)
    assert [r.http_status for r in attempts] == [
        429 if suffix == "0005" else 500,
        201 if carrier == "twilio" else 200,
    ]
    assert attempts[1].id == sent.carrier_message_id
    assert (await stored_row(outbound, event.message_id))["attempts"] == 2


async def test_outbound_server_errors_until_retries_run_out_fail_as_unknown(
    account, sender, statuses, simulator_state
):
    event = request(account, customer("0008"))
    await sender.handle(event)
    failed = await statuses.wait_for(event.message_id, "failed")
    assert (failed.error_category, failed.error_code) == ("unknown", "20503")
    assert len(received(simulator_state, event.to_number)) == RETRY_ATTEMPTS


@pytest.mark.parametrize("status", [429, 500])
async def test_outbound_a_carrier_refusing_for_a_while_is_waited_out(
    account, outbound, outbound_settings, clock, simulator_state, status
):
    """More refusals than attempts, within the time a carrier outage is waited out: the text
    goes once the carrier is back, instead of failing while it was away."""
    infra, _ = outbound
    patient = build_outbound_sending(
        infra,
        outbound_settings.model_copy(update={"outbound_retry_seconds": 6.0, "outbound_retry_attempts": 2}),
        clock=clock,
    )
    event = request(account, customer(), carrier="telnyx")

    async def outage(seconds: float) -> None:
        simulator_state.config.send_failure_status = status
        await asyncio.sleep(seconds)
        simulator_state.config.send_failure_status = 0

    try:
        await asyncio.gather(outage(1.5), patient.sender.handle(event))
    finally:
        simulator_state.config.send_failure_status = 0
        await patient.http.aclose()
    attempts = [r.http_status for r in received(simulator_state, event.to_number)]
    assert attempts[-1] == 200 and attempts.count(200) == 1
    assert attempts[:-1] and set(attempts[:-1]) == {status}, attempts
    assert len(attempts) > 2, "refused more often than the attempts alone allow"
    assert (await stored_row(outbound, event.message_id))["status"] == "sent"


async def test_outbound_late_answer_is_retried_with_the_same_key_and_texts_once(
    account, sender, statuses, simulator_state
):
    # The simulator accepts the text but answers after the client's timeout; the retry carries
    # the same idempotency key and gets the first answer back.
    event = request(account, customer("0010"), carrier="telnyx")
    await sender.handle(event)
    sent = await statuses.wait_for(event.message_id, "sent")
    accepted = received(simulator_state, event.to_number)
    assert len(accepted) == 1 and accepted[0].id == sent.carrier_message_id


async def test_outbound_twilio_late_answer_is_looked_up_and_never_sent_again(
    account, sender, statuses, simulator_state, outbound
):
    # Twilio ignores Idempotency-Key: the text it accepted (answer after the client's timeout)
    # is found in its message list, and its sid is the one recorded.
    event = request(account, customer("0010"), carrier="twilio")
    await sender.handle(event)
    sent = await statuses.wait_for(event.message_id, "sent")
    accepted = received(simulator_state, event.to_number)
    assert len(accepted) == 1, "one text only"
    assert sent.carrier_message_id == accepted[0].id
    row = await stored_row(outbound, event.message_id)
    assert (row["status"], row["carrier_message_id"], row["attempts"]) == ("sent", accepted[0].id, 1)


@pytest.mark.parametrize("carrier", ["twilio", "telnyx"])
async def test_outbound_connection_dropped_after_acceptance_texts_once_and_records_the_id(
    account, sender, statuses, simulator_state, outbound, carrier
):
    event = request(account, customer("0013"), carrier=carrier)
    await sender.handle(event)
    sent = await statuses.wait_for(event.message_id, "sent")
    accepted = [r for r in received(simulator_state, event.to_number) if r.id]
    assert len(accepted) == 1, "one text only"
    assert sent.carrier_message_id == accepted[0].id
    assert (await stored_row(outbound, event.message_id))["carrier_message_id"] == accepted[0].id


async def test_outbound_unclear_answer_that_cannot_be_looked_up_fails_without_a_second_text(
    account, sender, statuses, simulator_state, outbound
):
    event = request(account, customer("0014"), carrier="twilio")
    await sender.handle(event)
    failed = await statuses.wait_for(event.message_id, "failed")
    assert (failed.error_category, failed.error_code) == ("unknown", "outcome_unknown")
    assert "may have accepted" in failed.error_message and "not sent again" in failed.error_message
    assert len(received(simulator_state, event.to_number)) == 1
    row = await stored_row(outbound, event.message_id)
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", "outcome_unknown", 1)


async def test_outbound_same_words_to_the_same_customer_earlier_are_not_taken_for_this_text(
    account, sender, statuses, simulator_state, outbound
):
    # A first "Your car is ready" goes out normally; the second (same words, same numbers) has its
    # answer cut: the lookup finds both in Twilio's list and must pick the one nobody recorded.
    number, to_number = sending_number(), customer("0013")
    simulator_state.tripped.add(("twilio", to_number, "drop"))  # the first one is answered
    first = request(account, to_number, carrier="twilio", from_number=number)
    await sender.handle(first)
    first_sent = await statuses.wait_for(first.message_id, "sent")
    simulator_state.tripped.discard(("twilio", to_number, "drop"))
    second = request(account, to_number, carrier="twilio", from_number=number)
    await sender.handle(second)
    second_sent = await statuses.wait_for(second.message_id, "sent")
    accepted = [r.id for r in received(simulator_state, to_number)]
    assert accepted == [first_sent.carrier_message_id, second_sent.carrier_message_id]
    assert first_sent.carrier_message_id != second_sent.carrier_message_id


# --- idempotency ---------------------------------------------------------------------------------


async def test_outbound_redelivered_request_never_texts_twice(account, sender, statuses, simulator_state):
    event = request(account, customer())
    await sender.handle(event)
    await statuses.wait_for(event.message_id, "sent")
    # Kafka redelivers the same record; a republished copy has a new event id but the same message.
    await sender.handle(event)
    await sender.handle(event.model_copy(update={"event_id": uuid4()}))

    assert len(received(simulator_state, event.to_number)) == 1
    announced = [e.status for e in statuses.of(event.message_id)]
    assert announced.count("sending") == 1
    await asyncio.sleep(0.3)
    assert [e.status for e in statuses.of(event.message_id)].count("sent") == 3, "the outcome is re-announced"


async def test_outbound_text_goes_out_while_its_status_cannot_be_announced(
    account, outbound, outbound_settings, clock, simulator_state
):
    """The broker away (or just back and not yet reachable): announcing "sending" fails, and the
    text is sent all the same instead of waiting, leased, for the lease to run out."""
    away = build_infrastructure(outbound_settings.model_copy(update={"kafka_publish_timeout_seconds": 1.0}))
    await away.broker.start()
    await away.broker.stop()  # its producer is closed: every publish fails
    sending = build_outbound_sending(away, outbound_settings, clock=clock)
    event = request(account, customer())
    try:
        # "sent" cannot be announced either: the handler fails, and Kafka brings the request back.
        with pytest.raises(PublishFailed):
            await sending.sender.handle(event)
    finally:
        await sending.http.aclose()
        await away.engine.dispose()
    assert len(received(simulator_state, event.to_number)) == 1
    row = await stored_row(outbound, event.message_id)
    assert row["status"] == "sent"


async def test_outbound_concurrent_deliveries_of_one_message_text_once(
    account, sender, statuses, simulator_state
):
    event = request(account, customer())
    await asyncio.gather(*(sender.handle(event) for _ in range(4)))
    await statuses.wait_for(event.message_id, "sent")
    assert len(received(simulator_state, event.to_number)) == 1


async def test_outbound_consumer_sends_from_kafka_once_per_message(
    account, outbound, outbound_settings, statuses, simulator_state
):
    infra, _ = outbound
    event = request(account, customer(), from_number=sending_number())
    for _ in range(2):
        await infra.publisher.publish(SMS_OUTBOUND_REQUESTED, event, key=event.partition_key)

    await statuses.wait_for(event.message_id, "sent")
    await asyncio.sleep(1.0)
    assert len(received(simulator_state, event.to_number)) == 1


async def test_outbound_unusable_requests_are_dead_lettered(account, outbound, outbound_settings):
    infra, _ = outbound
    dead = AIOKafkaConsumer(
        topic_name(outbound_settings, SMS_OUTBOUND_REQUESTED.dead_letter),
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
    )
    await dead.start()
    try:
        marker = uuid4().hex
        await infra.publisher.publish(
            SMS_OUTBOUND_REQUESTED, f"not json {marker}".encode(), key="+15145550100"
        )
        incomplete = f'{{"account_id": "{account}", "message_id": "{uuid4()}", "note": "{marker}"}}'
        await infra.publisher.publish(SMS_OUTBOUND_REQUESTED, incomplete.encode(), key="+15145550100")
        reasons = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(reasons) < 2 and asyncio.get_running_loop().time() < deadline:
            for records in (await dead.getmany(timeout_ms=500)).values():
                for record in records:
                    if marker.encode() in record.value:
                        reasons.append(dict(record.headers)["x-dead-letter-error"].decode())
    finally:
        await dead.stop()
    # Not JSON, and JSON that is not the contract: both refused by the contract, both kept.
    assert reasons == ["ValidationError", "ValidationError"]


# --- rate limits ---------------------------------------------------------------------------------


def _gaps(records) -> list[float]:
    times = sorted(r.received_at for r in records)
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.mark.parametrize(
    ("from_number", "override", "interval"),
    [
        (None, None, 1.0),  # long code: 1/s
        ("+18885550199", None, 1 / 3),  # toll-free: 3/s
        (None, 4.0, 0.25),  # this number's own rate (RATE_PER_NUMBER)
    ],
)
async def test_outbound_texts_from_one_number_are_spaced_by_its_rate(
    account, outbound, outbound_settings, clock, simulator_state, from_number, override, interval
):
    infra, _ = outbound
    number = from_number or sending_number()
    settings = outbound_settings.model_copy(
        update={"rate_per_number": {number: override} if override else {}}
    )
    sending = build_outbound_sending(infra, settings, clock=clock)
    events = [request(account, customer(), from_number=number) for _ in range(4)]
    try:
        # All at once, as if several replicas held them: only the shared Postgres state spaces them.
        await asyncio.gather(*(sending.sender.handle(e) for e in events))
    finally:
        await sending.http.aclose()

    records = [r for r in simulator_state.sent if r.from_number == number]
    assert len(records) == 4
    assert min(_gaps(records)) >= interval, _gaps(records)


async def test_outbound_different_numbers_do_not_wait_for_each_other(account, sender, simulator_state):
    events = [request(account, customer(), from_number=sending_number()) for _ in range(4)]
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(sender.handle(e) for e in events))
    assert asyncio.get_running_loop().time() - started < 1.0


# --- quiet hours ---------------------------------------------------------------------------------


async def test_outbound_automated_text_at_night_is_held_then_released_in_the_morning(
    account, sender, outbound, outbound_settings, statuses, simulator_state, clock
):
    _, sending = outbound
    # 02:00 in Montréal (EST, UTC-5).
    clock.moment = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    event = request(account, customer(), source_kind="automation")
    await sender.handle(event)

    scheduled = await statuses.wait_for(event.message_id, "scheduled")
    assert scheduled.at == clock.moment
    assert received(simulator_state, event.to_number) == []
    row = await stored_row(outbound, event.message_id)
    assert (row["status"], row["not_before"]) == ("scheduled", datetime(2026, 11, 25, 13, 0, tzinfo=UTC))

    await sender.handle(event)  # a redelivery while held changes nothing
    clock.moment = datetime(2026, 11, 25, 12, 59, tzinfo=UTC)
    await sending.release.release_due()
    assert received(simulator_state, event.to_number) == []

    clock.moment = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    await sending.release.release_due()
    await statuses.wait_for(event.message_id, "sent")
    assert len(received(simulator_state, event.to_number)) == 1
    assert (await stored_row(outbound, event.message_id))["status"] == "sent"


async def test_outbound_staff_reply_at_night_is_sent_at_once(account, sender, statuses, clock):
    clock.moment = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    # Even when the request (wrongly) asks for quiet hours, a staff reply is never held.
    event = request(account, customer(), source_kind="manual", respect_quiet_hours=True)
    await sender.handle(event)
    await statuses.wait_for(event.message_id, "sent")
    assert "scheduled" not in [e.status for e in statuses.of(event.message_id)]


async def test_outbound_quiet_hours_follow_the_customers_zone_or_the_accounts(
    account, sender, statuses, clock
):
    # 15:30 UTC: 10:30 in Montréal, 07:30 in Vancouver.
    clock.moment = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    montreal = request(account, "+1514" + customer()[5:], source_kind="campaign")
    vancouver = request(account, "+1604" + customer()[5:], source_kind="campaign")
    # A toll-free customer number spans every zone: the account's zone decides.
    toll_free = request(
        account, "+1888" + customer()[5:], source_kind="campaign", account_time_zone="America/Vancouver"
    )
    for event in (montreal, vancouver, toll_free):
        await sender.handle(event)

    await statuses.wait_for(montreal.message_id, "sent")
    for held in (vancouver, toll_free):
        await statuses.wait_for(held.message_id, "scheduled")


async def test_outbound_release_on_several_replicas_sends_each_held_text_once(
    account, sender, outbound, outbound_settings, statuses, simulator_state, clock
):
    infra, _ = outbound
    clock.moment = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    events = [request(account, customer(), source_kind="automation") for _ in range(6)]
    for event in events:
        await sender.handle(event)
    clock.moment = datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
    replicas = [QuietHoursRelease(infra.sessions, sender, outbound_settings, clock) for _ in range(3)]
    await asyncio.gather(*(replica.release_due() for replica in replicas))

    for event in events:
        await statuses.wait_for(event.message_id, "sent")
        assert len(received(simulator_state, event.to_number)) == 1


async def test_outbound_release_picks_up_a_text_left_sending_by_a_dead_replica(
    account, sender, outbound, outbound_settings, statuses, simulator_state, clock
):
    infra, sending = outbound
    event = request(account, customer())
    from notifier.outbound import repository

    # A replica claimed it and died before calling the carrier.
    async with infra.sessions.begin() as session:
        await repository.claim_message(
            session, event, "sending", None, lease_until=clock() + timedelta(seconds=30)
        )
    await sending.release.release_due()
    assert received(simulator_state, event.to_number) == []

    clock.moment = datetime.now(UTC) + timedelta(seconds=31)
    await sending.release.release_due()
    await statuses.wait_for(event.message_id, "sent")
    assert len(received(simulator_state, event.to_number)) == 1


# --- leases --------------------------------------------------------------------------------------


async def test_outbound_two_releasers_with_a_short_lease_send_each_text_once(
    account, outbound, outbound_settings, statuses, simulator_state
):
    """One long-code number (1 text/s) and five texts due: a round outlives a 1.5 s lease, and a
    second replica comes by meanwhile. Each text is leased only when its turn comes."""
    infra, _ = outbound
    from notifier.outbound import repository

    number = sending_number()
    events = [request(account, customer(), from_number=number) for _ in range(5)]
    async with infra.sessions.begin() as session:
        for event in events:
            await repository.claim_message(
                session, event, "scheduled", datetime.now(UTC) - timedelta(seconds=1), None
            )
    short = outbound_settings.model_copy(update={"outbound_send_lease_seconds": 1.5})
    replicas = [build_outbound_sending(infra, short) for _ in range(2)]
    try:
        first_round = asyncio.create_task(replicas[0].release.release_due())
        await asyncio.sleep(1.8)
        await replicas[1].release.release_due()
        first_count = await first_round
    finally:
        for replica in replicas:
            await replica.http.aclose()

    for event in events:
        await statuses.wait_for(event.message_id, "sent")
        assert len(received(simulator_state, event.to_number)) == 1, "one text per message"
        assert (await stored_row(outbound, event.message_id))["attempts"] == 1
    # (The session's own release job, a third replica, may have sent some of them too.)
    assert first_count >= 1


async def test_outbound_a_sender_whose_lease_ran_out_changes_nothing(account, outbound, clock):
    infra, _ = outbound
    from uuid import uuid4 as new_token

    from notifier.outbound import repository

    event = request(account, customer())
    stale, current = new_token(), new_token()
    async with infra.sessions.begin() as session:
        await repository.claim_message(
            session, event, "sending", None, lease_until=clock() - timedelta(seconds=1), lease_token=stale
        )
    async with infra.sessions.begin() as session:
        leased = await repository.lease_due(
            session, event.message_id, clock(), clock() + timedelta(minutes=5), current
        )
    assert leased and leased.orphaned and leased.lease_token == current
    async with infra.sessions.begin() as session:
        assert not await repository.renew_lease(session, event.message_id, stale, clock())
        assert not await repository.record_outcome(session, event.message_id, stale, "sent", 1, "SMstale")
        assert not await repository.reschedule(session, event.message_id, stale, clock())
    row = await stored_row(outbound, event.message_id)
    assert (row["status"], row["carrier_message_id"], row["lease_token"]) == ("sending", None, current)
    async with infra.sessions.begin() as session:
        assert await repository.record_outcome(session, event.message_id, current, "sent", 1, "SMcurrent")
    assert (await stored_row(outbound, event.message_id))["carrier_message_id"] == "SMcurrent"


async def test_outbound_text_taken_over_from_a_dead_twilio_sender_is_looked_up_first(
    account, sender, outbound, statuses, simulator_state, clock
):
    # The dead replica reached Twilio (the text is there) but never recorded it.
    infra, sending = outbound
    from uuid import uuid4 as new_token

    from notifier.outbound import repository

    event = request(account, customer(), carrier="twilio")
    async with infra.sessions.begin() as session:
        await repository.claim_message(
            session,
            event,
            "sending",
            None,
            lease_until=clock() - timedelta(seconds=1),
            lease_token=new_token(),
        )
    adapter = await sender._adapters.for_account(account, "twilio")
    carrier_id = await adapter.send(event.from_number, event.to_number, event.body, [], str(event.message_id))
    await sending.release.release_due()
    sent = await statuses.wait_for(event.message_id, "sent")
    assert sent.carrier_message_id == carrier_id
    assert len(received(simulator_state, event.to_number)) == 1


# --- suspended dealerships ------------------------------------------------------------------------


async def test_outbound_texts_of_a_suspended_dealership_are_held_and_sent_once_it_resumes(
    account, sender, outbound, statuses, simulator_state
):
    from notifier.suspension import record_suspension

    infra, sending = outbound
    async with infra.sessions.begin() as session:
        await record_suspension(session, account, True, datetime.now(UTC))
    reply = request(account, customer())
    await sender.handle(reply)
    await statuses.wait_for(reply.message_id, "scheduled")
    await sending.release.release_due()
    await asyncio.sleep(0.5)
    assert received(simulator_state, reply.to_number) == []
    assert (await stored_row(outbound, reply.message_id))["status"] == "scheduled"  # kept, not dropped

    async with infra.sessions.begin() as session:
        await record_suspension(session, account, False, datetime.now(UTC))
    await sending.release.release_due()
    await statuses.wait_for(reply.message_id, "sent")
    assert len(received(simulator_state, reply.to_number)) == 1
