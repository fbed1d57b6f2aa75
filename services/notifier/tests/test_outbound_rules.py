"""Outbound rules without infrastructure: quiet hours, time zones, error categories, and that
credentials never show up in logs or reprs."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from notifier.outbound.carriers.telnyx import TelnyxAdapter
from notifier.outbound.carriers.twilio import TwilioAdapter
from notifier.outbound.credentials import CarrierCredentials
from notifier.outbound.quiet_hours import customer_time_zone, hold_until
from notifier.outbound.rate_limit import default_per_second
from notifier.settings import NotifierSettings
from shared.carriers.error_codes import classify

TORONTO = ZoneInfo("America/Toronto")


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 11, 25, 12, 59, tzinfo=UTC), datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),  # 07:59
        (datetime(2026, 11, 25, 13, 0, tzinfo=UTC), None),  # 08:00 sharp
        (datetime(2026, 11, 26, 1, 59, tzinfo=UTC), None),  # 20:59
        (
            datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
        ),  # 21:00 → tomorrow
        (
            datetime(2026, 11, 26, 4, 30, tzinfo=UTC),
            datetime(2026, 11, 26, 13, 0, tzinfo=UTC),
        ),  # 23:30 → tomorrow
    ],
)
def test_quiet_hours_window_is_eight_to_nine_local(utc, expected):
    assert hold_until(utc, TORONTO, 8, 21) == expected


def test_quiet_hours_release_follows_daylight_saving_time():
    # The night clocks go back (2026-11-01): 8:00 that morning is EST, UTC-5.
    assert hold_until(datetime(2026, 11, 1, 5, 0, tzinfo=UTC), TORONTO, 8, 21) == datetime(
        2026, 11, 1, 13, 0, tzinfo=UTC
    )
    # In summer 8:00 is EDT, UTC-4.
    assert hold_until(datetime(2026, 7, 1, 6, 0, tzinfo=UTC), TORONTO, 8, 21) == datetime(
        2026, 7, 1, 12, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("phone", "fallback", "zone"),
    [
        ("+15145551234", "America/Vancouver", "America/Toronto"),  # Montréal area code
        ("+16045551234", "America/Toronto", "America/Vancouver"),
        ("+33612345678", "America/Toronto", "Europe/Paris"),
        ("+18885550123", "America/Edmonton", "America/Edmonton"),  # toll-free: every zone
        ("+15555550123", "America/Halifax", "America/Halifax"),  # unknown to the numbering plan
        ("not a number", "America/Winnipeg", "America/Winnipeg"),
        ("+15555550123", "Not/AZone", "America/Toronto"),
    ],
)
def test_customer_time_zone_from_the_number_else_the_account(phone, fallback, zone):
    assert customer_time_zone(phone, fallback) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("carrier", "code", "status", "category", "retryable"),
    [
        ("twilio", "21211", 400, "wrong_number", False),
        ("twilio", "21614", 400, "landline", False),
        ("twilio", "21610", 400, "opted_out", False),
        ("twilio", "30003", None, "unreachable", False),
        ("twilio", "30005", None, "wrong_number", False),
        ("twilio", "30006", None, "landline", False),
        ("twilio", "30007", None, "carrier_filtered", False),
        ("twilio", "20429", 429, "rate_limited", True),
        ("twilio", "99999", 400, "unknown", False),
        ("twilio", "20500", 500, "unknown", True),
        ("twilio", None, 503, "unknown", True),
        ("telnyx", "10002", 400, "wrong_number", False),
        ("telnyx", "40001", None, "landline", False),
        ("telnyx", "40300", 400, "opted_out", False),
        ("telnyx", "40008", None, "unreachable", False),
        ("telnyx", "40002", None, "carrier_filtered", False),
        ("telnyx", "10011", 429, "rate_limited", True),
        ("telnyx", "10007", 500, "unknown", True),
        ("telnyx", "30003", 400, "unknown", False),  # a Twilio code means nothing to Telnyx
    ],
)
def test_carrier_codes_map_to_plain_categories(carrier, code, status, category, retryable):
    info = classify(carrier, code, status)
    assert (info.category, info.retryable) == (category, retryable)


def test_toll_free_numbers_get_the_toll_free_rate():
    settings = NotifierSettings(rate_long_code_per_second=1, rate_toll_free_per_second=3)
    assert default_per_second("+18885550100", settings) == 3
    assert default_per_second("+15145550100", settings) == 1
    assert default_per_second("garbage", settings) == 1


def test_a_number_may_have_its_own_configured_rate():
    settings = NotifierSettings(rate_per_number={"+15145550100": 10})
    assert default_per_second("+15145550100", settings) == 10
    assert default_per_second("+15145550101", settings) == 1


def test_credentials_and_adapters_never_show_their_secret():
    secret = "super-secret-token-123"
    client = httpx.AsyncClient()
    shown = " ".join(
        [
            repr(CarrierCredentials("twilio", SecretStr(secret), "AC1")),
            repr(TwilioAdapter(client, "https://api.twilio.com", "AC1", SecretStr(secret), None)),
            repr(TelnyxAdapter(client, "https://api.telnyx.com", SecretStr(secret), None)),
        ]
    )
    assert secret not in shown
