"""The rules ingest and notifier both check an admin's carrier credentials by, and the hint a
listing shows instead of a secret."""

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from shared.carriers.credentials import (
    CarrierSecret,
    TwilioAccountSid,
    check_secret,
    normalize_twilio_sid,
    secret_hint,
)

SID = "AC0123456789abcdef0123456789abcdef"


def test_a_twilio_sid_is_kept_as_twilio_writes_it():
    assert normalize_twilio_sid(f"  {SID.upper()} ") == SID
    assert normalize_twilio_sid(SID) == SID


@pytest.mark.parametrize(
    "value",
    ["", SID[:-1], SID + "0", "ac" + SID[2:], "SK" + SID[2:], "AC" + "g" * 32, f"AC {SID[3:]}"],
)
def test_anything_else_is_not_a_twilio_sid(value: str):
    with pytest.raises(ValueError, match="AC followed by 32 hexadecimal digits"):
        normalize_twilio_sid(value)


def test_a_secret_loses_surrounding_whitespace_only():
    assert check_secret("  abcdefgh12345678\n") == "abcdefgh12345678"
    assert check_secret("x" * 256) == "x" * 256


@pytest.mark.parametrize("value", ["x" * 15, "x" * 257, "   short   "])
def test_a_secret_has_16_to_256_characters(value: str):
    with pytest.raises(ValueError, match=r"^must be 16 to 256 characters$"):
        check_secret(value)


@pytest.mark.parametrize("value", ["abcdefgh 12345678", "abcdefgh\t12345678", "abcdéfgh12345678"])
def test_a_secret_is_printable_ascii_without_spaces(value: str):
    with pytest.raises(ValueError, match=r"^must be printable ASCII without spaces$") as raised:
        check_secret(value)
    assert "12345678" not in str(raised.value)


def test_the_hint_shows_the_last_four_characters_of_a_long_enough_secret():
    assert secret_hint("abcdefgh1234a1b2") == "••••a1b2"
    assert secret_hint("abcdefgh1234a1b") == "••••"
    assert secret_hint("") == "••••"


class _Credentials(BaseModel):
    account_sid: TwilioAccountSid
    secret: CarrierSecret


def test_the_field_types_check_and_normalise_in_a_model():
    parsed = _Credentials(account_sid=f" {SID.upper()}", secret=" abcdefgh12345678 ")
    assert parsed.account_sid == SID
    assert isinstance(parsed.secret, SecretStr)
    assert parsed.secret.get_secret_value() == "abcdefgh12345678"
    with pytest.raises(ValidationError) as raised:
        _Credentials(account_sid="AC", secret="abcdefgh 12345678")
    assert [(e["loc"], e["msg"]) for e in raised.value.errors()] == [
        (("account_sid",), "Value error, a Twilio Account SID is AC followed by 32 hexadecimal digits"),
        (("secret",), "Value error, must be printable ASCII without spaces"),
    ]
    assert _Credentials.model_json_schema()["properties"]["secret"]["format"] == "password"
