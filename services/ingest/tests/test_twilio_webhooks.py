"""Twilio's real form posts, signed by the twilio package's own code, through the real app into
real Kafka and Postgres: what reaches the topics, and what is refused."""

import secrets

import httpx
import pytest
from twilio.request_validator import RequestValidator

from devtools.carrier_simulator.twilio import inbound_sms_form, twilio_status_form
from ingest.app import create_app

BASE_URL = "https://ingest.example.test"
SMS_URL = f"{BASE_URL}/webhooks/twilio/sms"
STATUS_URL = f"{BASE_URL}/webhooks/twilio/status"
CUSTOMER = "+14385550123"


def signed(token: str, url: str, form: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


def with_sid(message_sid: str):
    return lambda record: record.get("carrier_message_id") == message_sid


async def test_inbound_mms_reaches_kafka_with_every_field_and_its_media(client, kafka, twilio_account):
    form = inbound_sms_form(
        twilio_account.account_sid,
        CUSTOMER,
        twilio_account.number,
        "Voici la photo 🚗",
        media=[
            ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
            ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "application/pdf"),
        ],
    )
    response = await client.post(SMS_URL, data=form, headers=signed(twilio_account.auth_token, SMS_URL, form))
    assert response.status_code == 200, response.text
    assert response.headers["x-switchboard-outcome"] == "accepted"
    assert "<Response>" in response.text

    event = await kafka.wait_for("carrier.inbound.v1", with_sid(form["MessageSid"]))
    assert event["account_id"] == str(twilio_account.account_id)
    assert (event["carrier"], event["from_number"], event["to_number"]) == (
        "twilio",
        CUSTOMER,
        twilio_account.number,
    )
    assert event["body"] == "Voici la photo 🚗"
    assert [(a["file_name"], a["content_type"]) for a in event["attachments"]] == [
        ("ME1", "image/jpeg"),
        ("ME2", "application/pdf"),
    ]
    assert event["raw"] == form  # every field Twilio posted, including the ones we do not model


async def test_signature_over_the_url_with_its_default_port_is_accepted(client, kafka, twilio_account):
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "port")
    signed_with_port = signed(
        twilio_account.auth_token, "https://ingest.example.test:443/webhooks/twilio/sms", form
    )
    response = await client.post(SMS_URL, data=form, headers=signed_with_port)
    assert response.status_code == 200, response.text
    await kafka.wait_for("carrier.inbound.v1", with_sid(form["MessageSid"]))


async def test_the_same_message_sid_twice_is_one_event(client, kafka, twilio_account):
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "twice")
    headers = signed(twilio_account.auth_token, SMS_URL, form)
    first = await client.post(SMS_URL, data=form, headers=headers)
    again = await client.post(SMS_URL, data=form, headers=headers)
    assert [first.status_code, again.status_code] == [200, 200]
    assert [first.headers["x-switchboard-outcome"], again.headers["x-switchboard-outcome"]] == [
        "accepted",
        "duplicate",
    ]
    assert len(await kafka.all("carrier.inbound.v1", with_sid(form["MessageSid"]))) == 1


