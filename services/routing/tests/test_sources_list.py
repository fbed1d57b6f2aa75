"""The list of automations, campaigns or appointments that texted customers
(GET /api/v1/sources?kind=): names as their systems gave them, customers reached, undelivered,
last sent; the newest first, paged; another account's sources are not listed."""

from datetime import UTC, datetime
from uuid import uuid4

from routing.messaging.usecases.outbound_status import StatusReport, apply_status

from .test_send_outreach import new_phone, outreach


async def test_sources_of_a_kind_with_reach_and_undelivered(client, dealer, other_dealer):
    kind = "automation"
    older = {"kind": kind, "id": f"auto-{uuid4()}", "name": "Service reminder", "url": None}
    newer = {
        "kind": kind,
        "id": f"auto-{uuid4()}",
        "name": "Follow-up <b>1</b>",
        "url": "https://crm.test/a/1",
    }
    first, second = new_phone(), new_phone()
    await outreach(client, dealer.sam, customer_phone=first, body="1", source=older)
    failed = (await outreach(client, dealer.sam, customer_phone=first, body="2", source=newer)).json()
    await outreach(client, dealer.sam, customer_phone=second, body="3", source=newer)
    # The system renamed it on its latest text; the same customer twice counts once.
    renamed = {**newer, "name": "Follow-up (renamed)"}
    await outreach(client, dealer.sam, customer_phone=second, body="4", source=renamed)
    # Other kinds and other accounts are not listed.
    await outreach(client, dealer.sam, customer_phone=first, body="c", source={**older, "kind": "campaign"})
    await outreach(
        client, other_dealer.sam, customer_phone=new_phone(), body="o", source={**older, "id": "theirs"}
    )
    async with dealer.sessions.begin() as session:
        await apply_status(
            session,
            dealer.account_id,
            failed["message"]["id"],
            StatusReport(status="undelivered", at=datetime.now(UTC), error_category="wrong_number"),
        )

    answer = await client.get("/api/v1/sources", headers=dealer.sam, params={"kind": kind})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    mine = [s for s in page["items"] if s["id"] in (older["id"], newer["id"])]
    assert [{k: v for k, v in s.items() if k != "last_sent_at"} for s in mine] == [
        {
            "kind": kind,
            "id": newer["id"],
            "name": "Follow-up (renamed)",
            "url": "https://crm.test/a/1",
            "customers_reached": 2,
            "undelivered": 1,
        },
        {
            "kind": kind,
            "id": older["id"],
            "name": "Service reminder",
            "url": None,
            "customers_reached": 1,
            "undelivered": 0,
        },
    ]
    assert mine[0]["last_sent_at"] > mine[1]["last_sent_at"]
    assert "theirs" not in [s["id"] for s in page["items"]]

    # Only some ids; paging one by one walks the same list.
    only = await client.get(
        "/api/v1/sources", headers=dealer.sam, params={"kind": kind, "id": [older["id"], "nope"]}
    )
    assert [s["id"] for s in only.json()["items"]] == [older["id"]]
    seen, cursor = [], None
    while True:
        params = {"kind": kind, "limit": 1, **({"cursor": cursor} if cursor else {})}
        one = (await client.get("/api/v1/sources", headers=dealer.sam, params=params)).json()
        seen += [s["id"] for s in one["items"]]
        cursor = one["next_cursor"]
        if not cursor:
            break
    assert seen == [s["id"] for s in page["items"]]

    theirs = await client.get("/api/v1/sources", headers=other_dealer.sam, params={"kind": kind})
    assert [s["id"] for s in theirs.json()["items"]] == ["theirs"]


async def test_sources_refuses_unknown_kinds_and_cursors(client, dealer):
    for params in ({"kind": "newsletter"}, {}, {"kind": "campaign", "cursor": "nope"}):
        answer = await client.get("/api/v1/sources", headers=dealer.sam, params=params)
        assert answer.status_code == 422, (params, answer.text)
    assert (await client.get("/api/v1/sources", params={"kind": "campaign"})).status_code == 401
