import pytest

from routing.domain.phones import InvalidPhoneNumber, to_e164


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
