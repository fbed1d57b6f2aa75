"""Invitations and password resets from routing are e-mailed (HTML and text, English or French)
to the address the event names, once per event, through the e-mail outbox over real Kafka,
PostgreSQL and SMTP; the link is never logged."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from shared.contracts.staff import PasswordResetRequested, StaffInvitationSent
from shared.contracts.topics import STAFF_INVITATION_SENT, STAFF_PASSWORD_RESET_REQUESTED


def _invitation(dealer, **overrides) -> StaffInvitationSent:
    invitation_id = uuid4()
    values = dict(
        account_id=dealer.account_id,
        invitation_id=invitation_id,
        email=f"new.{invitation_id.hex[:8]}@dealer.test",
        name="Nora <New>",
        role="agent",
        account_name="Demo & Sons Motors",
        invited_by_name="Alex Admin",
        link=f"http://web.test/invitations/accept?token={uuid4().hex}.sig",
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    return StaffInvitationSent(**{**values, **overrides})


async def test_an_invitation_is_mailed_to_the_invitee_in_english(kafka, dealer, smtp, nt, db, capsys):
    event = _invitation(dealer)
    await kafka.publish(STAFF_INVITATION_SENT, event)

    async def mailed():
        return smtp.mailbox.to(event.email)

    (mail,) = await nt.eventually(mailed)
    assert mail["Subject"] == "Demo & Sons Motors invites you to Switchboard"
    assert "Nora <New>" in mail["To"] or "Nora" in mail["To"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert event.link in text and "Alex Admin invites you" in text and "Set" not in text.split(event.link)[1]
    assert f'href="{event.link}"' in html and "Set my password" in html
    assert "Nora &lt;New&gt;" in html and "Demo &amp; Sons Motors" in html
    # Replayed (at-least-once delivery): still one e-mail.
    await kafka.publish(STAFF_INVITATION_SENT, event)
    await asyncio.sleep(1.5)
    assert len(smtp.mailbox.to(event.email)) == 1
    row = await db.fetchrow(
        "SELECT status, user_id, to_address FROM notifier.email_outbox WHERE source_event_id = $1",
        event.event_id,
    )
    assert (row["status"], row["user_id"], row["to_address"]) == ("sent", None, event.email)
    token = event.link.split("token=")[1]
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err


async def test_a_french_invitation_and_a_french_reset(kafka, dealer, smtp, nt):
    invitation = _invitation(dealer, language="fr_CA", role="admin", invited_by_name=None)
    reset = PasswordResetRequested(
        account_id=dealer.account_id,
        reset_id=uuid4(),
        user_id=dealer.users["kim"],
        email=dealer.emails["kim"],
        name="Kim Lee",
        account_name="Garage Tremblay",
        language="fr_CA",
        link=f"http://web.test/password-reset?token={uuid4().hex}.sig",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    await kafka.publish(STAFF_INVITATION_SENT, invitation)
    await kafka.publish(STAFF_PASSWORD_RESET_REQUESTED, reset)

    async def both():
        found = smtp.mailbox.to(invitation.email), smtp.mailbox.to(dealer.emails["kim"])
        return found if all(found) else None

    (invited,), (reset_mail,) = await nt.eventually(both)
    assert invited["Subject"] == "Demo & Sons Motors vous invite à Switchboard"
    assert "comme administrateur" in invited.get_body(("plain",)).get_content()
    assert 'lang="fr-CA"' in invited.get_body(("html",)).get_content()
    assert reset_mail["Subject"] == "Réinitialisez votre mot de passe Switchboard"
    assert reset.link in reset_mail.get_body(("plain",)).get_content()
    assert "Choisir un nouveau mot de passe" in reset_mail.get_body(("html",)).get_content()


async def test_an_english_reset_when_the_language_is_not_known(kafka, dealer, smtp, nt):
    reset = PasswordResetRequested(
        account_id=dealer.account_id,
        reset_id=uuid4(),
        user_id=dealer.users["lou"],
        email=dealer.emails["lou"],
        name="Lou Outsider",
        account_name="Demo Motors",
        link=f"http://web.test/password-reset?token={uuid4().hex}.sig",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    await kafka.publish(STAFF_PASSWORD_RESET_REQUESTED, reset)

    async def mailed():
        return smtp.mailbox.to(dealer.emails["lou"])

    (mail,) = await nt.eventually(mailed)
    assert mail["Subject"] == "Reset your Switchboard password"
    assert "your other sessions will be signed out" in mail.get_body(("plain",)).get_content()
