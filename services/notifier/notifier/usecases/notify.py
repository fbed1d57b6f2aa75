"""Turns drafts into what people receive: the in-app notification (announced to live streams)
and, for kinds the user wants by e-mail, a row in the e-mail outbox — in the caller's
transaction, so the event's claim, the notifications and the e-mails commit together.

A suspended dealership's staff get the in-app notification (theirs to read when it resumes) but
no e-mail: they cannot sign in to act on it, and a resume should not bring a flood of stale mail."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifier import preferences, repository
from notifier.domain.drafts import NotificationDraft
from notifier.domain.kinds import goes_by_email
from notifier.email.outbox import enqueue_email
from notifier.suspension import is_suspended


async def deliver(
    session: AsyncSession,
    account_id: UUID,
    source_event_id: UUID,
    drafts: list[NotificationDraft],
    channel: str,
) -> tuple[int, int]:
    """(notifications stored, e-mails queued)."""
    return (await deliver_all(session, [(account_id, source_event_id, drafts)], channel))[0]


async def deliver_all(
    session: AsyncSession, events: list[tuple[UUID, UUID, list[NotificationDraft]]], channel: str
) -> list[tuple[int, int]]:
    """`deliver` for several events' (account, event id, drafts) in one go: the notifications of
    all of them in two statements, e-mail choices once per account; per event, (notifications
    stored, e-mails queued)."""
    stored = await repository.store_notifications_of_events(session, events, channel)
    recipients: dict[UUID, set[UUID]] = {}
    for account_id, _, drafts in events:
        recipients.setdefault(account_id, set()).update(d.user_id for d in drafts)
    choices = {
        account_id: await preferences.stored_email_choices(session, account_id, sorted(users))
        for account_id, users in recipients.items()
        if users
    }
    suspended: dict[UUID, bool] = {}
    results = []
    for (account_id, source_event_id, drafts), rows in zip(events, stored, strict=True):
        stored_for = {UUID(n["user_id"]): n["id"] for n in rows}
        chosen = choices.get(account_id, {})
        by_email = [
            draft
            for draft in drafts
            if not (draft.in_app and draft.user_id not in stored_for)  # a replay changes nothing
            and goes_by_email(draft.kind, chosen.get(draft.user_id, {}))
        ]
        # Asked only when there is mail to send: most notifications go to the app alone.
        if by_email:
            if account_id not in suspended:
                suspended[account_id] = await is_suspended(session, account_id)
            if suspended[account_id]:
                by_email = []
        queued = 0
        for draft in by_email:
            context = {"kind": draft.kind, "title": draft.title, "body": draft.body, "data": draft.data}
            if await enqueue_email(
                session,
                account_id,
                draft.user_id,
                draft.kind,
                source_event_id,
                context,
                stored_for.get(draft.user_id),
            ):
                queued += 1
        results.append((len(rows), queued))
    return results
