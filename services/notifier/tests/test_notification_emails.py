"""E-mail: each user's choice of kinds, HTML and plain-text bodies over real SMTP, retries while
the SMTP server is down (delivered once when it is back), and the reason recorded for an e-mail
that can never go."""

import asyncio
import json
import threading
import time
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import text

from notifier.email.directory import UserDirectory
from notifier.email.outbox import enqueue_email
from notifier.email.render import EmailRenderer
from notifier.email.smtp import SmtpSender
from notifier.email.worker import EmailWorker
from notifier.migrations import migrate as migrate_notifier
from notifier.settings import NotifierSettings
from shared.contracts.conversation import NoteAdded
from shared.contracts.export import ExportCompleted
from shared.contracts.topics import CONVERSATION_NOTE_ADDED, EXPORT_COMPLETED
from shared.testing.ports import free_port

DEFAULTS = {
    "message_received": False,
    "conversation_assigned": False,
    "mentioned": False,
    "delivery_failed": False,
    "export_completed": True,
}


async def test_preferences_default_change_and_refuse_what_makes_no_sense(http, dealer, other_dealer):
    sam = dealer.headers("sam")
    assert (await http.get("/api/v1/notification-preferences", headers=sam)).json() == {"email": DEFAULTS}
    changed = await http.put(
        "/api/v1/notification-preferences", headers=sam, json={"email": {"mentioned": True}}
    )
    assert changed.status_code == 200
    assert changed.json()["email"] == {**DEFAULTS, "mentioned": True}
    unknown = await http.put(
        "/api/v1/notification-preferences", headers=sam, json={"email": {"gossip": True}}
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["kinds"] == ["gossip"]
    export_off = await http.put(
        "/api/v1/notification-preferences", headers=sam, json={"email": {"export_completed": False}}
    )
    assert export_off.status_code == 422
    not_a_bool = await http.put(
        "/api/v1/notification-preferences", headers=sam, json={"email": {"mentioned": "maybe"}}
    )
    assert not_a_bool.status_code == 422
    # Nobody else's choices moved.
    for headers in (dealer.headers("kim"), other_dealer.headers("sam")):
        assert (await http.get("/api/v1/notification-preferences", headers=headers)).json() == {
            "email": DEFAULTS
        }


def _note(dealer, mentioned: list) -> NoteAdded:
    return NoteAdded(
        account_id=dealer.account_id,
        conversation_ids=[uuid4()],
        note_ids=[uuid4()],
        actor_user_id=dealer.users["alex"],
        actor_name="Alex Admin",
        body="<b>Call</b> Mr. O'Brien & confirm the recall",
        mentioned_user_ids=mentioned,
    )


async def test_mention_goes_by_email_only_to_those_who_chose_it(http, kafka, dealer, smtp, nt):
    await http.put(
        "/api/v1/notification-preferences", headers=dealer.headers("sam"), json={"email": {"mentioned": True}}
    )
    event = _note(dealer, [dealer.users["sam"], dealer.users["kim"]])
    await kafka.publish(CONVERSATION_NOTE_ADDED, event)

    async def mailed():
        return smtp.mailbox.to(dealer.emails["sam"])

    (mail,) = await nt.eventually(mailed)
    assert mail["Subject"] == "Alex Admin mentioned you in a note"
    assert "Sam Agent" in mail["To"]
    assert mail.get_body(("plain",)).get_content().count("<b>Call</b> Mr. O'Brien & confirm the recall") == 1
    html = mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;Call&lt;/b&gt;" in html and "<b>Call</b>" not in html
    assert str(event.conversation_ids[0]) in html
    # Kim kept the default: in the app only.
    kim_items = nt.of_event(
        await nt.feed(http, dealer.headers("kim")), "conversation_id", str(event.conversation_ids[0])
    )
    assert len(kim_items) == 1
    await asyncio.sleep(1)
    assert smtp.mailbox.to(dealer.emails["kim"]) == []


async def test_smtp_down_then_up_the_email_is_delivered_once(kafka, dealer, smtp, db, nt):
    smtp.stop()
    try:
        event = ExportCompleted(
            account_id=dealer.account_id,
            job_id=uuid4(),
            conversation_id=uuid4(),
            requested_by_user_id=dealer.users["kim"],
            download_url=f"https://exports.test/{uuid4().hex}.pdf",
        )
        await kafka.publish(EXPORT_COMPLETED, event)

        async def retried():
            row = await db.fetchrow(
                "SELECT status, attempts, last_error FROM notifier.email_outbox WHERE source_event_id = $1",
                event.event_id,
            )
            return row if row and row["attempts"] >= 2 else None

        row = await nt.eventually(retried)
        assert row["status"] == "pending" and row["last_error"]
        assert smtp.mailbox.to(dealer.emails["kim"]) == []
    finally:
        smtp.start()

    async def delivered():
        return smtp.mailbox.to(dealer.emails["kim"])

    (mail,) = await nt.eventually(delivered)
    assert event.download_url in mail.get_body(("plain",)).get_content()
    await asyncio.sleep(1.5)
    assert len(smtp.mailbox.to(dealer.emails["kim"])) == 1
    row = await db.fetchrow(
        "SELECT status, last_error FROM notifier.email_outbox WHERE source_event_id = $1", event.event_id
    )
    assert (row["status"], row["last_error"]) == ("sent", None)


async def test_email_for_someone_routing_does_not_know_in_the_account_is_recorded_failed(
    kafka, dealer, other_dealer, db, nt
):
    strangers = [uuid4(), other_dealer.users["sam"]]  # nobody; someone of another account
    events = [
        ExportCompleted(
            account_id=dealer.account_id,
            job_id=uuid4(),
            conversation_id=uuid4(),
            requested_by_user_id=stranger,
            download_url="https://exports.test/x.pdf",
        )
        for stranger in strangers
    ]
    for event in events:
        await kafka.publish(EXPORT_COMPLETED, event)

    async def failed():
        rows = await db.fetch(
            "SELECT status, last_error, attempts FROM notifier.email_outbox WHERE source_event_id = ANY($1)",
            [e.event_id for e in events],
        )
        return rows if len(rows) == 2 and all(r["status"] == "failed" for r in rows) else None

    rows = await nt.eventually(failed)
    assert all("not found" in row["last_error"] and row["attempts"] == 1 for row in rows)


async def test_an_email_that_cannot_be_rendered_is_recorded_failed_with_the_reason(notifier, dealer, db, nt):
    event_id = uuid4()
    await db.execute(
        "INSERT INTO notifier.email_outbox (account_id, user_id, kind, source_event_id, context)"
        ' VALUES ($1, $2, \'message_received\', $3, \'{"title": "x", "body": "y", "data": {}}\')',
        dealer.account_id,
        dealer.users["kim"],
        event_id,
    )

    async def failed():
        row = await db.fetchrow(
            "SELECT status, last_error, attempts FROM notifier.email_outbox WHERE source_event_id = $1",
            event_id,
        )
        return row if row["status"] != "pending" else None

    row = await nt.eventually(failed)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"].startswith("could not render") and "conversation_id" in row["last_error"]


# --- leases: one e-mail at a time, and only the holder's outcome counts ---------------------------


class SlowMailbox:
    """An SMTP server that takes its time over each message (in its own thread), and counts them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.received: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server, _session, envelope) -> str:
        # Blocks this server's own loop (its thread) only: one message at a time, slowly.
        time.sleep(self.seconds)  # noqa: ASYNC251
        with self._lock:
            self.received.append(envelope.content.decode(errors="replace"))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def lease_database_url() -> str:
    """A notifier schema of its own: the session's running e-mail worker never sees these rows."""
    from shared.testing.infrastructure import fresh_database

    with fresh_database("sbemaillease", migrate_notifier) as url:
        yield url


async def test_two_workers_with_a_short_lease_send_each_email_once(
    lease_database_url, settings, routing, dealer
):
    mailbox = SlowMailbox(0.4)
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    from shared.db.engine import create_engine, create_session_factory

    worker_settings = settings.model_copy(
        update={"database_url": lease_database_url, "smtp_port": controller.port}
    )
    engine = create_engine(worker_settings)
    sessions = create_session_factory(engine)
    http = httpx.AsyncClient()
    try:
        async with sessions.begin() as session:
            for n in range(5):
                context = {
                    "kind": "export_completed",
                    "title": f"Export {n} is ready",
                    "body": "b",
                    "data": {"ready": True, "download_url": f"https://exports.test/{n}.pdf"},
                }
                await enqueue_email(
                    session,
                    dealer.account_id,
                    dealer.users["kim"],
                    "export_completed",
                    uuid4(),
                    context,
                    None,
                )

        def worker() -> EmailWorker:
            return EmailWorker(
                sessions,
                worker_settings,
                UserDirectory(worker_settings, routing.url, http),
                EmailRenderer(worker_settings.app_base_url),
                SmtpSender(worker_settings),
                lease=timedelta(seconds=1),
            )

        first, second = worker(), worker()
        first_round = asyncio.create_task(first.send_due())
        # Five e-mails at 0.4 s each outlive a 1 s lease: the second worker comes by meanwhile.
        await asyncio.sleep(1.2)
        await second.send_due()
        await first_round
        await asyncio.sleep(0.5)

        titles = sorted(
            line for m in mailbox.received for line in m.splitlines() if line.startswith("Subject")
        )
        assert titles == [f"Subject: Export {n} is ready" for n in range(5)], "each e-mail exactly once"
        async with sessions() as session:
            rows = (
                await session.execute(text("SELECT status, lease_token FROM notifier.email_outbox"))
            ).all()
        assert [(r.status, r.lease_token) for r in rows] == [("sent", None)] * 5
    finally:
        await http.aclose()
        await engine.dispose()
        controller.stop()


async def test_a_worker_whose_lease_ran_out_records_nothing(lease_database_url, settings, dealer):
    from notifier.email import outbox
    from shared.db.engine import create_engine, create_session_factory

    engine = create_engine(settings.model_copy(update={"database_url": lease_database_url}))
    sessions = create_session_factory(engine)
    try:
        async with sessions.begin() as session:
            await enqueue_email(
                session, dealer.account_id, dealer.users["kim"], "export_completed", uuid4(), {}, None
            )
            email_id = await session.scalar(text("SELECT max(id) FROM notifier.email_outbox"))
        async with sessions.begin() as session:
            stale = await outbox.lease(session, email_id, timedelta(seconds=0))
        async with sessions.begin() as session:
            current = await outbox.lease(session, email_id, timedelta(seconds=60))
        assert stale and current and stale.lease_token != current.lease_token
        async with sessions.begin() as session:
            assert await outbox.lease(session, email_id, timedelta(seconds=60)) is None, "held"
            assert not await outbox.mark_sent(session, stale, "kim@old.test")
            assert not await outbox.mark_failed(session, stale, "stale")
            assert not await outbox.retry_later(session, stale, "stale", timedelta(seconds=1))
        async with sessions() as session:
            row = (
                await session.execute(
                    text("SELECT status, attempts, last_error FROM notifier.email_outbox WHERE id = :id"),
                    {"id": email_id},
                )
            ).one()
        assert (row.status, row.attempts, row.last_error) == ("pending", 2, None)
        async with sessions.begin() as session:
            assert await outbox.mark_sent(session, current, "kim@example.test")
    finally:
        await engine.dispose()


# --- the SMTP password ---------------------------------------------------------------------------


def test_smtp_password_never_shows_in_reprs_or_dumps():
    secret = "hunter2-" + uuid4().hex
    settings = NotifierSettings(smtp_username="mailer", smtp_password=secret)
    assert isinstance(settings.smtp_password, SecretStr)
    for shown in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        json.dumps(settings.model_dump(), default=str),
    ):
        assert secret not in shown
    assert settings.smtp_password.get_secret_value() == secret


async def test_smtp_password_is_given_to_the_smtp_server_and_nowhere_else(capsys):
    from aiosmtpd.smtp import AuthResult

    from notifier.email.render import RenderedEmail

    secret = "s3cret-" + uuid4().hex
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(_server, _session, _envelope, _mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == secret.encode())

    mailbox = SlowMailbox(0)
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        settings = NotifierSettings(smtp_port=controller.port, smtp_username="mailer", smtp_password=secret)
        sender = SmtpSender(settings)
        message = sender.build(RenderedEmail("Hi", "text", "<p>html</p>"), "kim@example.test", "Kim", "k-1")
        await sender.send(message)
    finally:
        controller.stop()
    assert logins == [(b"mailer", secret.encode())]
    assert len(mailbox.received) == 1 and secret not in mailbox.received[0]
    printed = capsys.readouterr()
    assert secret not in printed.out + printed.err
