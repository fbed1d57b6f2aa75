"""`python -m search rebuild` throws the projection away and replays the topics: the same
searches answer the same afterwards, while the live consumers keep running."""

from datetime import UTC, datetime
from uuid import uuid4

from search.rebuild import rebuild
from shared.contracts.conversation import ConversationStatusChanged
from shared.contracts.customer import ConversationMerged
from shared.contracts.topics import (
    CONVERSATION_MERGED,
    CONVERSATION_STATUS_CHANGED,
    CUSTOMER_CHANGED,
    DMS_EVENTS,
    MESSAGE_RECEIVED,
)

QUERIES = [
    ("gauthier", "all"),
    ("514 555 7", "all"),
    ("777.25", "all"),
    ("recall", "all"),
    ("courroie", "all"),
    ("courroie", "open"),
    ("courroie", "closed"),
    ("RO-5544", "all"),
]


async def test_rebuild_reproduces_the_same_results(st, kafka, http, account, settings, db):
    survivor, merged, dms_id = uuid4(), uuid4(), f"D-{uuid4().hex[:8]}"
    active, other = uuid4(), uuid4()
    await kafka.publish(
        CUSTOMER_CHANGED,
        st.events.customer(account, survivor, "Hugo", "Gauthier", ["+15145557001"], dms_customer_id=dms_id),
    )
    await kafka.publish(
        CUSTOMER_CHANGED, st.events.customer(account, merged, "Hugo", "Gauthier", ["+15145557002"])
    )
    await kafka.publish(
        MESSAGE_RECEIVED, st.events.received(account, survivor, active, "La courroie grince", "+15145557001")
    )
    await kafka.publish(
        MESSAGE_RECEIVED, st.events.received(account, merged, other, "Courroie changée?", "+15145557002")
    )
    await kafka.publish(
        CONVERSATION_STATUS_CHANGED,
        ConversationStatusChanged(
            account_id=account.account_id, conversation_id=active, status="closed", previous_status="open"
        ),
    )
    await kafka.publish(
        CONVERSATION_MERGED,
        ConversationMerged(
            account_id=account.account_id,
            archived_conversation_id=other,
            surviving_conversation_id=active,
            moved_conversation_ids=[other],
            surviving_customer_id=survivor,
            merged_customer_id=merged,
            phone_e164="+15145557001",
        ),
    )
    for kind, record_id, version, payload in (
        ("repair_order.opened", "RO-5544", 1, {"ro_number": "RO-5544", "dms_customer_id": dms_id}),
        ("repair_order.closed", "RO-5544", 2, {"ro_number": "RO-5544", "dms_customer_id": dms_id}),
        (
            "payment.recorded",
            "P-5544",
            1,
            {"payment_id": "P-5544", "dms_customer_id": dms_id, "amount": 777.25, "currency": "CAD"},
        ),
        (
            "appointment.booked",
            "A-5544",
            1,
            {
                "appointment_id": "A-5544",
                "dms_customer_id": dms_id,
                "starts_at": datetime.now(UTC).isoformat(),
                "appointment_type": "Recall",
            },
        ),
    ):
        await kafka.publish(DMS_EVENTS, st.events.dms(account, kind, record_id, version, payload), key=dms_id)

    async def settled():
        page = await st.search(http, account, "courroie", status="closed")
        done = (await st.search(http, account, "recall"))["results"] and (
            await st.search(http, account, "777.25")
        )["results"]
        return done and len(page["results"]) == 1 and len(page["results"][0]["matches"]) == 2

    assert await st.eventually(settled)
    before = {(q, s): await st.search(http, account, q, status=s) for q, s in QUERIES}
    assert all(before[q, s]["results"] for q, s in QUERIES if s != "open")

    report = await rebuild(settings)

    assert report.applied > 0
    after = {(q, s): await st.search(http, account, q, status=s) for q, s in QUERIES}
    assert after == before
    # Nothing was applied twice by the replay and the live consumers together.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM search.messages WHERE customer_id IN ($1, $2)", survivor, merged
        )
        == 2
    )
