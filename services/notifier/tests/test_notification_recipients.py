"""An account's admins choose who hears about unassigned conversations (its admins until then)."""

from uuid import uuid4

from shared.contracts.topics import MESSAGE_RECEIVED
from shared.http.auth import issue_token

URL = "/api/v1/notification-settings/unassigned-recipients"


async def test_only_admins_choose_and_only_active_staff_of_their_account(http, dealer, other_dealer):
    assert (await http.get(URL, headers=dealer.headers("sam"))).status_code == 403
    refused = await http.put(
        URL, headers=dealer.headers("sam"), json={"user_ids": [str(dealer.users["sam"])]}
    )
    assert refused.status_code == 403
    assert (await http.get(URL, headers=dealer.headers("alex"))).json() == {"default": True, "user_ids": []}
    # An agent's token claiming "admin": routing says Sam is an agent.
    claims_admin = issue_token(dealer.settings, str(dealer.users["sam"]), dealer.account_id, "admin")
    assert (await http.get(URL, headers={"authorization": f"Bearer {claims_admin}"})).status_code == 403
    foreign = await http.put(
        URL, headers=dealer.headers("alex"), json={"user_ids": [str(other_dealer.users["lou"])]}
    )
    assert foreign.status_code == 422
    assert foreign.json()["error"]["details"] == {"user_ids": [str(other_dealer.users["lou"])]}
    nobody = await http.put(URL, headers=dealer.headers("alex"), json={"user_ids": [str(uuid4())]})
    assert nobody.status_code == 422
    empty = await http.put(URL, headers=dealer.headers("alex"), json={"user_ids": []})
    assert empty.status_code == 422
    assert (await http.get(URL, headers=dealer.headers("alex"))).json()["default"] is True
    assert (await http.get(URL, headers=other_dealer.headers("alex"))).json()["default"] is True


async def test_chosen_recipients_hear_about_unassigned_conversations_instead_of_admins(
    http, kafka, dealer, nt
):
    alex, sam, lou = (dealer.users[w] for w in ("alex", "sam", "lou"))
    chosen = await http.put(URL, headers=dealer.headers("alex"), json={"user_ids": [str(lou), str(lou)]})
    assert chosen.json() == {"default": False, "user_ids": [str(lou)]}

    unassigned = nt.message_event(dealer.account_id, [alex])  # routing's default list: the admins
    assigned = nt.message_event(dealer.account_id, [sam], assignee_user_id=sam)
    await kafka.publish(MESSAGE_RECEIVED, unassigned)
    await kafka.publish(MESSAGE_RECEIVED, assigned)

    async def arrived():
        lou_items = nt.of_event(
            await nt.feed(http, dealer.headers("lou")), "conversation_id", str(unassigned.conversation_id)
        )
        sam_items = nt.of_event(
            await nt.feed(http, dealer.headers("sam")), "conversation_id", str(assigned.conversation_id)
        )
        return lou_items and sam_items

    assert await nt.eventually(arrived)
    alex_items = await nt.feed(http, dealer.headers("alex"))
    assert nt.of_event(alex_items, "conversation_id", str(unassigned.conversation_id)) == []
    assert (
        nt.of_event(
            await nt.feed(http, dealer.headers("lou")), "conversation_id", str(assigned.conversation_id)
        )
        == []
    )

    reset = await http.delete(URL, headers=dealer.headers("alex"))
    assert reset.json() == {"default": True, "user_ids": []}
    again = nt.message_event(dealer.account_id, [alex])
    await kafka.publish(MESSAGE_RECEIVED, again)

    async def admin_told():
        return nt.of_event(
            await nt.feed(http, dealer.headers("alex")), "conversation_id", str(again.conversation_id)
        )

    assert await nt.eventually(admin_told)
    assert (
        nt.of_event(await nt.feed(http, dealer.headers("lou")), "conversation_id", str(again.conversation_id))
        == []
    )