@pytest.mark.parametrize(
    "change",
    ["wrong_token", "tampered_body", "other_url", "no_signature", "unknown_account_sid"],
)
async def test_forged_posts_are_refused_and_publish_nothing(client, kafka, twilio_account, change):
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "forged?")
    token, url, headers = twilio_account.auth_token, SMS_URL, None
    if change == "wrong_token":
        token = "not-the-token"
    elif change == "other_url":
        url = "https://attacker.example/webhooks/twilio/sms"
    headers = signed(token, url, form)
    if change == "tampered_body":
        form = {**form, "Body": "forged!"}
    elif change == "no_signature":
        headers = {}
    elif change == "unknown_account_sid":
        form = {**form, "AccountSid": f"AC{secrets.token_hex(16)}"}
        headers = signed(token, url, form)
    response = await client.post(SMS_URL, data=form, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert twilio_account.auth_token not in response.text
    assert await kafka.all("carrier.inbound.v1", with_sid(form["MessageSid"])) == []
    assert (
        await kafka.all("carrier.rejected.v1", lambda r: form["MessageSid"] in r["payload"], settle=0) == []
    )


CATEGORIES = [
    ("undelivered", "30003", "Unreachable destination handset", "unreachable"),
    ("undelivered", "30005", "Unknown destination handset", "wrong_number"),
    ("undelivered", "30006", "Landline or unreachable carrier", "landline"),
    ("undelivered", "30004", "Message blocked", "carrier_filtered"),
    ("undelivered", "30007", "Message filtered", "carrier_filtered"),
    ("failed", "21610", "Attempt to send to unsubscribed recipient", "opted_out"),
    ("failed", "21211", "Invalid 'To' Phone Number", "wrong_number"),
    ("failed", "21614", "'To' number is not a valid mobile number", "landline"),
    ("undelivered", "30008", "Unknown error", "unknown"),
    ("failed", "20429", "Too Many Requests", "rate_limited"),
    ("failed", "429", "Too Many Requests", "rate_limited"),
    ("undelivered", "39999", "A code nobody mapped yet", "unknown"),
]


@pytest.mark.parametrize(("status", "code", "message", "category"), CATEGORIES)
async def test_status_callback_maps_twilio_codes_to_categories(
    client, kafka, twilio_account, status, code, message, category
):
    message_sid = f"SM{secrets.token_hex(16)}"
    form = twilio_status_form(
        twilio_account.account_sid, message_sid, twilio_account.number, CUSTOMER, status, code, message
    )
    response = await client.post(
        STATUS_URL, data=form, headers=signed(twilio_account.auth_token, STATUS_URL, form)
    )
    assert response.status_code == 200, response.text
    event = await kafka.wait_for("carrier.status.v1", with_sid(message_sid))
    assert (event["status"], event["error_code"], event["error_message"], event["error_category"]) == (
        status,
        code,
        message,
        category,
    )
    assert event["account_id"] == str(twilio_account.account_id)
    assert event["raw"] == form


async def test_delivered_status_has_no_error(client, kafka, twilio_account):
    message_sid = f"SM{secrets.token_hex(16)}"
    form = twilio_status_form(
        twilio_account.account_sid, message_sid, twilio_account.number, CUSTOMER, "delivered"
    )
    response = await client.post(
        STATUS_URL, data=form, headers=signed(twilio_account.auth_token, STATUS_URL, form)
    )
    assert response.status_code == 200
    event = await kafka.wait_for("carrier.status.v1", with_sid(message_sid))
    assert (event["status"], event["error_code"], event["error_category"]) == ("delivered", None, None)


async def test_the_same_sid_and_status_is_one_event_but_a_new_status_is_another(
    client, kafka, twilio_account
):
    message_sid = f"SM{secrets.token_hex(16)}"

    async def post(status: str) -> str:
        form = twilio_status_form(
            twilio_account.account_sid, message_sid, twilio_account.number, CUSTOMER, status
        )
        response = await client.post(
            STATUS_URL, data=form, headers=signed(twilio_account.auth_token, STATUS_URL, form)
        )
        assert response.status_code == 200
        return response.headers["x-switchboard-outcome"]

    assert [await post("sent"), await post("sent"), await post("delivered"), await post("delivered")] == [
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
    ]
    events = await kafka.all("carrier.status.v1", with_sid(message_sid))
    assert sorted(e["status"] for e in events) == ["delivered", "sent"]


async def test_authentic_but_unusable_posts_are_400_and_recorded_as_rejected(client, kafka, twilio_account):
    message_sid = f"SM{secrets.token_hex(16)}"
    status_form = twilio_status_form(
        twilio_account.account_sid, message_sid, twilio_account.number, CUSTOMER, "sent"
    )
    del status_form["MessageStatus"], status_form["SmsStatus"]
    response = await client.post(
        STATUS_URL, data=status_form, headers=signed(twilio_account.auth_token, STATUS_URL, status_form)
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "unusable_webhook",
        "message": "missing field MessageStatus",
        "details": None,
    }
    rejected = await kafka.wait_for("carrier.rejected.v1", lambda r: message_sid in r["payload"])
    assert (rejected["source"], rejected["reason"], rejected["account_id"]) == (
        "twilio.status",
        "missing field MessageStatus",
        str(twilio_account.account_id),
    )
    assert await kafka.all("carrier.status.v1", with_sid(message_sid), settle=0) == []

    sms = {
        **inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "pics"),
        "NumMedia": "2",
    }
    response = await client.post(SMS_URL, data=sms, headers=signed(twilio_account.auth_token, SMS_URL, sms))
    assert response.status_code == 400
    rejected = await kafka.wait_for("carrier.rejected.v1", lambda r: sms["MessageSid"] in r["payload"])
    assert rejected["reason"] == "NumMedia is 2 but MediaUrl0 is missing"


async def test_bad_requests_get_a_clear_4xx(client, twilio_account):
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "hi")
    headers = signed(twilio_account.auth_token, SMS_URL, form)
    as_json = await client.post(SMS_URL, json=form, headers=headers)
    assert (as_json.status_code, as_json.json()["error"]["code"]) == (415, "unsupported_media_type")
    huge = {**form, "Body": "x" * 70_000}
    too_big = await client.post(SMS_URL, data=huge, headers=signed(twilio_account.auth_token, SMS_URL, huge))
    assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "payload_too_large")
    not_utf8 = await client.post(
        STATUS_URL,
        content=b"MessageSid=\xff\xfe",
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert (not_utf8.status_code, not_utf8.json()["error"]["code"]) == (400, "invalid_body")


async def test_no_credential_ever_reaches_the_logs(client, kafka, twilio_account, capfd):
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "log me")
    await client.post(SMS_URL, data=form, headers=signed(twilio_account.auth_token, SMS_URL, form))
    await client.post(SMS_URL, data=form, headers=signed("wrong", SMS_URL, form))
    unusable = {**form, "MessageSid": ""}
    await client.post(SMS_URL, data=unusable, headers=signed(twilio_account.auth_token, SMS_URL, unusable))
    await kafka.wait_for("carrier.inbound.v1", with_sid(form["MessageSid"]))
    out, err = capfd.readouterr()
    assert twilio_account.auth_token not in out + err


async def test_behind_a_proxy_the_public_base_url_is_the_signed_one(ingest_settings, kafka, twilio_account):
    settings = ingest_settings.model_copy(update={"public_base_url": "https://sms.dealer.example/"})
    app = create_app(settings)
    form = inbound_sms_form(twilio_account.account_sid, CUSTOMER, twilio_account.number, "via proxy")
    public = "https://sms.dealer.example/webhooks/twilio/sms"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.7:8081") as client,
    ):
        response = await client.post(
            "/webhooks/twilio/sms", data=form, headers=signed(twilio_account.auth_token, public, form)
        )
        assert response.status_code == 200, response.text
        forged = {**form, "MessageSid": f"SM{secrets.token_hex(16)}"}
        response = await client.post(
            "/webhooks/twilio/sms",
            data=forged,
            headers=signed(
                twilio_account.auth_token, "https://elsewhere.example/webhooks/twilio/sms", forged
            ),
        )
        assert response.status_code == 403
    await kafka.wait_for("carrier.inbound.v1", with_sid(form["MessageSid"]))
