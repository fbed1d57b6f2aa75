"""The pure rules of DMS records and profile merges (routing/domain/merge.py)."""

from datetime import UTC, datetime, timedelta
from itertools import permutations
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from routing.domain.merge import (
    Claim,
    ClaimStamp,
    Holder,
    claim_number,
    dms_numbers,
    is_newer,
    plan_conversations,
    renewed_claim,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def stamp(minutes: int, event_id: UUID | None = None) -> ClaimStamp:
    return ClaimStamp.of(T0 + timedelta(minutes=minutes), event_id or uuid4())


def test_a_version_applies_only_when_newer():
    assert is_newer(1, None)
    assert is_newer(5, 4)
    assert not is_newer(4, 4)  # a replay
    assert not is_newer(3, 4)  # late and older


def test_a_mobile_held_by_a_profile_outside_the_dms_merges_into_the_dms_profile():
    texted_in = Holder(uuid4(), None, None)
    assert claim_number(stamp(1), texted_in, "mobile") is Claim.MERGE
    # A shared landline does not make two people one.
    assert claim_number(stamp(1), texted_in, "landline") is Claim.KEEP
    assert claim_number(stamp(1), texted_in, "unknown") is Claim.KEEP


def test_two_dms_records_never_merge_and_the_later_claim_gets_the_number():
    held = Holder(uuid4(), "C-2", stamp(5))
    assert claim_number(stamp(7), held, "mobile") is Claim.MOVE
    assert claim_number(stamp(3), held, "mobile") is Claim.KEEP
    # Claimed before claims were stamped: any stamped claim is later.
    assert claim_number(stamp(-999), Holder(uuid4(), "C-2", None), "mobile") is Claim.MOVE


def test_record_versions_play_no_part_between_two_records():
    """Record A counts its versions into the thousands, record B is at version 3: B's claim made
    later still wins, because versions of different records are not comparable."""
    a_claim_with_version_1000 = stamp(1)
    b_claim_with_version_3 = stamp(2)
    held_by_a = Holder(uuid4(), "A", a_claim_with_version_1000)
    assert claim_number(b_claim_with_version_3, held_by_a, "mobile") is Claim.MOVE


def test_equal_times_are_settled_by_the_event_id():
    low, high = UUID(int=1), UUID(int=2)
    assert claim_number(stamp(0, high), Holder(uuid4(), "A", stamp(0, low)), "mobile") is Claim.MOVE
    assert claim_number(stamp(0, low), Holder(uuid4(), "A", stamp(0, high)), "mobile") is Claim.KEEP


def test_a_time_without_an_offset_is_utc():
    event_id = uuid4()
    naive = ClaimStamp.of(datetime(2026, 11, 25, 12, 0), event_id)
    assert naive == ClaimStamp.of(T0, event_id)


@given(st.integers(0, 10), st.integers(0, 10), st.uuids(), st.uuids())
def test_between_two_dms_records_exactly_one_wins_whatever_the_order(minute_a, minute_b, id_a, id_b):
    a, b = stamp(minute_a, id_a), stamp(minute_b, id_b)
    a_claims = claim_number(a, Holder(uuid4(), "B", b), "mobile")
    b_claims = claim_number(b, Holder(uuid4(), "A", a), "mobile")
    if a != b:
        assert {a_claims, b_claims} == {Claim.MOVE, Claim.KEEP}


def _holder_after(events: list[tuple[str, ClaimStamp]]) -> str:
    """Who holds a number after these claims, applied as dms_customers does (a record listing
    its own number renews the claim)."""
    holder: tuple[str, ClaimStamp] | None = None
    for record, claim in events:
        if holder is None:
            holder = (record, claim)
        elif holder[0] == record:
            holder = (record, renewed_claim(holder[1], claim))
        elif claim_number(claim, Holder(uuid4(), holder[0], holder[1]), "mobile") is Claim.MOVE:
            holder = (record, claim)
    assert holder is not None
    return holder[0]


@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(0, 20)), min_size=1, max_size=5))
def test_the_latest_claim_holds_the_number_whatever_the_order(claims):
    events = [(record, stamp(minute)) for record, minute in claims]
    latest = max(events, key=lambda event: event[1])[0]
    for order in permutations(events):
        assert _holder_after(list(order)) == latest


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
