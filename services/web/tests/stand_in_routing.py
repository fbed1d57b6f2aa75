"""What a stand-in routing answers in web's own tests (httpx's MockTransport): the ids and the
answers every Conversations page asks for, shared so that the tests agree on one person, one
colleague, one team and one row."""

from typing import Any

ME = "00000000-0000-4000-8000-000000000001"
SAM = "00000000-0000-4000-8000-000000000002"
TEAM = "00000000-0000-4000-8000-0000000000aa"
ROW = "00000000-0000-4000-8000-0000000000c1"


def directory(colleague_name: str) -> dict[str, Any]:
    """Routing's answers about who is signed in, the dealership and its staff."""
    return {
        "/api/v1/me": {
            "id": ME,
            "name": "Alex Admin",
            "email": "a@x.test",
            "role": "admin",
            "account_id": "acc",
        },
        "/api/v1/account/settings": {
            "name": "Demo",
            "time_zone": "America/Toronto",
            "unanswered_after_hours": 4,
        },
        "/api/v1/users": [
            {"id": ME, "name": "Alex Admin", "active": True},
            {"id": SAM, "name": colleague_name, "active": True},
        ],
        "/api/v1/teams": [{"id": TEAM, "name": "Service"}],
    }
