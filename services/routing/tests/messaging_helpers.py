"""What the sending tests (replies, outreach) read back from routing's tables: the events it
queued in its outbox for one dealer, and a conversation's customer number."""

import json

from sqlalchemy import select

from routing.tables import conversations, customer_phones, outbox


async def outbox_events(dealer, topic: str, **match) -> list[dict]:
    """Payloads on `topic` for this dealer's account, oldest first, filtered by payload fields."""
    async with dealer.sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        events = [json.loads(bytes(p)) for p in payloads]
    return [
        e
        for e in events
        if e["account_id"] == str(dealer.account_id) and all(e.get(k) == v for k, v in match.items())
    ]


async def customer_number(dealer, conversation) -> str:
    async with dealer.sessions() as session:
        return await session.scalar(
            select(customer_phones.c.e164)
            .join(conversations, conversations.c.customer_id == customer_phones.c.customer_id)
            .where(conversations.c.id == conversation)
        )
