"""Sends what the e-mail outbox holds. Runs on every replica: each row is leased on its own, just
before it is sent, under a fresh token; only the current holder's outcome is recorded. An SMTP
server or routing that is down is retried with exponential backoff, up to `email_max_attempts`;
an e-mail that can never go (no such user, no address, a template error, a permanent SMTP
refusal) is recorded `failed` with the reason at once."""

import asyncio
import contextlib
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.domain.retries import backoff
from notifier.email import outbox
from notifier.email.directory import DirectoryUnavailable, UserDirectory, UserNotFound
from notifier.email.render import EmailRenderer, RenderFailed
from notifier.email.smtp import SmtpRejected, SmtpSender
from notifier.settings import NotifierSettings

log = structlog.get_logger(__name__)


class Undeliverable(Exception):
    """This e-mail can never be sent as it is."""


class EmailWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: NotifierSettings,
        directory: UserDirectory,
        renderer: EmailRenderer,
        sender: SmtpSender,
        lease: timedelta | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._directory = directory
        self._renderer = renderer
        self._sender = sender
        self._wake = asyncio.Event()
        # One e-mail's lease, taken just before it is sent: long enough for one directory call and
        # one SMTP conversation (each bounded by its timeout), with room to spare.
        self._lease = lease or timedelta(seconds=settings.smtp_timeout_seconds * 3 + 30)

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            handled = await self.send_due()
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    _first(stop.wait(), self._wake.wait()), timeout=self._settings.email_poll_seconds
                )

    async def send_due(self) -> int:
        """Sends what is due, leasing each e-mail only when its turn comes; returns how many."""
        async with self._sessions() as session:
            due = await outbox.due_ids(session, self._settings.email_batch_size)
        sent = 0
        for email_id in due:
            async with self._sessions.begin() as session:
                email = await outbox.lease(session, email_id, self._lease)
            if email is None:  # another worker has it
                continue
            await self._send_one(email)
            sent += 1
        return sent

    async def _send_one(self, email: outbox.PendingEmail) -> None:
        try:
            to_address = await self._attempt(email)
        except Undeliverable as exc:
            await self._record_failure(email, str(exc))
        except Exception as exc:  # SMTP down, routing down, a timeout: try again later
            reason = f"{type(exc).__name__}: {exc}"
            if email.attempts >= self._settings.email_max_attempts:
                await self._record_failure(email, f"gave up after {email.attempts} attempts: {reason}")
                return
            delay = backoff(
                email.attempts,
                self._settings.email_retry_base_seconds,
                self._settings.email_retry_max_seconds,
            )
            async with self._sessions.begin() as session:
                if not await outbox.retry_later(session, email, reason, delay):
                    _lease_lost(email)
                    return
            log.warning(
                "e-mail not sent; will retry", email_id=email.id, attempts=email.attempts, reason=reason
            )
        else:
            async with self._sessions.begin() as session:
                recorded = await outbox.mark_sent(session, email, to_address)
            if recorded:
                log.info("e-mail sent", email_id=email.id, kind=email.kind)
            else:
                _lease_lost(email)

    async def _attempt(self, email: outbox.PendingEmail) -> str:
        if email.recipient_email:  # an invitation or a reset: to the address the event named
            return await self._render_and_send(email, email.recipient_email, email.recipient_name or "")
        if email.user_id is None:
            raise Undeliverable("the e-mail names no recipient")
        try:
            member = await self._directory.get(email.account_id, email.user_id)
        except UserNotFound as exc:
            raise Undeliverable(str(exc)) from exc
        except DirectoryUnavailable:
            raise
        if not member.active:
            raise Undeliverable("the user is deactivated")
        if not member.email:
            raise Undeliverable("the user has no e-mail address")
        return await self._render_and_send(email, member.email, member.name)

    async def _render_and_send(self, email: outbox.PendingEmail, address: str, name: str) -> str:
        try:
            rendered = self._renderer.render(email.kind, email.context, name)
        except RenderFailed as exc:
            raise Undeliverable(f"could not render: {exc}") from exc
        message = self._sender.build(rendered, address, name, f"notification-{email.id}")
        try:
            await self._sender.send(message)
        except SmtpRejected as exc:
            raise Undeliverable(f"the SMTP server refused it: {exc}") from exc
        return address

    async def _record_failure(self, email: outbox.PendingEmail, reason: str) -> None:
        async with self._sessions.begin() as session:
            if not await outbox.mark_failed(session, email, reason):
                _lease_lost(email)
                return
        log.warning("e-mail failed", email_id=email.id, kind=email.kind, reason=reason)


def _lease_lost(email: outbox.PendingEmail) -> None:
    # Our lease ran out and another worker took the row: its outcome is the one that counts.
    log.warning("e-mail lease lost; outcome not recorded", email_id=email.id, attempts=email.attempts)


async def _first(*waits) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
