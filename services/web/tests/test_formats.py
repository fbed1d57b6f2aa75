"""How times read in each language: pure formatting, no service."""

from zoneinfo import ZoneInfo

from web.i18n import _when

TORONTO = ZoneInfo("America/Toronto")


def test_an_appointment_reads_as_its_day_and_hour_without_seconds_or_zone_name() -> None:
    instant = "2028-10-17T12:00:00Z"  # 8:00 in Toronto (daylight time)
    assert _when(instant, "day", "fr_CA", TORONTO) == "mardi 17 octobre 2028, 08 h 00"
    english = _when(instant, "day", "en", TORONTO)
    assert english.startswith("Tuesday, October 17, 2028") and english.endswith("8:00\u202fAM")
