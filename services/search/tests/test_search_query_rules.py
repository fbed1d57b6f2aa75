"""How one query box text is read, and how a match is highlighted (plain functions)."""

from decimal import Decimal

import pytest

from search.domain.query import fold, highlight, highlight_digits, highlight_words, parse_query


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("(514) 555-0100", "5145550100"),
        ("+1 514 555 0100", "15145550100"),
        ("514.555", "514555"),
        ("51", None),  # too few digits to mean a phone number
        ("tremblay 514", None),  # letters: not a phone number
    ],
)
def test_phone_numbers_typed_any_way(text, digits):
    assert parse_query(text).phone_digits == digits


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("412.50", Decimal("412.50")),
        ("412.5", Decimal("412.50")),
        ("$1,412.50", Decimal("1412.50")),
        ("412", Decimal("412.00")),
        ("412.505", None),
        ("4,12.50", None),
        ("oil", None),
    ],
)
def test_payment_amounts(text, amount):
    assert parse_query(text).amount == amount


@pytest.mark.parametrize(
    ("text", "ro"),
    [
        ("RO-48213", "RO48213"),
        ("ro 48213", "RO48213"),
        ("48213", "48213"),
        ("oil change", None),
        ("a b 1", None),
    ],
)
def test_repair_order_numbers(text, ro):
    assert parse_query(text).ro_compact == ro


@pytest.mark.parametrize(
    ("text", "email", "vin"),
    [
        ("Marie.T@Example.com", "marie.t@example.com", None),
        ("marie@", "marie@", None),
        ("marie at example", None, None),
        ("1HGCM82633A004352", None, "1HGCM82633A004352"),
        ("3a00-4352", None, "3A004352"),
        ("12345", None, None),  # shorter than any VIN tail staff read out
        ("oil change", None, None),
        ("ABCDEFGH", None, None),  # a VIN has digits
    ],
)
def test_email_addresses_and_vin_tails(text, email, vin):
    query = parse_query(text)
    assert (query.email_prefix, query.vin_tail) == (email, vin)


def test_words_are_folded_and_deduplicated():
    query = parse_query("  Trémblay   TREMBLAY l'Écluse ")
    assert query.words == ("tremblay", "l", "ecluse")
    assert query.message_prefix_query == "tremblay & l & ecluse:*"


def test_fold_keeps_one_character_per_character():
    assert fold("Émilie Côté") == "emilie cote"
    assert len(fold("Ça coûte 412,50 $")) == len("Ça coûte 412,50 $")


def test_highlight_marks_the_original_accented_text():
    assert highlight("Marie Trémblay", ("tremb",)) == ("Marie <mark>Trémb</mark>lay", [(6, 11)])


def test_highlight_escapes_what_customers_typed():
    marked, _ = highlight("<script>alert('frein')</script>", ("frein",))
    assert "<script>" not in marked
    assert marked == "&lt;script&gt;alert('<mark>frein</mark>')&lt;/script&gt;"


def test_message_words_are_marked_by_prefix_or_shared_stem():
    marked, spans = highlight_words("Mes freins et le frein avant", ("frein",))
    assert marked == "Mes <mark>freins</mark> et le <mark>frein</mark> avant"
    assert len(spans) == 2
    assert highlight_words("The brakes squeak", ("braking",))[0] == "The <mark>brakes</mark> squeak"


def test_phone_digits_are_marked_through_separators():
    assert highlight_digits("+15145550100", "5550100") == ("+1514<mark>5550100</mark>", [(5, 12)])


def test_prefix_ranges_bound_every_value_that_starts_with_the_query():
    assert parse_query("ro-48").ro_range == ("RO48", "RO48~")
    # A VIN's tail is the start of the reversed VIN.
    assert parse_query("3a004352").vin_range == ("253400A3", "253400A3~")
    low, high = parse_query("Marie.T@").email_range
    assert low <= "marie.t@example.com" < high
    assert parse_query("oil change").ro_range is None
