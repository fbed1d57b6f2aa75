"""The inbox row's preview of the latest message: inbound or outbound, never a note, kept where
messages are stored (a late, older text does not take it over), and backfilled by the migration."""

import asyncio
from pathlib import Path
from uuid import uuid4

import asyncpg
from sqlalchemy import update

import routing.migrations
from routing.tables import conversations
from shared.db.migrations import upgrade
from shared.testing.infrastructure import fresh_database


async def _row(client, dealer, conversation) -> dict:
    response = await client.get(f"/api/v1/conversations/{conversation}", headers=dealer.admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_list_shows_the_latest_message_inbound_or_outbound_never_a_note(
    client, dealer, ago, listed
):
    number = "+14385550111"
    conversation = await dealer.receive(ago(2), "Is my car ready?", customer_number=number)
    row = (await listed(client, dealer.admin))[str(conversation)]
    assert (row["last_message_preview"], row["last_message_direction"]) == ("Is my car ready?", "inbound")

    reply = await client.post(
        f"/api/v1/conversations/{conversation}/messages", headers=dealer.sam, json={"body": "Yes, at 4."}
    )
    assert reply.status_code == 201, reply.text
    row = (await listed(client, dealer.admin))[str(conversation)]
    assert row["last_message_preview"].endswith("Yes, at 4.")
    assert row["last_message_direction"] == "outbound"

    note = await client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=dealer.sam, json={"body": "secret"}
    )
    assert note.status_code == 201
    row = await _row(client, dealer, conversation)
    assert row["last_message_direction"] == "outbound"
    assert "secret" not in row["last_message_preview"]


async def test_the_preview_is_the_first_120_characters(client, dealer, ago):
    body = "é" * 100 + "x" * 100
    conversation = await dealer.receive(ago(1), body)
    row = await _row(client, dealer, conversation)
    assert row["last_message_preview"] == body[:120]


async def test_an_older_text_stored_late_does_not_take_over_the_preview(client, dealer, ago):
    number = "+14385550112"
    conversation = await dealer.receive(ago(1), "newest", customer_number=number)
    assert await dealer.receive(ago(3), "older, delivered late", customer_number=number) == conversation
    row = await _row(client, dealer, conversation)
    assert row["last_message_preview"] == "newest"


async def test_a_conversation_without_messages_has_no_preview(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    async with dealer.sessions.begin() as session:  # as before the migration's backfill
        await session.execute(
            update(conversations)
            .where(conversations.c.id == conversation)
            .values(
                last_message_at=None,
                last_message_id=None,
                last_message_preview=None,
                last_message_direction=None,
            )
        )
    row = await _row(client, dealer, conversation)
    assert (row["last_message_preview"], row["last_message_direction"]) == (None, None)


_CONVERSATION = (
    "INSERT INTO routing.conversations (id, account_id, customer_id, status, last_activity_at)"
    " VALUES ($1, $2, $3, $4, now())"
)
_MESSAGE = (
    "INSERT INTO routing.messages (id, account_id, conversation_id, direction, body, status, created_at)"
    " VALUES ($1, $2, $3, $4, $5, 'delivered', now() - make_interval(mins => $6))"
)
_PREVIEWS = (
    "SELECT id, last_message_preview, last_message_direction, last_message_id IS NOT NULL"
    " FROM routing.conversations"
)


async def _before_the_migration(dsn: str, account, customer, talked, quiet) -> None:
    db = await asyncpg.connect(dsn)
    try:
        await db.execute("INSERT INTO routing.accounts (id, name) VALUES ($1, 'A')", account)
        await db.execute("INSERT INTO routing.customers (id, account_id) VALUES ($1, $2)", customer, account)
        await db.execute(_CONVERSATION, talked, account, customer, "archived")
        await db.execute(_CONVERSATION, quiet, account, customer, "open")
        for minutes, direction, body in (
            (30, "inbound", "first"),
            (20, "outbound", "y" * 300),
            (40, "inbound", "old"),
        ):
            await db.execute(_MESSAGE, uuid4(), account, talked, direction, body, minutes)
    finally:
        await db.close()


async def _previews(dsn: str) -> dict:
    db = await asyncpg.connect(dsn)
    try:
        return {row[0]: tuple(row)[1:] for row in await db.fetch(_PREVIEWS)}
    finally:
        await db.close()


def test_the_migration_backfills_the_latest_message_of_existing_conversations():
    folder = Path(routing.migrations.__file__).parent
    with fresh_database("sbroutingmig", lambda url: upgrade(url, "routing", folder, "0006p")) as url:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        account, customer, talked, quiet = uuid4(), uuid4(), uuid4(), uuid4()
        asyncio.run(_before_the_migration(dsn, account, customer, talked, quiet))
        upgrade(url, "routing", folder)
        found = asyncio.run(_previews(dsn))
        assert found[talked] == ("y" * 120, "outbound", True)
        assert found[quiet] == (None, None, False)
