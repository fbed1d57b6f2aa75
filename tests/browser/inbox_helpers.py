"""Arranging conversations for the list, search, bell and keyboard tests through the system's
own doors (carrier simulator, routing's API); only "this text came in hours ago" has none, and
is written into the test database directly."""

import asyncio
import secrets
import time
from typing import Any
from uuid import UUID

import asyncpg

from devtools import demo
from tests.browser.conftest import System, in_thread, unique_number


def eventually(check, timeout: float = 15.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, "not seen in time"
            return found
        time.sleep(every)


def conversation_of(system: System, number: str) -> dict[str, Any]:
    """The conversation of the customer texting from `number`, once routing has it."""

    def look() -> dict | None:
        answer = system.api(
            "GET", "/api/v1/conversations", params={"view": "all", "status": "all", "limit": 200}
        )
        answer.raise_for_status()
        return next((c for c in answer.json()["items"] if c["customer_phone"] == number), None)

    return eventually(look)


def new_conversation(system: System, body: str = "Hello, is my car ready?") -> tuple[str, dict[str, Any]]:
    number = unique_number()
    system.text_in(number, body)
    return number, conversation_of(system, number)


def assign(system: System, conversation_ids: list[str], *, user_id=None, team_id=None, note=None) -> None:
    assignee = {"user_id": str(user_id)} if user_id else {"team_id": str(team_id)}
    body: dict[str, Any] = {"conversation_ids": conversation_ids, "assignee": assignee}
    if note:
        body["note"] = note
    answer = system.api("POST", "/api/v1/conversations/assign", json=body)
    assert answer.status_code == 200, answer.text


def name_customer(system: System, customer_id: str, first: str, last: str = "") -> None:
    answer = system.api(
        "PATCH", f"/api/v1/customers/{customer_id}", json={"first_name": first, "last_name": last or None}
    )
    assert answer.status_code == 200, answer.text


def new_team(system: System, members: list[str] | None = None) -> dict[str, Any]:
    answer = system.api(
        "POST",
        "/api/v1/teams",
        json={"name": f"Team {secrets.token_hex(3)}", "member_ids": members or [str(demo.ADMIN_ID)]},
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def text_arrived_hours_ago(system: System, conversation_id: str, hours: int) -> None:
    """The customer's last text as if it came `hours` ago (no API moves time)."""
    url = system.services["routing"].env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")

    async def backdate() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "UPDATE routing.conversations"
                " SET last_inbound_at = last_inbound_at - make_interval(hours => $2) WHERE id = $1",
                UUID(conversation_id),
                hours,
            )
        finally:
            await connection.close()

    in_thread(asyncio.run, backdate())


def routing_offers(system: System, method: str, path: str) -> bool:
    """Whether routing's API has this route yet (some are being added by other engineers)."""
    spec = system.api("GET", "/openapi.json")
    return spec.status_code == 200 and method.lower() in spec.json().get("paths", {}).get(path, {})


def many_conversations(system: System, how_many: int, body: str = "Is my car ready?") -> list[dict[str, Any]]:
    numbers = {unique_number() for _ in range(how_many)}
    for number in numbers:
        system.text_in(number, body)

    def all_there() -> list[dict] | None:
        answer = system.api(
            "GET", "/api/v1/conversations", params={"view": "all", "status": "all", "limit": 200}
        )
        found = [c for c in answer.json()["items"] if c["customer_phone"] in numbers]
        return found if len(found) == len(numbers) else None

    return eventually(all_there, timeout=60)


def timeline(system: System, conversation_id: str) -> list[dict[str, Any]]:
    answer = system.api("GET", f"/api/v1/conversations/{conversation_id}/timeline")
    answer.raise_for_status()
    return answer.json()["items"]
