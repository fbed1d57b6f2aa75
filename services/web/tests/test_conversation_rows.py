"""A list row as conversation_rows.py writes it: what a person sees in it, in their language, and
text typed by people (customer names, previews, staff and team names) shown as text."""

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from web import i18n
from web.conversation_rows import KeptRows, RowWriter, text

USER = "00000000-0000-0000-0000-0000000000a1"
TEAM = "00000000-0000-0000-0000-0000000000b1"
ROW_ID = "00000000-0000-0000-0000-000000000001"
MARKUP = "<script>alert('x')</script> & \"Co\""


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    yield from speaking("en")


def speaking(locale: str) -> Iterator[None]:
    catalogues = i18n.load_catalogues()
    token = i18n.current.set(i18n.Localization(locale, catalogues[locale], i18n.time_zone("America/Toronto")))
    try:
        yield
    finally:
        i18n.current.reset(token)


# One for the module's writers, as one environment's pages share theirs.
KEPT = KeptRows(most=5_000)


def writer(*, is_admin: bool = False, selected: str | None = None, users=None, teams=None) -> RowWriter:
    return RowWriter(
        is_admin=is_admin,
        users={USER: {"name": "Marie Tremblay"}} if users is None else users,
        teams={TEAM: {"name": "Service"}} if teams is None else teams,
        list_query="view=all&status=open",
        selected=selected,
        kept=KEPT,
    )


def row(**changes) -> dict:
    return {
        "id": ROW_ID,
        "customer_name": "Jean Roy",
        "customer_phone": "+15145550100",
        "unread_for_me": False,
        "overdue": False,
        "last_activity_at": "2026-03-02T15:04:00+00:00",
        "last_message_preview": "Is my car ready?",
        "assignee_user_id": USER,
        "assignee_team_id": None,
        "assignee_has_not_read": False,
        "status": "open",
    } | changes


@given(st.text())
def test_text_is_escaped_exactly_as_markupsafe_does(value: str) -> None:
    assert text(value) == str(escape(value))


def test_markup_is_kept_and_other_values_are_their_text() -> None:
    assert text(Markup("<b>ours</b>")) == "<b>ours</b>"
    assert text(12) == "12"


def test_a_row_shows_the_customer_time_preview_and_assignee() -> None:
    html = writer()(row())
    assert isinstance(html, Markup)
    assert '<li class="row" data-conversation="' + ROW_ID + '">' in html
    assert '<span class="row-name">Jean Roy</span>' in html
    assert '<span class="row-preview">Is my car ready?</span>' in html
    assert '<span class="assignee">Marie Tremblay</span>' in html
    assert 'datetime="2026-03-02T15:04:00+00:00"' in html
    # The hour or day, with the exact time on hover, in the person's zone (Toronto: 10:04).
    assert re.search(r'title="[^"]*10:04', html)
    assert 'aria-label="Select Jean Roy"' in html
    # The link keeps the list's own filters (the `&` written as HTML).
    assert f'href="/conversations/{ROW_ID}?view=all&amp;status=open"' in html
    assert "unread-mine" not in html and "overdue" not in html and 'class="dot"' not in html
    assert 'class="eye"' not in html and 'class="badge' not in html and "aria-current" not in html


def test_text_typed_by_people_is_shown_as_text_in_every_field() -> None:
    typed = writer(users={USER: {"name": MARKUP}}, teams={TEAM: {"name": MARKUP}})
    for html in (
        typed(row(customer_name=MARKUP, last_message_preview=MARKUP)),
        typed(row(customer_name=None, customer_phone=MARKUP)),
        typed(row(assignee_user_id=None, assignee_team_id=TEAM)),
    ):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;Co&#34;" in html


def test_unread_for_me_is_red_with_its_dot_even_when_unanswered_too_long() -> None:
    html = writer()(row(unread_for_me=True, overdue=True))
    assert 'class="row unread-mine"' in html
    assert '<span class="dot" role="img" aria-label="Unread, assigned to you"></span>' in html
    assert '<span class="badge overdue-badge">Unanswered</span>' in html


