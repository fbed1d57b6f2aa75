"""A carrier's receipt that overtakes notifier's report naming the text's carrier id (after a
Kafka outage) is kept, and applied when that report arrives: the timeline ends at what the
carrier said, each step announced once, and a receipt that never matches stays stored."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select

from routing.tables import early_carrier_receipts, outbox

from .test_outbound_status import (
    carrier_says,
    delivery_failures,
    notifier_says,
    record,
    sent_message,
    stored,
)


async def status_events(dealer, conversation: UUID, message_id: UUID) -> list[tuple[str, str | None]]:
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(
                outbox.c.topic == "conversation.message_status_changed.v1", outbox.c.key == str(conversation)
            )
            .order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    return [(e["status"], e["error_category"]) for e in events if e["message_id"] == str(message_id)]


async def kept(dealer, carrier_message_id: str) -> int:
    async with dealer.sessions() as session:
        return await session.scalar(
            select(func.count()).where(early_carrier_receipts.c.carrier_message_id == carrier_message_id)
        )


async def test_a_delivery_receipt_before_the_carrier_id_is_applied_when_it_comes(client, dealer, ago):
    conversation, message_id = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    receipt = carrier_says(dealer, carrier_id, "delivered")
    assert not await record(dealer, receipt)  # no text has this id yet: kept, not raised
    assert not await record(dealer, receipt)  # delivered twice: kept once
    assert await kept(dealer, carrier_id) == 1
    assert (await stored(dealer, message_id)).status == "queued"

    sent = notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id=carrier_id)
    assert await record(dealer, sent)
    row = await stored(dealer, message_id)
    assert (row.status, row.carrier_message_id) == ("delivered", carrier_id)
    assert await kept(dealer, carrier_id) == 0
    assert await status_events(dealer, conversation, message_id) == [("sent", None), ("delivered", None)]

    # notifier's report again (at least once), or the receipt again: nothing more happens.
    assert not await record(dealer, sent)
    assert not await record(dealer, receipt)
    assert not await record(dealer, notifier_says(dealer, message_id, "sent", carrier_message_id=carrier_id))
    assert (await stored(dealer, message_id)).status == "delivered"
    assert len(await status_events(dealer, conversation, message_id)) == 2


async def test_an_early_failure_receipt_ends_undelivered_with_its_reason(client, dealer, ago):
    conversation, message_id = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    failure = carrier_says(
        dealer,
        carrier_id,
        "undelivered",
        error_code="30003",
        error_category="unreachable",
        error_message="Unreachable destination handset",
    )
    assert not await record(dealer, failure)
    assert await record(
        dealer, notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id=carrier_id)
    )
    row = await stored(dealer, message_id)
    assert (row.status, row.error_category, row.error_code, row.error_message) == (
        "undelivered",
        "unreachable",
        "30003",
        "Unreachable destination handset",
    )
    assert await status_events(dealer, conversation, message_id) == [
        ("sent", None),
        ("undelivered", "unreachable"),
    ]
    [failed] = await delivery_failures(dealer, message_id)
    assert (failed["status"], failed["error_category"]) == ("undelivered", "unreachable")
    shown = (await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=dealer.sam)).json()[
        "items"
    ][-1]["message"]
    assert (shown["status"], shown["error_category"]) == ("undelivered", "unreachable")


async def test_early_receipts_apply_in_carrier_order_and_never_move_back(client, dealer, ago):
    conversation, message_id = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    now = datetime.now(UTC)
    # The carrier's "sent" (earlier) arrives after its "delivered" (later).
    assert not await record(dealer, carrier_says(dealer, carrier_id, "delivered", occurred_at=now))
    assert not await record(
        dealer, carrier_says(dealer, carrier_id, "sent", occurred_at=now - timedelta(seconds=5))
    )
    assert await record(
        dealer, notifier_says(dealer, message_id, "sending", carrier="twilio", carrier_message_id=carrier_id)
    )
    assert (await stored(dealer, message_id)).status == "delivered"
    assert await status_events(dealer, conversation, message_id) == [
        ("sending", None),
        ("sent", None),
        ("delivered", None),
    ]
    # A step notifier reports late does not move it back either.
    assert not await record(dealer, notifier_says(dealer, message_id, "sent", carrier_message_id=carrier_id))
    assert (await stored(dealer, message_id)).status == "delivered"


async def test_an_early_receipt_is_only_applied_within_its_account_and_carrier(
    client, dealer, other_dealer, ago
):
    _, mine = await sent_message(client, dealer, ago)
    carrier_id = f"SM{uuid4().hex}"
    # Another account's receipt, and a receipt from another carrier, with the same id.
    await record(
        other_dealer, carrier_says(other_dealer, carrier_id, "undelivered", error_category="unknown")
    )
    await record(dealer, carrier_says(dealer, carrier_id, "delivery_failed", carrier="telnyx"))
    await record(dealer, notifier_says(dealer, mine, "sent", carrier="twilio", carrier_message_id=carrier_id))
    assert (await stored(dealer, mine)).status == "sent"
    assert await kept(dealer, carrier_id) == 2  # both still stored, nothing lost


async def test_a_receipt_that_never_matches_stays_stored(dealer):
    carrier_id = f"SM-never-{uuid4().hex}"
    receipt = carrier_says(dealer, carrier_id, "delivered", error_message="kept")
    assert not await record(dealer, receipt)
    async with dealer.sessions() as session:
        row = (
            await session.execute(
                select(early_carrier_receipts).where(early_carrier_receipts.c.event_id == receipt.event_id)
            )
        ).one()
    assert (row.account_id, row.carrier, row.status, row.error_message) == (
        dealer.account_id,
        "twilio",
        "delivered",
        "kept",
    )


async def test_a_receipt_and_the_report_naming_its_id_at_the_same_moment_meet(client, dealer, ago):
    """Whichever commits second sees the other's row: the receipt is never left behind."""
    for _ in range(5):
        conversation, message_id = await sent_message(client, dealer, ago)
        carrier_id = f"SM{uuid4().hex}"
        await asyncio.gather(
            record(dealer, carrier_says(dealer, carrier_id, "delivered")),
            record(
                dealer,
                notifier_says(dealer, message_id, "sent", carrier="twilio", carrier_message_id=carrier_id),
            ),
        )
        assert (await stored(dealer, message_id)).status == "delivered"
        assert await kept(dealer, carrier_id) == 0
        assert await status_events(dealer, conversation, message_id) == [("sent", None), ("delivered", None)]
