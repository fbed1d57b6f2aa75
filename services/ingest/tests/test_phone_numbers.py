"""ingest keeps its map of Telnyx numbers from routing's `phone_number.changed.v1`: a number an
admin adds in routing receives its Telnyx webhooks, a removed one no longer does."""

import asyncio
import secrets
import uuid

from aiokafka import AIOKafkaProducer

from devtools.carrier_simulator.telnyx import encode, received_event, signed_headers
from ingest import catch_up_repository
from ingest.repository import TelnyxKeys
from ingest.usecases.phone_numbers import NumberOutcome, apply_number_change
from shared.contracts.phone_numbers import PhoneNumberChanged

CUSTOMER = "+14385550177"


def number() -> str:
    return f"+1873{secrets.randbelow(10**7):07d}"


def change(account_id, e164: str, what: str = "added", carrier: str = "telnyx") -> PhoneNumberChanged:
    return PhoneNumberChanged(account_id=account_id, e164=e164, carrier=carrier, change=what)


async def apply(sessions, event: PhoneNumberChanged) -> NumberOutcome:
    async with sessions.begin() as session:
        return await apply_number_change(session, event)


async def test_added_and_removed_numbers_follow_routing(sessions, telnyx_account):
    keys = TelnyxKeys(sessions, ttl_seconds=0)
    e164 = number()
    added = change(telnyx_account.account_id, e164)
    assert await apply(sessions, added) is NumberOutcome.REGISTERED
    assert await keys.lookup(e164) == (telnyx_account.public_key, telnyx_account.account_id)
    # Redelivered: nothing changes.
    assert await apply(sessions, added) is NumberOutcome.UNCHANGED
    # Another account cannot take it away by removing "its" number.
    assert await apply(sessions, change(uuid.uuid4(), e164, "removed")) is NumberOutcome.UNCHANGED
    assert await keys.lookup(e164) is not None
    assert (
        await apply(sessions, change(telnyx_account.account_id, e164, "removed")) is NumberOutcome.FORGOTTEN
    )
    assert await keys.lookup(e164) is None


async def test_numbers_that_need_no_entry_are_left_out(sessions, telnyx_account):
    keys = TelnyxKeys(sessions, ttl_seconds=0)
    # Twilio webhooks name the Twilio account, not the number: it is only listed by catch-up.
    twilio = number()
    assert await apply(sessions, change(telnyx_account.account_id, twilio, carrier="twilio")) is (
        NumberOutcome.UNCHANGED
    )
    assert await keys.lookup(twilio) is None
    async with sessions() as session:
        assert await catch_up_repository.number_owner(session, twilio) == telnyx_account.account_id
    await apply(sessions, change(telnyx_account.account_id, twilio, "removed", carrier="twilio"))
    async with sessions() as session:
        assert await catch_up_repository.number_owner(session, twilio) is None
    # No public key for the account: its webhooks could not be verified anyway.
    keyless = number()
    assert await apply(sessions, change(uuid.uuid4(), keyless)) is NumberOutcome.NO_KEY
    assert await keys.lookup(keyless) is None


async def _webhook_status(client, telnyx_account, e164: str) -> int:
    body = encode(received_event(CUSTOMER, e164, "hello"))
    response = await client.post(
        "/webhooks/telnyx", content=body, headers=signed_headers(telnyx_account.private_key, body)
    )
    return response.status_code


async def _eventually(client, telnyx_account, e164: str, status: int) -> None:
    for _ in range(150):
        if await _webhook_status(client, telnyx_account, e164) == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"webhooks to {e164} never answered {status}")


async def test_a_number_added_in_routing_receives_its_webhooks(client, ingest_settings, telnyx_account):
    """Through real Kafka, as routing's outbox publishes it."""
    e164 = number()
    assert await _webhook_status(client, telnyx_account, e164) == 403
    producer = AIOKafkaProducer(bootstrap_servers=ingest_settings.kafka_bootstrap_servers)
    await producer.start()
    topic = f"{ingest_settings.kafka_topic_prefix}phone_number.changed.v1"
    try:
        added = change(telnyx_account.account_id, e164)
        await producer.send_and_wait(topic, added.to_bytes(), key=e164.encode())
        await _eventually(client, telnyx_account, e164, 200)
        removed = change(telnyx_account.account_id, e164, "removed")
        await producer.send_and_wait(topic, removed.to_bytes(), key=e164.encode())
        await _eventually(client, telnyx_account, e164, 403)
    finally:
        await producer.stop()