def test_unanswered_too_long_is_orange_with_its_badge() -> None:
    html = writer()(row(overdue=True))
    assert 'class="row overdue"' in html
    assert "overdue-badge" in html and 'class="dot"' not in html


def test_the_eye_is_shown_to_admins_only() -> None:
    unread_by_assignee = row(assignee_has_not_read=True)
    assert 'class="eye"' in writer(is_admin=True)(unread_by_assignee)
    assert 'title="Not read yet by the assignee"' in writer(is_admin=True)(unread_by_assignee)
    assert 'class="eye"' not in writer(is_admin=False)(unread_by_assignee)
    assert 'class="eye"' not in writer(is_admin=True)(row())


def test_the_open_conversation_is_marked() -> None:
    html = writer(selected=ROW_ID)(row())
    assert 'class="row selected"' in html and ' aria-current="true">' in html


def test_unassigned_team_unknown_customer_and_status_badges() -> None:
    assert '<span class="assignee muted">Unassigned</span>' in writer()(row(assignee_user_id=None))
    assert '<span class="assignee">Service</span>' in writer()(
        row(assignee_user_id=None, assignee_team_id=TEAM)
    )
    # An assignee no longer in the directory reads as unassigned rather than failing the list.
    assert "assignee muted" in writer()(row(assignee_user_id="00000000-0000-0000-0000-00000000dead"))
    assert '<span class="row-name">+15145550100</span>' in writer()(row(customer_name=None))
    assert '<span class="row-name">Unknown customer</span>' in writer()(
        row(customer_name=None, customer_phone=None)
    )
    assert '<span class="badge">Closed</span>' in writer()(row(status="closed"))
    assert '<span class="badge">Archived</span>' in writer()(row(status="archived"))


def test_a_row_speaks_canadian_french() -> None:
    for _ in speaking("fr_CA"):
        html = writer(is_admin=True)(
            row(customer_name=None, customer_phone=None, assignee_user_id=None, status="closed", overdue=True)
        )
        assert '<span class="row-name">Client inconnu</span>' in html
        assert 'aria-label="Sélectionner Client inconnu"' in html
        assert '<span class="assignee muted">Non assignées</span>' in html
        assert "Unanswered" not in html and ">Closed<" not in html and "Not read yet" not in html


def test_a_kept_row_is_used_only_for_the_same_row_settings_and_assignee_name() -> None:
    """Rows are kept by what makes them (`KeptRows`): the same row again is the same HTML; a
    changed value, another assignee name, another viewer's rights or open row, another
    language, never gets a kept row written for something else."""
    first = writer(is_admin=True)(row(assignee_has_not_read=True))
    assert writer(is_admin=True)(row(assignee_has_not_read=True)) == first
    assert 'class="eye"' not in writer(is_admin=False)(row(assignee_has_not_read=True))
    assert "Is it ready now?" in writer(is_admin=True)(row(last_message_preview="Is it ready now?"))
    renamed = writer(is_admin=True, users={USER: {"name": "Marie Roy"}})(row(assignee_has_not_read=True))
    assert "Marie Roy" in renamed and "Marie Tremblay" not in renamed
    assert 'aria-current="true"' in writer(is_admin=True, selected=ROW_ID)(row(assignee_has_not_read=True))
    for _ in speaking("fr_CA"):
        french = writer(is_admin=True)(row(assignee_has_not_read=True))
    assert french != first and "Sélectionner" in french


def test_kept_rows_are_dropped_at_once_past_their_bound() -> None:
    kept = KeptRows(most=2)
    kept.keep("a", Markup("1"))
    kept.keep("b", Markup("2"))
    kept.keep("c", Markup("3"))
    assert dict(kept) == {"c": Markup("3")}
