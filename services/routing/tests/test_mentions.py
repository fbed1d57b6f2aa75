from uuid import uuid4

from routing.domain.mentions import Colleague, find_mentions, mention_handles

SAM = Colleague(uuid4(), "Sam Agent", "agent@demo.test")
KIM = Colleague(uuid4(), "Kim Lee", "kim.lee@demo.test")
SAMANTHA = Colleague(uuid4(), "Samantha Roy", "sroy@demo.test")
TEAM = [SAM, KIM, SAMANTHA]


def test_full_name_first_name_and_email_local_part():
    assert find_mentions("@Sam Agent can you call?", TEAM) == [SAM.id]
    assert find_mentions("ping @sam", TEAM) == [SAM.id]
    assert find_mentions("ping @agent please", TEAM) == [SAM.id]
    assert find_mentions("@kim.lee: yours", TEAM) == [KIM.id]


def test_each_colleague_once_in_order_of_first_mention():
    assert find_mentions("@Kim, @sam and @Sam Agent again, then @kim.", TEAM) == [KIM.id, SAM.id]


def test_a_longer_word_is_not_a_mention_of_a_shorter_handle():
    assert find_mentions("@samantha please", TEAM) == [SAMANTHA.id]
    assert find_mentions("@samuel please", TEAM) == []


def test_email_addresses_and_unknown_handles_are_not_mentions():
    assert find_mentions("write to bob@sam.com", TEAM) == []
    assert find_mentions("@nobody here", TEAM) == []
    assert find_mentions("no mention", TEAM) == []


def test_ambiguous_first_names_are_not_handles():
    other_sam = Colleague(uuid4(), "Sam Other", "sother@demo.test")
    handles = mention_handles([SAM, other_sam])
    assert "sam" not in handles
    assert find_mentions("@sam", [SAM, other_sam]) == []
    assert find_mentions("@Sam Other", [SAM, other_sam]) == [other_sam.id]
