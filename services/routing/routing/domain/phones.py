"""Phone numbers in E.164, whatever way a person or a carrier wrote them, and what kind of line
each one is."""

from functools import lru_cache
from typing import Literal

import phonenumbers

PhoneKind = Literal["mobile", "landline", "unknown"]


class InvalidPhoneNumber(ValueError):
    pass


# Pure, and every inbound text asks it twice (the dealership's number, the customer's), mostly
# for numbers it saw a moment ago: parsing costs ~70 µs, a cached answer well under one. An
# invalid number raises every time (exceptions are not cached).
@lru_cache(maxsize=8192)
def to_e164(raw: str, default_region: str) -> str:
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_kind(e164: str) -> PhoneKind:
    """What the numbering plan says about the line. North American numbers are
    FIXED_LINE_OR_MOBILE (mobiles and landlines share area codes), so they stay `unknown` until
    staff, the DMS or a carrier says otherwise."""
    try:
        number_type = phonenumbers.number_type(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return "unknown"
    if number_type == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile"
    if number_type == phonenumbers.PhoneNumberType.FIXED_LINE:
        return "landline"
    return "unknown"


def national_format(e164: str) -> str:
    """The number as people of its country write it, e.g. "(514) 555-0100" or "06 12 34 56 78"."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def digits_of(text: str) -> str:
    """The digits someone typed, whatever the punctuation: "(514) 555-01" -> "51455501"."""
    return "".join(ch for ch in text if ch.isdigit())
