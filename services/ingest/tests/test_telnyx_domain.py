from datetime import UTC, datetime

import pytest

from devtools.carrier_simulator.telnyx import new_key_pair, public_key_of, sign_telnyx
from ingest.domain.telnyx import MalformedWebhook, parse_envelope, signature_is_valid, timestamp_is_fresh
from shared.carriers import error_codes

BODY = b'{"data":{"event_type":"message.received"}}'


def test_signature_by_the_private_key_verifies_with_its_public_key_only():
    private, public = new_key_pair()
    assert public_key_of(private) == public
    signature = sign_telnyx(private, "1700000000", BODY)
    assert signature_is_valid(public, "1700000000", BODY, signature)
    assert not signature_is_valid(public, "1700000001", BODY, signature)
    assert not signature_is_valid(public, "1700000000", BODY + b" ", signature)
    assert not signature_is_valid(new_key_pair()[1], "1700000000", BODY, signature)
    assert not signature_is_valid(public, "1700000000", BODY, "")
    assert not signature_is_valid("not a key", "1700000000", BODY, signature)


@pytest.mark.parametrize(
    ("stamp", "fresh"),
    [
        ("1700000000", True),
        ("1699999700", True),
        ("1699999699", False),
        ("1700000301", False),
        ("", False),
        ("-5", False),
        ("1e9", False),
        ("\u0661\u0667" + "\u0660" * 8, False),  # Arabic-Indic digits: isdigit() but not ASCII
        ("9" * 40, False),
    ],
)
def test_timestamp_window(stamp, fresh):
    now = datetime.fromtimestamp(1_700_000_000, UTC)
    assert timestamp_is_fresh(stamp, now, 300) is fresh


def test_envelope_names_the_dealership_number_for_each_event_type():
    received = (
        b'{"data":{"event_type":"message.received","payload":{"to":[{"phone_number":"+15145550101"}]}}}'
    )
    sent = b'{"data":{"event_type":"message.finalized","payload":{"from":{"phone_number":"+15145550102"}}}}'
    assert parse_envelope(received).number == "+15145550101"
    assert parse_envelope(sent).number == "+15145550102"
    assert parse_envelope(b'{"data":{"event_type":"fax.received","payload":{}}}').kind == "other"
    with pytest.raises(MalformedWebhook):
        parse_envelope(b'{"data":{"event_type":"message.sent","payload":{"from":"+1"}}}')


def test_every_mapped_code_is_a_known_category_and_unmapped_codes_are_unknown():
    for table in (error_codes.TWILIO, error_codes.TELNYX):
        assert {info.category for info in table.values()} <= error_codes.CATEGORIES
    assert error_codes.category_for("twilio", "12345") == "unknown"
    assert error_codes.category_for("twilio", None) is None
    assert error_codes.category_for("telnyx", " 40300 ") == "opted_out"
