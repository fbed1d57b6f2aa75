from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.carrier_simulator.twilio import inbound_sms_form, sign
from ingest.domain.twilio import UnusableWebhook, inbound_message, signature_is_valid

URL = "https://sms.example.test/webhooks/twilio/sms"
TOKEN = "secret-token"


def test_signature_made_by_twilio_code_is_accepted_and_any_change_refused():
    form = inbound_sms_form("AC1", "+15145551234", "+15145550100", "Hello")
    signature = sign(TOKEN, URL, form)
    assert signature_is_valid(TOKEN, URL, form, signature)
    assert not signature_is_valid("other-token", URL, form, signature)
    assert not signature_is_valid(TOKEN, URL, {**form, "Body": "Hellp"}, signature)
    assert not signature_is_valid(TOKEN, URL + "?x=1", form, signature)
    assert not signature_is_valid(TOKEN, URL, form, "")


def test_signature_over_url_with_default_port_matches_url_without_it():
    form = inbound_sms_form("AC1", "+15145551234", "+15145550100", "Hello")
    signed_without_port = sign(TOKEN, URL, form)
    assert signature_is_valid(
        TOKEN, "https://sms.example.test:443/webhooks/twilio/sms", form, signed_without_port
    )


def test_inbound_message_keeps_media_as_attachments_with_file_names():
    form = inbound_sms_form(
        "AC1",
        "+15145551234",
        "+15145550100",
        "",
        media=[
            ("https://api.twilio.com/Media/ME1/photo.jpg", "image/jpeg"),
            ("https://api.twilio.com/Media/ME2", "video/mp4"),
        ],
    )
    event = inbound_message(form, uuid4(), datetime.now(UTC))
    assert [(a.file_name, a.content_type) for a in event.attachments] == [
        ("photo.jpg", "image/jpeg"),
        ("ME2", "video/mp4"),
    ]
    assert event.raw["MessageSid"] == event.carrier_message_id
    assert event.partition_key == "+15145550100:+15145551234"


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_missing_required_field_is_unusable(missing):
    form = inbound_sms_form("AC1", "+15145551234", "+15145550100", "Hi")
    del form[missing]
    with pytest.raises(UnusableWebhook, match=missing):
        inbound_message(form, uuid4(), datetime.now(UTC))


def test_media_count_without_urls_is_unusable():
    form = {**inbound_sms_form("AC1", "+15145551234", "+15145550100", "Hi"), "NumMedia": "2"}
    with pytest.raises(UnusableWebhook, match="MediaUrl0"):
        inbound_message(form, uuid4(), datetime.now(UTC))


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=12))
def test_any_form_either_parses_or_is_unusable(form):
    try:
        event = inbound_message(form, uuid4(), datetime.now(UTC))
    except UnusableWebhook:
        return
    assert event.carrier_message_id.strip()


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_urls = st.builds(
    "{}://{}{}/webhooks/twilio/sms{}".format,
    st.sampled_from(["http", "https"]),
    st.sampled_from(["sms.example.test", "127.0.0.1", "Sms.Example.Test"]),
    st.sampled_from(["", ":443", ":80", ":8081", ":0", ":x1"]),
    st.sampled_from(["", "?a=1", "?b=%20&a=2"]),
)


@given(
    form=st.dictionaries(_texts, _texts, max_size=8),
    url=_urls,
    signed_url=st.one_of(st.none(), _urls),  # None: the very URL checked
    token=st.sampled_from([TOKEN, "other", "é-token"]),
    tampered=st.booleans(),
)
def test_signature_check_agrees_with_twilios_validator(form, url, signed_url, token, tampered):
    # The fast check (ingest.domain.twilio) against Twilio's own validator as the oracle:
    # whatever the URL forms (ports, none, bad ones), the parameters and the signer's URL.
    from twilio.request_validator import RequestValidator

    try:
        signature = RequestValidator(TOKEN).compute_signature(signed_url or url, form)
    except ValueError:
        signature = "x"
    if tampered:
        signature = signature[:-2] + "A="
    try:
        expected = RequestValidator(token).validate(url, dict(form), signature)
    except ValueError:
        expected = False
    assert signature_is_valid(token, url, form, signature) is expected


def test_signature_check_refuses_what_is_not_a_signature():
    form = inbound_sms_form("AC1", "+15145551234", "+15145550100", "Hello")
    for given_signature in ("", " ", "é" * 28, sign(TOKEN, URL, form) + " "):
        assert not signature_is_valid(TOKEN, URL, form, given_signature)
    assert not signature_is_valid(TOKEN, "https://[broken/webhooks", form, sign(TOKEN, URL, form))


@pytest.mark.parametrize("field", ["Body", "From", "MessageSid", "MediaUrl0", "Extra\x00Name"])
def test_a_nul_anywhere_in_the_form_is_unusable_and_named(field):
    form = inbound_sms_form(
        "AC1", "+15145551234", "+15145550100", "Hi", media=[("https://x.test/m/1.jpg", "image/jpeg")]
    )
    if field.startswith("Extra"):
        form[field] = "value"
    else:
        form[field] = form[field] + "\x00"
    with pytest.raises(ValueError, match="contains the NUL character"):
        inbound_message(form, uuid4(), datetime.now(UTC))
