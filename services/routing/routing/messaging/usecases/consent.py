"""A customer's consent keyword, applied where their text was stored: STOP records the opt-out
for that dealership number (composer and sending then refuse to text them), START removes it,
HELP answers with the account's help text. Each change shows on the conversation's timeline."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.consent import ConsentKeyword, consent_keyword, default_help_text
from routing.messaging.usecases.errors import CannotSend, InvalidMessage, RecipientNotFound
from routing.messaging.usecases.send import Outgoing, reply
from routing.tables import accounts, opt_outs, timeline_events
from shared.contracts.messaging import MessageSource

log = structlog.get_logger(__name__)

# The HELP answer goes out at once, even at night: the customer has just written to us.
HELP_SOURCE = MessageSource(kind="manual", name="HELP keyword reply")


@dataclass(frozen=True)
class InboundText:
    """The stored customer text a keyword may be."""

    account_id: UUID
    conversation_id: UUID
    message_id: UUID
    customer_e164: str
    dealership_e164: str
    body: str
    received_at: datetime


async def apply_consent_keyword(session: AsyncSession, text: InboundText) -> ConsentKeyword | None:
    """Applies the keyword the text is, if any; returns it. Runs in the caller's transaction, so
    the message, the consent change and its timeline event are stored together or not at all."""
    keyword = consent_keyword(text.body)
    if keyword is None:
        return None
    if keyword.action == "opt_out":
        await _opt_out(session, text, keyword)
    elif keyword.action == "opt_in":
        await _opt_in(session, text, keyword)
    else:
        await _answer_help(session, text)
    return keyword


async def _opt_out(session: AsyncSession, text: InboundText, keyword: ConsentKeyword) -> None:
    added = await session.scalar(
        insert(opt_outs)
        .values(
            account_id=text.account_id,
            customer_e164=text.customer_e164,
            dealership_e164=text.dealership_e164,
            keyword=keyword.keyword,
            opted_out_at=text.received_at,
        )
        .on_conflict_do_nothing()
        .returning(opt_outs.c.customer_e164)
    )
    # A second STOP changes nothing, so the timeline does not repeat itself.
    if added:
        await _timeline(session, text, "opted_out", keyword)
        log.info("customer opted out", conversation_id=str(text.conversation_id), keyword=keyword.keyword)


async def _opt_in(session: AsyncSession, text: InboundText, keyword: ConsentKeyword) -> None:
    removed = await session.scalar(
        delete(opt_outs)
        .where(
            opt_outs.c.account_id == text.account_id,
            opt_outs.c.customer_e164 == text.customer_e164,
            opt_outs.c.dealership_e164 == text.dealership_e164,
        )
        .returning(opt_outs.c.customer_e164)
    )
    # "Yes" is also an everyday answer: only a customer who had opted out opts back in.
    if removed:
        await _timeline(session, text, "opted_in", keyword)
        log.info("customer opted in", conversation_id=str(text.conversation_id), keyword=keyword.keyword)


async def _answer_help(session: AsyncSession, text: InboundText) -> None:
    row = (
        await session.execute(
            select(accounts.c.help_text, accounts.c.name).where(accounts.c.id == text.account_id)
        )
    ).first()
    help_text = (row.help_text if row else None) or default_help_text(row.name if row else None)
    outgoing = Outgoing(
        body=help_text,
        source=HELP_SOURCE,
        # The inbound message is stored once, but the reply must never be sent twice either.
        client_reference=f"help:{text.message_id}",
    )
    try:
        # Just after the customer's text, so the timeline shows question then answer.
        answered_at = text.received_at + timedelta(microseconds=2)
        await reply(session, text.account_id, text.conversation_id, None, outgoing, answered_at)
    except (CannotSend, InvalidMessage, RecipientNotFound) as exc:
        # For example a customer who opted out asks for HELP: the carrier answers them itself.
        log.info("HELP not answered", conversation_id=str(text.conversation_id), reason=str(exc))


async def _timeline(session: AsyncSession, text: InboundText, kind: str, keyword: ConsentKeyword) -> None:
    await session.execute(
        timeline_events.insert().values(
            id=uuid4(),
            account_id=text.account_id,
            conversation_id=text.conversation_id,
            kind=kind,
            data={
                "keyword": keyword.keyword,
                "customer_phone": text.customer_e164,
                "dealership_phone": text.dealership_e164,
                "message_id": str(text.message_id),
            },
            # Just after the message that asked for it, so the timeline shows them in that order.
            created_at=text.received_at + timedelta(microseconds=1),
        )
    )
