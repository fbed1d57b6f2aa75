"""E-mail: each user's choice of kinds, HTML and plain-text bodies over real SMTP, retries while
the SMTP server is down (delivered once when it is back), and the reason recorded for an e-mail
that can never go."""

import asyncio
from uuid import uuid4

from shared.contracts.conversation import NoteAdded
from shared.contracts.export import ExportCompleted
from shared.contracts.topics import CONVERSATION_NOTE_ADDED, EXPORT_COMPLETED

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
