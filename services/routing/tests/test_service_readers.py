"""Other services (exporter) read transcripts with a service token: only the read routes, only
their account."""

from shared.http.auth import issue_token


def _service(dealer) -> dict[str, str]:
    token = issue_token(dealer.settings, "exporter", dealer.account_id, "service")
    return {"authorization": f"Bearer {token}"}


async def test_a_service_token_reads_a_conversation_and_its_timeline(client, dealer, ago):
    conversation = await dealer.receive(ago(1), body="Is the car ready?")
    headers = _service(dealer)

    detail = await client.get(f"/api/v1/conversations/{conversation}", headers=headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["id"] == str(conversation)
    timeline = await client.get(f"/api/v1/conversations/{conversation}/timeline", headers=headers)
    assert timeline.status_code == 200
    assert [item["message"]["body"] for item in timeline.json()["items"]] == ["Is the car ready?"]


async def test_a_service_token_cannot_list_or_change_the_inbox(client, dealer, ago):
    conversation = await dealer.receive(ago(1))
    headers = _service(dealer)

    assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 403
    closed = await client.post(f"/api/v1/conversations/{conversation}/close", headers=headers)
    assert closed.status_code == 403


async def test_a_service_token_of_another_account_sees_nothing(client, dealer, other_dealer, ago):
    conversation = await dealer.receive(ago(1))
    headers = _service(other_dealer)

    for path in ("", "/timeline", "/messages"):
        response = await client.get(f"/api/v1/conversations/{conversation}{path}", headers=headers)
        assert response.status_code == 404, path
