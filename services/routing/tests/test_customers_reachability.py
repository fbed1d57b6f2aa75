"""Which number a conversation may text, and why none when it may not."""

from routing.domain.reachability import Blocked, Phone, Sendable, sendable_phone

MOBILE = Phone("+33612345678", "mobile")
OTHER_MOBILE = Phone("+447911123456", "mobile")
UNKNOWN = Phone("+15145550100", "unknown")
LANDLINE = Phone("+33142685300", "landline")


def test_a_mobile_comes_before_a_number_of_unknown_kind():
    assert sendable_phone([LANDLINE, UNKNOWN, MOBILE], set()) == Sendable(MOBILE.e164, "mobile")


def test_a_number_of_unknown_kind_is_texted_when_there_is_no_mobile():
    assert sendable_phone([LANDLINE, UNKNOWN], set()) == Sendable(UNKNOWN.e164, "unknown")


def test_the_first_mobile_in_the_given_order_wins():
    assert sendable_phone([OTHER_MOBILE, MOBILE], set()).e164 == OTHER_MOBILE.e164


def test_the_preferred_number_wins_when_it_can_be_texted():
    assert sendable_phone([MOBILE, UNKNOWN], set(), preferred_e164=UNKNOWN.e164).e164 == UNKNOWN.e164


def test_a_preferred_landline_or_opted_out_number_is_passed_over():
    assert sendable_phone([MOBILE, LANDLINE], set(), preferred_e164=LANDLINE.e164).e164 == MOBILE.e164
    chosen = sendable_phone([MOBILE, UNKNOWN], {UNKNOWN.e164}, preferred_e164=UNKNOWN.e164)
    assert chosen.e164 == MOBILE.e164


def test_opted_out_numbers_are_skipped():
    assert sendable_phone([MOBILE, UNKNOWN], {MOBILE.e164}) == Sendable(UNKNOWN.e164, "unknown")


def test_no_number_at_all():
    blocked = sendable_phone([], set())
    assert blocked == Blocked("no_phone_number")
    assert "no phone number" in blocked.message


def test_only_landlines():
    assert sendable_phone([LANDLINE], set()) == Blocked("landline")
    # An opted-out landline is still a landline: the reason staff can act on is the line type.
    assert sendable_phone([LANDLINE], {LANDLINE.e164}) == Blocked("landline")


def test_every_textable_number_opted_out():
    assert sendable_phone([MOBILE, LANDLINE, UNKNOWN], {MOBILE.e164, UNKNOWN.e164}) == Blocked("opted_out")
