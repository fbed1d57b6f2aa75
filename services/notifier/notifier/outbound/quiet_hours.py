"""Quiet hours: automated texts reach a customer only in their local daytime."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones


def customer_time_zone(phone: str, fallback: str) -> ZoneInfo:
    """The number's own zone when the numbering plan pins one down (an area code), else the
    account's (a toll-free or national number spans several zones)."""
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        zones = ()
    candidates = [zones[0]] if len(zones) == 1 and zones[0] != "Etc/Unknown" else []
    for name in [*candidates, fallback]:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("America/Toronto")


def hold_until(now: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> datetime | None:
    """None when a text may go now; else the (UTC) moment the customer's day starts."""
    local = now.astimezone(zone)
    if start_hour <= local.hour < end_hour:
        return None
    day = local.date() if local.hour < start_hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(start_hour), zone).astimezone(UTC)
