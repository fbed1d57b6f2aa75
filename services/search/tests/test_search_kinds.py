"""Events published on the real Kafka reach the projection, and each kind of query finds the
customer: a name, a phone typed any way, an RO number, a payment amount, an appointment type and
words from messages (English and French)."""

from uuid import uuid4

import pytest

from search import queries
from shared.contracts.topics import CUSTOMER_CHANGED, DMS_EVENTS, MESSAGE_RECEIVED


@pytest.fixture
async def tremblay(st, kafka, http, account):
    """Marie Trémblay: a profile from routing, a French text, and DMS records."""
    customer, conversation = uuid4(), uuid4()
    dms_id = f"DMS-{uuid4().hex[:8]}"
    await kafka.publish(
        CUSTOMER_CHANGED,
        st.events.customer(
            account,
            customer,
            "Marie",
            "Trémblay",
            ["+15145550100"],
            dms_customer_id=dms_id,
            email="Marie.Tremblay@Example.com",
        ),
    )
    await kafka.publish(
        MESSAGE_RECEIVED,
        st.events.received(
            account, customer, conversation, "Bonjour, mes freins font un bruit étrange", "+15145550100"
        ),
    )
    ro = f"RO-{uuid4().int % 10**6:06d}"
    for kind, record_id, payload in (
        (
            "appointment.booked",
            "APT-1",
            {
                "appointment_id": "APT-1",
                "dms_customer_id": dms_id,
                "starts_at": "2026-11-26T09:30:00-05:00",
                "appointment_type": "Oil change",
            },
        ),
        (
            "repair_order.opened",
            ro,
            {"ro_number": ro, "dms_customer_id": dms_id, "vehicle": {"vin": "1HGCM82633A004352"}},
        ),
        (
            "payment.recorded",
            "PAY-1",
            {
                "payment_id": "PAY-1",
                "dms_customer_id": dms_id,
                "amount": "412.50",
                "currency": "CAD",
                "ro_number": ro,
            },
        ),
    ):
        await kafka.publish(DMS_EVENTS, st.events.dms(account, kind, record_id, 1, payload), key=dms_id)

    async def all_in():
        page = await st.search(http, account, "412.50")
        return (
            page["results"]
            and (await st.search(http, account, ro))["results"]
            and (await st.search(http, account, "oil change"))["results"]
            and (await st.search(http, account, "freins"))["results"]
        )

    assert await st.eventually(all_in)
    return {"customer": str(customer), "conversation": str(conversation), "ro": ro}


@pytest.mark.parametrize(
    ("q", "kind"),
    [
        ("tremb", "name"),
        ("TREMBLAY marie", "name"),
        ("trémblay", "name"),
        ("514 555", "phone"),
        ("(514) 555-0100", "phone"),
        ("+15145550100", "phone"),
        ("5550100", "phone"),
        ("412.50", "payment"),
        ("412.5", "payment"),
        ("$412.50", "payment"),
        ("oil change", "appointment"),
        ("Oil", "appointment"),
        ("marie.tremblay@", "email"),
        ("Marie.Tremblay@example.com", "email"),
        ("1HGCM82633A004352", "vin"),
        ("3a004352", "vin"),
        ("004352", "vin"),
        ("frein", "message"),
        ("etrange", "message"),
        ("bruit", "message"),
    ],
)
@pytest.mark.parametrize("plan", ["collect", "walk", "mixed"])
async def test_each_kind_of_query_finds_the_customer(st, http, account, tremblay, q, kind, plan, monkeypatch):
    if plan != "collect":  # as if every reading were common: customers are walked in order and tested
        monkeypatch.setattr(
            queries, "_estimated_rows", st.as_if_common("message" if plan == "mixed" else None)
        )
    page = await st.search(http, account, q)
    assert st.customer_ids(page) == [tremblay["customer"]]
    result = page["results"][0]
    assert result["name"] == "Marie Trémblay"
    assert result["phones"] == [{"e164": "+15145550100", "kind": "mobile"}]
    (match,) = [m for m in result["matches"] if m["kind"] == kind]
    assert "<mark>" in match["text"]
    assert match["conversation_id"] == tremblay["conversation"]
    assert match["link"] == f"/conversations/{tremblay['conversation']}"


async def test_ro_number_typed_without_its_dash_or_in_lower_case(st, http, account, tremblay):
    ro = tremblay["ro"]
    for q in (ro.lower(), ro.replace("-", ""), ro.replace("-", " ")):
        page = await st.search(http, account, q)
        assert st.customer_ids(page) == [tremblay["customer"]], q
        assert [m["plain"] for m in page["results"][0]["matches"] if m["kind"] == "ro"] == [ro]


async def test_highlight_marks_the_matched_part_of_the_original_text(st, http, account, tremblay):
    (name,) = [
        m for m in (await st.search(http, account, "tremb"))["results"][0]["matches"] if m["kind"] == "name"
    ]
    assert name["text"] == "Marie <mark>Trémb</mark>lay"
    assert name["highlights"] == [[6, 11]]
    (phone,) = [m for m in (await st.search(http, account, "555-0100"))["results"][0]["matches"]]
    assert phone["text"] == "+1514<mark>5550100</mark>"
    (message,) = [m for m in (await st.search(http, account, "freins"))["results"][0]["matches"]]
    assert message["text"] == "Bonjour, mes <mark>freins</mark> font un bruit étrange"


async def test_another_amount_or_name_finds_nothing(st, http, account, tremblay):
    for q in ("412.51", "41", "gagnon", "RO-999999999"):
        assert (await st.search(http, account, q))["results"] == [], q


async def test_another_account_never_sees_the_customer(st, http, account, other_account, tremblay):
    for q in ("tremb", "514 555", "412.50", "oil change", "freins", tremblay["ro"]):
        assert (await st.search(http, other_account, q))["results"] == [], q


async def test_without_a_token_the_search_is_refused(http):
    response = await http.get("/api/v1/search", params={"q": "tremb"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_bad_cursor_and_empty_query_are_clear_422s(st, http, account):
    bad = await http.get("/api/v1/search", params={"q": "tremb", "cursor": "nope"}, headers=account.headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"
    empty = await http.get("/api/v1/search", params={"q": "  -- "}, headers=account.headers)
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_query"
