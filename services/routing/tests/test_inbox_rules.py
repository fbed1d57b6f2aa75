from datetime import UTC, datetime, timedelta
from uuid import uuid4

from routing.domain.inbox import (
    Assignment,
    assignee_has_not_read,
    is_mine,
    is_overdue,
    is_read,
    is_unanswered,
    unread_for_me,
)

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ME, OTHER, TEAM = uuid4(), uuid4(), uuid4()


def test_nothing_to_read_is_read():
    assert is_read(None, None)


def test_read_only_up_to_the_latest_inbound_message():
    assert not is_read(T, None)
    assert not is_read(T, T - timedelta(seconds=1))
    assert is_read(T, T)
    assert is_read(T, T + timedelta(minutes=5))


def test_unanswered_means_no_outbound_after_the_latest_inbound():
    assert not is_unanswered(None, None)
    assert is_unanswered(T, None)
    assert is_unanswered(T, T - timedelta(minutes=1))
    assert not is_unanswered(T, T + timedelta(minutes=1))


def test_overdue_after_the_accounts_threshold_only_when_unanswered():
    assert not is_overdue(T, None, T + timedelta(hours=4), 4)
    assert is_overdue(T, None, T + timedelta(hours=4, seconds=1), 4)
    assert not is_overdue(T, T + timedelta(hours=1), T + timedelta(hours=30), 4)
    assert not is_overdue(None, None, T, 4)


def test_mine_is_assigned_to_me_or_to_one_of_my_teams():
    assert is_mine(Assignment(ME, None), ME, frozenset())
    assert is_mine(Assignment(None, TEAM), ME, frozenset({TEAM}))
    assert not is_mine(Assignment(None, TEAM), ME, frozenset())
    assert not is_mine(Assignment(OTHER, None), ME, frozenset({TEAM}))
    assert not is_mine(Assignment(None, None), ME, frozenset({TEAM}))


def test_red_highlight_only_for_my_unread_conversations():
    assert unread_for_me(Assignment(ME, None), ME, frozenset(), T, None)
    assert not unread_for_me(Assignment(ME, None), ME, frozenset(), T, T)
    assert not unread_for_me(Assignment(OTHER, None), ME, frozenset(), T, None)
    assert unread_for_me(Assignment(None, TEAM), ME, frozenset({TEAM}), T, None)


def test_eye_icon_is_for_admins_and_assigned_conversations():
    assert assignee_has_not_read(False, Assignment(OTHER, None), T, None) is None
    assert assignee_has_not_read(True, Assignment(OTHER, None), T, None) is True
    assert assignee_has_not_read(True, Assignment(OTHER, None), T, T) is False
    assert assignee_has_not_read(True, Assignment(None, None), T, None) is False
