"""The pure rules of DMS records and profile merges (routing/domain/merge.py)."""

from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from routing.domain.merge import Claim, Holder, claim_number, dms_numbers, is_newer, plan_conversations


def test_a_version_applies_only_when_newer():
    assert is_newer(1, None)
    assert is_newer(5, 4)
    assert not is_newer(4, 4)  # a replay
    assert not is_newer(3, 4)  # late and older


def test_a_mobile_held_by_a_profile_outside_the_dms_merges_into_the_dms_profile():
    texted_in = Holder(uuid4(), None, None)
    assert claim_number("C-1", 2, texted_in, "mobile") is Claim.MERGE
    # A shared landline does not make two people one.
    assert claim_number("C-1", 2, texted_in, "landline") is Claim.KEEP
    assert claim_number("C-1", 2, texted_in, "unknown") is Claim.KEEP


def test_two_dms_records_never_merge_and_the_newer_one_gets_the_number():
    older = Holder(uuid4(), "C-2", 5)
    assert claim_number("C-1", 7, older, "mobile") is Claim.MOVE
    assert claim_number("C-1", 3, older, "mobile") is Claim.KEEP


@given(st.integers(0, 10), st.integers(0, 10))
def test_between_two_dms_records_exactly_one_wins_whatever_the_order(version_a, version_b):
    a_claims = claim_number("A", version_a, Holder(uuid4(), "B", version_b), "mobile")
    b_claims = claim_number("B", version_b, Holder(uuid4(), "A", version_a), "mobile")
    assert {a_claims, b_claims} == {Claim.MOVE, Claim.KEEP}


def test_the_survivor_keeps_its_active_conversation():
    survivor, merged = uuid4(), uuid4()
    assert plan_conversations(survivor, merged).archive == merged
    assert plan_conversations(survivor, merged).move_active is None
    # The survivor had none: the other's becomes its active conversation, nothing archived.
    assert plan_conversations(None, merged).move_active == merged
    assert plan_conversations(None, merged).archive is None
    assert plan_conversations(survivor, None) == plan_conversations(None, None)


def test_dms_numbers_are_normalised_once_each_and_bad_ones_skipped():
    numbers, unusable = dms_numbers(
        [
            ("(514) 555-0101", "landline"),
            ("+1 514 555 0101", "mobile"),
            ("514.555.0199", "unknown"),
            ("call me", "mobile"),
        ],
        "US",
    )
    assert [(n.e164, n.kind) for n in numbers] == [("+15145550101", "mobile"), ("+15145550199", "unknown")]
    assert unusable == ["call me"]
