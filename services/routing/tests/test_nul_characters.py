"""PostgreSQL cannot store U+0000 in text: a request body carrying one in any text is refused
with 422 by the request models (routing/requests.py), never a 500 from the database."""

import pytest

from routing.requests import RequestModel

NUL = "a\u0000b"


async def test_a_nul_in_a_team_name_a_saved_reply_or_a_note_is_refused_with_422(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    requests = [
        ("/api/v1/teams", dealer.admin, {"name": NUL}),
        ("/api/v1/saved-replies", dealer.admin, {"name": "Ready", "body": NUL}),
        ("/api/v1/saved-replies", dealer.admin, {"name": NUL, "body": "Your car is ready"}),
        (f"/api/v1/conversations/{conversation}/notes", dealer.sam, {"body": NUL}),
        (f"/api/v1/conversations/{conversation}/messages", dealer.sam, {"body": NUL}),
        (
            "/api/v1/conversations/assign",
            dealer.admin,
            {
                "conversation_ids": [str(conversation)],
                "assignee": {"user_id": str(dealer.sam_id)},
                "note": NUL,
            },
        ),
    ]
    for path, headers, body in requests:
        response = await client.post(path, headers=headers, json=body)
        assert response.status_code == 422, (path, response.status_code, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert "NUL" in json_text(error["details"]), error
    team = await client.post("/api/v1/teams", headers=dealer.admin, json={"name": "Parts"})
    assert team.status_code == 201, team.text
    rename = await client.patch(
        f"/api/v1/teams/{team.json()['id']}", headers=dealer.admin, json={"name": NUL}
    )
    assert rename.status_code == 422


def json_text(value) -> str:
    return str(value)


@pytest.mark.parametrize("value", [NUL, [NUL], {"k": NUL}, {NUL: "v"}])
def test_every_text_field_of_a_request_model_is_checked(value):
    class Body(RequestModel):
        field: str | list[str] | dict[str, str]

    with pytest.raises(ValueError, match="NUL"):
        Body(field=value)
    assert Body(field="fine").field == "fine"
