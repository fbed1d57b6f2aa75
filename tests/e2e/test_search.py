"""Search across real processes: a text through ingest and routing is found by the customer's
number typed several ways and by a word of it (French stem), and closing the conversation through
routing's API moves it from the open filter to the closed one."""

import uuid

import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from shared.testing.waiting import eventually
from tests.e2e.clients import login

pytestmark = pytest.mark.e2e


async def test_a_text_is_found_by_number_and_words_and_follows_the_status_filter(services):
    ingest, routing, search = (services[n].url for n in ("ingest", "routing", "search"))
    number = f"+1514555{uuid.uuid4().int % 10_000:04d}"
    word = f"courroies{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=15) as client:
        token = await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)
        headers = {"authorization": f"Bearer {token}"}
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID, number, demo.DEALERSHIP_NUMBER, f"Mes {word} grincent"
        )
        response = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
        assert response.status_code == 200, response.text

        async def find(q: str, status: str = "all"):
            result = await client.get(
                f"{search}/api/v1/search", params={"q": q, "status": status}, headers=headers
            )
            assert result.status_code == 200, result.text
            return result.json()["results"]

        (found,) = await eventually(lambda: find(word))
        (match,) = found["matches"]
        assert match["kind"] == "message" and f"<mark>{word}</mark>" in match["text"]
        conversation_id = match["conversation_id"]
        assert match["link"] == f"/conversations/{conversation_id}"
        pretty = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
        for typed in (number, pretty, number[5:]):
            results = await find(typed)
            assert [r["customer_id"] for r in results] == [found["customer_id"]], typed
            assert [m["kind"] for m in results[0]["matches"]] == ["phone"]

        assert await find(word, "open")
        closed = await client.post(f"{routing}/api/v1/conversations/{conversation_id}/close", headers=headers)
        assert closed.status_code == 200, closed.text

        async def moved_to_closed():
            return not await find(word, "open") and await find(word, "closed")

        assert await eventually(moved_to_closed)
