"""A batch of customers' texts stored together: the outcome of `record_inbound_message` for each
text in order, in a handful of statements whatever the batch's size."""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.consent import consent_keyword
from routing.messaging.usecases.inbound import (
    CONSUMER,
    numbers_of,
    record_inbound_message,
    tell_customer_created,
    tell_received,
    tell_reopened,
)
from routing.messaging.usecases.inbound_statements import (
    CREATE_CUSTOMERS,
    KNOWN_EACH,
    REOPEN,
    STORE_ALL_IN_CONVERSATIONS,
    create_customers_params,
    message_values,
    store_all_params,
)
from routing.outbox import events_written_together
from shared.contracts.carrier import CarrierInbound
from shared.db.idempotency import claim_events
from shared.kafka.consumer import PermanentError, event_trace

log = structlog.get_logger(__name__)


@dataclass
class _Audience:
    """Who a conversation is assigned to (a new conversation: nobody)."""

    assignee_user_id: UUID | None = None
    assignee_team_id: UUID | None = None


@dataclass
class _Text:
    """A text of the batch stored together with the others: what is known of it (KNOWN_EACH's
    row), its message's values, the conversation it goes to, and what it did there."""

    known: object
    values: dict
    conversation_id: UUID
    conversation: object  # its assignees, as the text found them
    customer_id: UUID
    customer_name: str | None
    creates_customer: bool = False  # a new customer's first text: profile, conversation, message
    reopens: bool = False  # the first text to the customer's closed conversation
    new: bool = False  # the message was not stored before


async def record_inbound_batch(
    session: AsyncSession, events: list[CarrierInbound], region: str
) -> list[UUID | None]:
    """`record_inbound_message` for each of a batch's texts in order, in the caller's transaction;
    the stored message ids (None for a text stored before).

    The round trips do not grow with the batch: one claims the batch, one reads and locks what is
    known of every text, one creates the new customers with their conversations and first
    messages, one reopens the closed conversations, one stores the other texts in order with
    their conversations' updates and tells which were new, one writes the outbox. Under load a
    round trip is two waits for a busy CPU (PostgreSQL's, then ours): at four round trips each, a
    burst of new customers took seconds.

    A consent keyword, a customer whose conversations are all archived, and a new number another
    transaction claimed first are handled as alone, after those, and so is every later text of
    that customer in the batch: what was read of them up front may no longer hold. A
    conversation's texts stay in order (its texts stored together all come before its first text
    handled alone), and the outbox events are added in the texts' order, as one by one."""
    if len(events) == 1:  # claimed with what is known of it, one statement fewer
        with event_trace(events[0]):
            return [await record_inbound_message(session, events[0], region)]
    claimed = await claim_events(session, "routing", CONSUMER, [event.event_id for event in events])
    todo: list[int] = []
    for index, event in enumerate(events):
        if event.event_id in claimed:  # else handled before, or earlier in this batch
            claimed.discard(event.event_id)
            todo.append(index)
    together = await _store_together(session, [(index, events[index]) for index in todo], region)
    stored: list[UUID | None] = [None] * len(events)
    async with events_written_together(session):
        for index in todo:
            event = events[index]
            # Each text in its own trace: its log lines and its outbox events carry it on.
            with event_trace(event):
                text = together.get(index)
                if text is None:
                    stored[index] = await record_inbound_message(session, event, region, claimed=True)
                else:
                    stored[index] = await _tell(session, event, text)
    return stored


async def _tell(session: AsyncSession, event: CarrierInbound, text: _Text) -> UUID | None:
    """The outbox events of a text stored together, in the order record_inbound_message adds them."""
    if text.creates_customer:
        await tell_customer_created(session, event.account_id, text.customer_id, text.values["from_e164"])
    if text.reopens:
        await tell_reopened(session, event.account_id, text.conversation_id)
    if not text.new:
        log.info("inbound message already stored", carrier_message_id=event.carrier_message_id)
        return None
    await tell_received(
        session,
        event,
        text.values,
        text.conversation_id,
        text.conversation,
        text.known,
        text.customer_id,
        text.customer_name,
    )
    return text.values["id"]


