"""A suspended dealership at notifier (issue 20, item 5): routing's `dealership.suspended.v1`
over real Kafka ends its staff's sessions at notifier's API (401 `dealership_suspended`), and
`dealership.resumed.v1` lets them back; admin endpoints learn it from routing itself (the same
401), whose accounts table says so."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from shared.contracts.conversation import NoteAdded
from shared.contracts.dealership import DealershipResumed, DealershipSuspended
from shared.contracts.topics import CONVERSATION_NOTE_ADDED, DEALERSHIP_RESUMED, DEALERSHIP_SUSPENDED

RECIPIENTS = "/api/v1/notification-settings/unassigned-recipients"


async def answered(http, path: str, headers: dict, status: int, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get(path, headers=headers)
        if response.status_code == status:
            return response.json() if response.content else {}
        assert time.monotonic() < deadline, (path, response.status_code, response.text)
        await asyncio.sleep(0.2)


async def test_a_suspension_ends_staff_sessions_at_notifier_and_a_resume_lets_them_back(
    http, kafka, dealer, other_dealer, db
):
    assert (await http.get("/api/v1/notifications", headers=dealer.headers("sam"))).status_code == 200
    await kafka.publish(
        DEALERSHIP_SUSPENDED,
        DealershipSuspended(account_id=dealer.account_id, reason="unpaid", suspended_by="ops"),
    )
    refused = await answered(http, "/api/v1/notifications", dealer.headers("sam"), 401)
    assert refused["error"]["code"] == "dealership_suspended"
    assert "suspended" in refused["error"]["message"]
    for path in ("/api/v1/notifications/unread-count", "/api/v1/notification-preferences"):
        assert (await http.get(path, headers=dealer.headers("kim"))).status_code == 401, path
    # Another dealership is not touched.
    assert (await http.get("/api/v1/notifications", headers=other_dealer.headers("sam"))).status_code == 200

    # A resume published before a late-arriving older suspension still wins (different topics).
    resumed_at = datetime.now(UTC)
    await kafka.publish(DEALERSHIP_RESUMED, DealershipResumed(account_id=dealer.account_id, resumed_by="ops"))
    await answered(http, "/api/v1/notifications", dealer.headers("sam"), 200)
    await kafka.publish(
        DEALERSHIP_SUSPENDED,
        DealershipSuspended(
            account_id=dealer.account_id, suspended_by="ops", occurred_at=resumed_at - timedelta(minutes=1)
        ),
    )
    await asyncio.sleep(3)
    assert (await http.get("/api/v1/notifications", headers=dealer.headers("sam"))).status_code == 200
    stored = await db.fetchval(
        "SELECT suspended FROM notifier.account_suspensions WHERE account_id = $1", dealer.account_id
    )
    assert stored is False


async def test_admin_endpoints_learn_a_suspension_from_routing(http, dealer, db):
    assert (await http.get(RECIPIENTS, headers=dealer.headers("alex"))).status_code == 200
    await db.execute("UPDATE routing.accounts SET status = 'suspended' WHERE id = $1", dealer.account_id)
    try:
        # routing's answer is cached a few seconds (STAFF_CHECK_SECONDS) per process.
        refused = await answered(http, RECIPIENTS, dealer.headers("alex"), 401, timeout=10)
        assert refused["error"]["code"] == "dealership_suspended"
    finally:
        await db.execute("UPDATE routing.accounts SET status = 'active' WHERE id = $1", dealer.account_id)
    await answered(http, RECIPIENTS, dealer.headers("alex"), 200, timeout=10)


async def test_a_suspended_dealership_gets_its_notifications_in_the_app_but_no_email(
    http, kafka, dealer, db, nt
):
    await http.put(
        "/api/v1/notification-preferences", headers=dealer.headers("sam"), json={"email": {"mentioned": True}}
    )
    await kafka.publish(
        DEALERSHIP_SUSPENDED, DealershipSuspended(account_id=dealer.account_id, suspended_by="ops")
    )

    async def recorded() -> bool:
        return bool(
            await db.fetchval(
                "SELECT suspended FROM notifier.account_suspensions WHERE account_id = $1", dealer.account_id
            )
        )

    try:
        assert await nt.eventually(recorded)
        note = NoteAdded(
            account_id=dealer.account_id,
            conversation_ids=[uuid4()],
            note_ids=[uuid4()],
            actor_user_id=dealer.users["alex"],
            actor_name="Alex Admin",
            body="@Sam the customer called back",
            mentioned_user_ids=[dealer.users["sam"]],
        )
        await kafka.publish(CONVERSATION_NOTE_ADDED, note)

        async def notified() -> bool:
            return bool(
                await db.fetchval(
                    "SELECT count(*) FROM notifier.notifications WHERE source_event_id = $1", note.event_id
                )
            )

        assert await nt.eventually(notified)
        mailed = await db.fetchval(
            "SELECT count(*) FROM notifier.email_outbox WHERE source_event_id = $1", note.event_id
        )
        assert mailed == 0
    finally:
        await kafka.publish(
            DEALERSHIP_RESUMED, DealershipResumed(account_id=dealer.account_id, resumed_by="ops")
        )
        await answered(http, "/api/v1/notifications", dealer.headers("sam"), 200)
