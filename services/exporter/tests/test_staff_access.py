"""Export requests and job status are for staff who are staff *now*: routing (its stand-in here,
over HTTP) is asked whether the user is still active and what their role is, every few seconds,
not only what the 12-hour token said at login."""

from uuid import uuid4

import httpx
import pytest

from shared.http.auth import issue_token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(make_exports_app, directory, clock):
    app = make_exports_app(directory, cache_seconds=5, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as http:
        yield http


async def test_a_deactivated_user_is_refused_within_seconds(api, dealer, clock):
    created = await api.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    assert created.status_code == 202, created.text
    url = f"/api/v1/exports/{created.json()['job_id']}"
    dealer.set_user(dealer.sam_id, "agent", active=False)
    # The answer is cached a few seconds, then routing's says no.
    assert (await api.get(url, headers=dealer.sam)).status_code == 200
    clock.now += 6
    refused = await api.get(url, headers=dealer.sam)
    asked = await api.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    assert refused.status_code == asked.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


async def test_a_demoted_admin_is_an_agent_whatever_the_token_says(api, dealer, clock):
    created = await api.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    url = f"/api/v1/exports/{created.json()['job_id']}"
    assert (await api.get(url, headers=dealer.admin)).status_code == 200
    dealer.set_user(dealer.admin_id, "agent")
    clock.now += 6
    # Only the requester and admins see a job: the token still says admin.
    assert (await api.get(url, headers=dealer.admin)).status_code == 404


async def test_an_agent_promoted_to_admin_sees_the_account_jobs(api, dealer, clock):
    created = await api.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    url = f"/api/v1/exports/{created.json()['job_id']}"
    assert (await api.get(url, headers=dealer.kim)).status_code == 404
    dealer.set_user(dealer.kim_id, "admin")
    clock.now += 6
    assert (await api.get(url, headers=dealer.kim)).status_code == 200


async def test_a_user_routing_does_not_know_in_the_account_is_refused(api, dealer, other_dealer, settings):
    stranger = issue_token(settings, str(uuid4()), dealer.account_id, "admin")
    # A real user of another account, with a token naming this account.
    crossed = issue_token(settings, str(other_dealer.admin_id), dealer.account_id, "admin")
    for token in (stranger, crossed):
        answer = await api.post(
            "/api/v1/exports",
            json={"conversation_id": str(uuid4())},
            headers={"authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 401, answer.text


async def test_service_tokens_are_refused(api, dealer, settings):
    token = issue_token(settings, "notifier", dealer.account_id, "service")
    answer = await api.get(f"/api/v1/exports/{uuid4()}", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


async def test_routing_unable_to_answer_is_a_clear_503_not_a_pass(api, dealer, directory, clock):
    directory.users_down = True
    try:
        answer = await api.post("/api/v1/exports", json={"conversation_id": str(uuid4())}, headers=dealer.sam)
    finally:
        directory.users_down = False
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "auth_unavailable"