async def _store_together(
    session: AsyncSession, texts: list[tuple[int, CarrierInbound]], region: str
) -> dict[int, _Text]:
    """Stores the texts (index, event) that need no statement of their own, in order; by index,
    what each did. The texts left out are the caller's to handle one by one."""
    if not texts:
        return {}
    numbers = []
    for _, event in texts:
        with event_trace(event):
            numbers.append(numbers_of(event, region))
    known_each = await KNOWN_EACH.all(
        session,
        {
            "accounts": [event.account_id for _, event in texts],
            "dealerships": [dealership for dealership, _ in numbers],
            "customers": [customer for _, customer in numbers],
        },
    )
    together = _plan(texts, numbers, known_each)
    await _create_customers(session, together)
    await _reopen(session, [text for text in together.values() if text.reopens])
    into_conversations = [text for text in together.values() if not text.creates_customer]
    if into_conversations:
        params = store_all_params([(text.values, text.conversation_id) for text in into_conversations])
        new = {row.id for row in await STORE_ALL_IN_CONVERSATIONS.all(session, params)}
        for text in into_conversations:
            text.new = text.values["id"] in new
    return together


def _plan(
    texts: list[tuple[int, CarrierInbound]], numbers: list[tuple[str, str]], known_each: list
) -> dict[int, _Text]:
    """By index, the texts that can be stored together and where each goes, in order: to its
    open conversation, a new customer's first text (creating them), a closed conversation's first
    (reopening it), or a later text to the conversation one of those made active."""
    together: dict[int, _Text] = {}
    firsts: dict[object, _Text] = {}  # customers created or reopened here: their first text
    alone: set = set()  # customers (id, or account and number if new) with a text handled alone
    for (index, event), (dealership, customer), known in zip(texts, numbers, known_each, strict=True):
        if not known.found:
            raise PermanentError(f"{dealership} is not a number of account {event.account_id}")
        who = known.customer_id or (event.account_id, customer)
        if who in alone or consent_keyword(event.body) is not None:
            alone.add(who)
            continue
        values = message_values(uuid4(), event, customer, dealership)
        first = firsts.get(who)
        if first is not None:  # a later text to the conversation created or reopened just before
            together[index] = _Text(
                known,
                values,
                first.conversation_id,
                first.conversation,
                first.customer_id,
                first.customer_name,
            )
        elif known.customer_id is None:
            together[index] = firsts[who] = _Text(
                known, values, uuid4(), _Audience(), uuid4(), None, creates_customer=True
            )
        elif known.conversation_id is None:  # every conversation archived: a new one, alone
            alone.add(who)
        else:
            text = _Text(known, values, known.conversation_id, known, known.customer_id, known.customer_name)
            together[index] = text
            if known.status == "closed":
                text.reopens = True
                firsts[who] = text
    return together


async def _reopen(session: AsyncSession, reopening: list[_Text]) -> None:
    if reopening:
        await REOPEN.all(
            session,
            {
                "accounts": [text.values["account_id"] for text in reopening],
                "conversations": [text.conversation_id for text in reopening],
                "events": [uuid4() for _ in reopening],
                # Just before the message that reopened it, so the timeline shows them in that order.
                "ats": [text.values["created_at"] - timedelta(microseconds=1) for text in reopening],
            },
        )


async def _create_customers(session: AsyncSession, together: dict[int, _Text]) -> None:
    """The new customers' profiles, conversations and first messages, in one statement. A number
    another transaction claimed meanwhile (another replica given the same new number) is left
    out with every text of that customer: handled alone after, they find that customer."""
    firsts = [text for text in together.values() if text.creates_customer]
    if not firsts:
        return
    rows = await CREATE_CUSTOMERS.all(
        session,
        create_customers_params([(text.values, text.customer_id, text.conversation_id) for text in firsts]),
    )
    outcome = {row.customer: row for row in rows}
    for text in firsts:
        text.new = outcome[text.customer_id].stored
    lost = {customer for customer, row in outcome.items() if not row.created}
    if lost:
        for index in [index for index, text in together.items() if text.customer_id in lost]:
            del together[index]
