"""Colleagues join by invitation: invite through the API, take the link from the event routing
queued for notifier (what the e-mail would carry), and accept it with a password."""

from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from sqlalchemy import select

from routing.tables import outbox
from shared.contracts.staff import PasswordResetRequested, StaffInvitationSent
from shared.contracts.topics import STAFF_INVITATION_SENT, STAFF_PASSWORD_RESET_REQUESTED

NEW_PASSWORD = "long-enough-1"


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def invitation_event(sessions, invitation_id: str | UUID) -> StaffInvitationSent:
    async with sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == STAFF_INVITATION_SENT.name)
            .order_by(outbox.c.id.desc())
        )
        for payload in payloads:
            event = StaffInvitationSent.model_validate_json(bytes(payload))
            if str(event.invitation_id) == str(invitation_id):
                return event
    raise AssertionError(f"no invitation event for {invitation_id}")


async def reset_events(sessions, user_id: str | UUID) -> list[PasswordResetRequested]:
    async with sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload)
            .where(outbox.c.topic == STAFF_PASSWORD_RESET_REQUESTED.name, outbox.c.key == str(user_id))
            .order_by(outbox.c.id)
        )
        return [PasswordResetRequested.model_validate_json(bytes(p)) for p in payloads]


async def invite(client, admin_headers: dict, **fields) -> dict:
    import secrets

    body = {"email": f"pat.{secrets.token_hex(4)}@dealer.test", "name": "Pat Parts", "role": "agent"} | fields
    response = await client.post("/api/v1/invitations", headers=admin_headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def invite_and_accept(client, dealer, password: str = NEW_PASSWORD, **fields) -> dict:
    """A new colleague of `dealer` who set `password`: their user, plus `headers` to call as them."""
    invitation = await invite(client, dealer.admin, **fields)
    event = await invitation_event(dealer.sessions, invitation["id"])
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": token_of(event.link), "password": password}
    )
    assert accepted.status_code == 200, accepted.text
    headers = {"authorization": f"Bearer {accepted.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    user = (await client.get(f"/api/v1/users/{me['id']}", headers=dealer.admin)).json()
    return user | {"headers": headers}
