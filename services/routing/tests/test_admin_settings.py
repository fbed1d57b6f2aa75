"""The dealership's settings: every staff member reads them, admins change them, each value
checked (time zone, overdue threshold, auto-close off or 1 to 15 days)."""

import pytest
from sqlalchemy import select

from routing.tables import accounts

SETTINGS = "/api/v1/account/settings"


async def test_any_staff_member_reads_the_settings(client, dealer):
    response = await client.get(SETTINGS, headers=dealer.sam)
    assert response.status_code == 200
    assert response.json() == {
        "name": response.json()["name"],
        "time_zone": "America/Toronto",
        "unanswered_after_hours": 4,
        "auto_close_after_days": None,
        "help_text": None,
    }
    assert response.json()["name"].startswith("Dealer ")


async def test_an_admin_changes_only_the_settings_given(client, dealer, other_dealer):
    before_theirs = (await client.get(SETTINGS, headers=other_dealer.admin)).json()
    change = {
        "name": "Dealer Renamed",
        "time_zone": "America/Vancouver",
        "unanswered_after_hours": 24,
        "auto_close_after_days": 7,
        "help_text": "Ask Alex",
    }
    response = await client.patch(SETTINGS, headers=dealer.admin, json=change)
    assert response.status_code == 200, response.text
    assert response.json() == change

    response = await client.patch(SETTINGS, headers=dealer.admin, json={"auto_close_after_days": None})
    assert response.json() == change | {"auto_close_after_days": None}
    response = await client.patch(
        SETTINGS, headers=dealer.admin, json={"help_text": None, "time_zone": "UTC"}
    )
    assert response.json() == change | {"auto_close_after_days": None, "help_text": None, "time_zone": "UTC"}

    assert (await client.get(SETTINGS, headers=other_dealer.admin)).json() == before_theirs
    async with dealer.sessions() as session:
        row = (await session.execute(select(accounts).where(accounts.c.id == dealer.account_id))).one()
    assert (row.unanswered_after_hours, row.auto_close_after_days) == (24, None)


@pytest.mark.parametrize(
    "change",
    [
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": "../../etc/passwd"},
        {"time_zone": None},
        {"unanswered_after_hours": 0},
        {"unanswered_after_hours": 169},
        {"auto_close_after_days": 0},
        {"auto_close_after_days": 16},
        {"name": ""},
        {"name": None},
        {"help_text": "x" * 5001},
        {"owner": "me"},
    ],
)
async def test_invalid_settings_are_refused_and_nothing_changes(client, dealer, change):
    before = (await client.get(SETTINGS, headers=dealer.admin)).json()
    response = await client.patch(SETTINGS, headers=dealer.admin, json={"auto_close_after_days": 3, **change})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert (await client.get(SETTINGS, headers=dealer.admin)).json() == before


async def test_agents_cannot_change_the_settings(client, dealer):
    response = await client.patch(SETTINGS, headers=dealer.sam, json={"auto_close_after_days": 1})
    assert response.status_code == 403
    assert (await client.get(SETTINGS, headers=dealer.sam)).json()["auto_close_after_days"] is None
