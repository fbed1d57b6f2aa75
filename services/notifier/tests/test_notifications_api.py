"""The feed API: pages, unread counts, marking read; each user sees only their own, and another
user's or another account's notification answers exactly like a missing one."""

from uuid import uuid4

import pytest

from notifier import repository
from notifier.domain.drafts import NotificationDraft
from shared.db.engine import create_engine, create_session_factory
from shared.http.auth import issue_token


@pytest.fixture(scope="session")
async def sessions(settings):
    engine = create_engine(settings)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def store(sessions, settings):
    """`await store(dealer, "sam", n)`: n notifications for one user, as the consumers store them."""

    async def _store(dealer, who: str, count: int = 1, kind: str = "mentioned") -> list[int]:
        ids = []
        for index in range(count):
            draft = NotificationDraft(dealer.users[who], kind, f"n{index}", "", {"index": index})
            async with sessions.begin() as session:
                stored = await repository.store_notifications(
                    session, dealer.account_id, uuid4(), [draft], settings.live_channel
                )
            ids.append(stored[0]["id"])
        return ids

    return _store


async def test_feed_pages_newest_first_with_a_cursor(http, dealer, store):
    ids = await store(dealer, "sam", 7)
    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await http.get("/api/v1/notifications", headers=dealer.headers("sam"), params=params)
        assert response.status_code == 200, response.text
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [ids[6:3:-1], ids[3:0:-1], ids[0:1]]


async def test_bad_cursor_and_limits_are_refused_clearly(http, dealer):
    bad = await http.get("/api/v1/notifications", headers=dealer.headers("sam"), params={"cursor": "abc"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    huge = await http.get("/api/v1/notifications", headers=dealer.headers("sam"), params={"limit": 5000})
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_request"


async def test_mark_one_read_counts_and_keeps_its_first_read_time(http, dealer, store, nt):
    first, second, third = await store(dealer, "kim", 3)
    headers = dealer.headers("kim")
    assert await nt.unread(http, headers) == 3
    marked = await http.post(f"/api/v1/notifications/{second}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    again = await http.post(f"/api/v1/notifications/{second}/read", headers=headers)
    assert again.json()["read_at"] == marked.json()["read_at"]
    assert await nt.unread(http, headers) == 2
    unread_only = await nt.feed(http, headers, unread="true")
    assert [item["id"] for item in unread_only] == [third, first]


async def test_mark_all_read_up_to_what_the_client_saw(http, dealer, store, nt):
    _first, second = await store(dealer, "lou", 2)
    headers = dealer.headers("lou")
    (later,) = await store(dealer, "lou", 1)
    response = await http.post("/api/v1/notifications/read-all", headers=headers, json={"up_to_id": second})
    assert response.json() == {"marked": 2, "unread": 1}
    assert [item["id"] for item in await nt.feed(http, headers, unread="true")] == [later]
    everything = await http.post("/api/v1/notifications/read-all", headers=headers)
    assert everything.json() == {"marked": 1, "unread": 0}
    bad = await http.post("/api/v1/notifications/read-all", headers=headers, json={"up_to_id": "x"})
    assert bad.status_code == 422


async def test_users_and_accounts_only_see_and_mark_their_own(http, dealer, other_dealer, store, nt):
    (sams,) = await store(dealer, "sam", 1)
    (theirs,) = await store(other_dealer, "sam", 1)
    assert sams not in [item["id"] for item in await nt.feed(http, dealer.headers("kim"))]
    assert theirs not in [item["id"] for item in await nt.feed(http, dealer.headers("sam"))]
    for headers, notification_id in (
        (dealer.headers("kim"), sams),
        (dealer.headers("sam"), theirs),
        (other_dealer.headers("alex"), sams),
        (dealer.headers("sam"), 9_000_000_000),
    ):
        response = await http.post(f"/api/v1/notifications/{notification_id}/read", headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "notification not found",
            "details": None,
        }
    # A user of another account with the same user id would still not see it (account scope).
    impostor = issue_token(dealer.settings, str(dealer.users["sam"]), other_dealer.account_id, "agent")
    assert sams not in [item["id"] for item in await nt.feed(http, {"authorization": f"Bearer {impostor}"})]
    everything = await http.post("/api/v1/notifications/read-all", headers=dealer.headers("kim"))
    assert everything.status_code == 200
    assert (await http.get("/api/v1/notifications", headers=dealer.headers("sam"))).json()["items"][0][
        "read_at"
    ] is None


async def test_only_staff_tokens_are_accepted(http, dealer):
    assert (await http.get("/api/v1/notifications")).status_code == 401
    service = issue_token(dealer.settings, "exporter", dealer.account_id, "service")
    response = await http.get("/api/v1/notifications", headers={"authorization": f"Bearer {service}"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    forged = await http.get("/api/v1/notifications", headers={"authorization": "Bearer not-a-jwt"})
    assert forged.status_code == 401
