import pytest

from routing.domain.phones import InvalidPhoneNumber, digits_of, national_format, phone_kind, to_e164


@pytest.mark.parametrize(
    "raw", ["(514) 555-0100", "514.555.0100", "+1 514 555 0100", "1-514-555-0100", "5145550100"]
)
def test_human_formats_become_e164(raw):
    assert to_e164(raw, "CA") == "+15145550100"


def test_foreign_number_keeps_its_country():
    assert to_e164("+33 1 42 68 53 00", "US") == "+33142685300"


@pytest.mark.parametrize("raw", ["", "hello", "123"])
def test_garbage_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw, "US")


@pytest.mark.parametrize(
    ("e164", "kind"),
    [
        ("+33612345678", "mobile"),  # French mobile (06)
        ("+33742685300", "mobile"),  # French mobile (07)
        ("+33142685300", "landline"),  # Paris landline (01)
        ("+447911123456", "mobile"),  # UK mobile (07)
        ("+442079460000", "landline"),  # London landline (020)
        ("+4915123456789", "mobile"),  # German mobile
        ("+15145550100", "unknown"),  # Canada: mobiles and landlines share area codes
        ("+12125550123", "unknown"),  # United States: same
        ("+999123", "unknown"),  # no such country
    ],
)
def test_phone_kind_follows_the_numbering_plan(e164, kind):
    assert phone_kind(e164) == kind


def test_national_format_is_how_the_country_writes_it():
    assert national_format("+15145550100") == "(514) 555-0100"
    assert national_format("+33612345678") == "06 12 34 56 78"


def test_digits_of_drops_punctuation():
    assert digits_of("+1 (514) 555-01") == "151455501"
