"""Saved-reply templates: what is accepted at save time and how rendering fails."""

import pytest

from routing.domain.templates import (
    MAX_BODY_LENGTH,
    InvalidTemplate,
    MissingValues,
    placeholders_of,
    render,
)


def _problems(body: str) -> list[tuple[str, str | None]]:
    with pytest.raises(InvalidTemplate) as raised:
        placeholders_of(body)
    return [(p.kind, p.name) for p in raised.value.problems]


def test_lists_the_placeholders_a_body_uses_in_order():
    body = (
        "Hi {{ customer.first_name | default('there') | title }}, {{ sender.first_name }} from "
        "{{ dealership.name | upper }} {# a comment #} {{ customer.first_name }} {{ appointment.date }}"
    )
    assert placeholders_of(body) == [
        "customer.first_name",
        "sender.first_name",
        "dealership.name",
        "appointment.date",
    ]
    assert placeholders_of("No placeholders at all.") == []


def test_unknown_placeholders_are_named():
    assert _problems("Hi {{ customer.nickname }} and {{ vehicle.model }} and {{ name }}") == [
        ("unknown_placeholder", "customer.nickname"),
        ("unknown_placeholder", "vehicle.model"),
        ("unknown_placeholder", "name"),
    ]


def test_a_syntax_error_is_refused_with_its_line():
    with pytest.raises(InvalidTemplate) as raised:
        placeholders_of("Hello\n{{ customer.first_name ")
    [problem] = raised.value.problems
    assert problem.kind == "syntax_error"
    assert problem.line == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ customer.__class__ }}", ("unknown_placeholder", "customer.__class__")),
        (
            "{{ customer.first_name.__class__.__mro__ }}",
            ("unknown_placeholder", "customer.first_name.__class__.__mro__"),
        ),
        ("{{ customer.items }}", ("unknown_placeholder", "customer.items")),
        ("{{ customer['first_name'] }}", ("not_allowed", "getitem")),
        ("{{ customer.first_name.upper() }}", ("not_allowed", "call")),
        ("{{ lipsum() }}", ("not_allowed", "call")),
        ("{{ customer.first_name | attr('__class__') }}", ("filter_not_allowed", "attr")),
        ("{{ customer.first_name | format('%s') }}", ("filter_not_allowed", "format")),
        ("{{ customer.first_name | default(customer.last_name) }}", ("not_allowed", "default")),
        ("{{ 'x' * 100000000 }}", ("not_allowed", "mul")),
        ("{% for i in range(9) %}x{% endfor %}", ("not_allowed", "for")),
        ("{% set x = 1 %}", ("not_allowed", "assign")),
    ],
)
def test_anything_beyond_placeholders_and_safe_filters_is_refused(body, expected):
    assert expected in _problems(body)


def test_a_body_longer_than_the_limit_is_refused():
    assert ("too_long", None) in _problems("x" * (MAX_BODY_LENGTH + 1))
    assert placeholders_of("x" * MAX_BODY_LENGTH) == []


def test_renders_values_and_filters():
    text = render(
        "Hi {{ customer.first_name | title }}, {{ appointment.advisor | default('our team') }} "
        "at {{ dealership.name | upper }}.",
        {"customer.first_name": "ann", "dealership.name": "Demo Motors"},
    )
    assert text == "Hi Ann, our team at DEMO MOTORS."


def test_missing_values_fail_as_a_whole_listing_each_once():
    with pytest.raises(MissingValues) as raised:
        render(
            "{{ customer.first_name }} {{ sender.name | upper }} {{ customer.first_name }} "
            "{{ appointment.time | default('soon') }}",
            {"customer.first_name": "", "appointment.date": "May 3"},
        )
    assert raised.value.missing == ["customer.first_name", "sender.name"]


def test_a_filter_before_default_does_not_make_a_placeholder_optional():
    # upper() of a missing value fails before default() could apply.
    with pytest.raises(MissingValues) as raised:
        render("{{ customer.first_name | upper | default('x') }}", {})
    assert raised.value.missing == ["customer.first_name"]


def test_rendering_refuses_a_stored_body_the_rules_refuse():
    with pytest.raises(InvalidTemplate):
        render("{{ customer.__class__ }}", {"customer.first_name": "Ann"})


def test_values_are_text_not_templates():
    text = render("{{ customer.first_name }}", {"customer.first_name": "{{ sender.name }} <b>"})
    assert text == "{{ sender.name }} <b>"
