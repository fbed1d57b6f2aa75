"""The search box is for staff who are staff *now*: routing (a stand-in over HTTP here) is asked
whether the token's user is still active; service tokens have no search of their own."""

import asyncio
from uuid import uuid4

from shared.http.auth import issue_token


def _headers(settings, account_id, user_id, role="agent") -> dict[str, str]:
    return {"authorization": f"Bearer {issue_token(settings, str(user_id), account_id, role)}"}


async def test_a_deactivated_user_is_refused_within_seconds(http, settings, staff_directory):
    user = uuid4()
    headers = _headers(settings, uuid4(), user)
    assert (await http.get("/api/v1/search", params={"q": "tremblay"}, headers=headers)).status_code == 200
    staff_directory.users[user] = {"role": "agent", "active": False}
    await asyncio.sleep(settings.auth_cache_seconds + 0.2)
    refused = await http.get("/api/v1/search", params={"q": "tremblay"}, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


async def test_service_tokens_are_refused(http, settings):
    token = issue_token(settings, "exporter", uuid4(), "service")
    answer = await http.get(
        "/api/v1/search", params={"q": "tremblay"}, headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


async def test_routing_unable_to_confirm_the_user_is_a_503(http, settings, staff_directory):
    staff_directory.down = True
    try:
        answer = await http.get(
            "/api/v1/search", params={"q": "tremblay"}, headers=_headers(settings, uuid4(), uuid4())
        )
    finally:
        staff_directory.down = False
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "auth_unavailable"
