"""The chaos run's ordering check (verify.out_of_order) on made-up runs: it must catch a text
placed before one its customer had already seen acknowledged, and leave texts in flight together
alone."""

from tests.chaos.traffic import InboundText
from tests.chaos.verify import out_of_order


def text(carrier_id: str, phone: str, sent_at: float, acked_at: float) -> InboundText:
    return InboundText(0, "twilio", carrier_id, phone, "", "steady", sent_at, 200, acked_at)


def test_a_text_sent_after_an_acknowledged_one_must_come_after_it() -> None:
    first, second = text("A", "+1", 0.0, 1.0), text("B", "+1", 2.0, 3.0)
    assert out_of_order([first, second], {"A": 10.0, "B": 11.0}) == []
    assert out_of_order([first, second], {"A": 11.0, "B": 10.0}) == ["B placed before A (steady)"]


def test_texts_in_flight_together_may_land_in_either_order() -> None:
    first, second = text("A", "+1", 0.0, 3.0), text("B", "+1", 1.0, 2.0)
    assert out_of_order([first, second], {"A": 11.0, "B": 10.0}) == []


def test_customers_are_independent() -> None:
    first, second = text("A", "+1", 0.0, 1.0), text("B", "+2", 2.0, 3.0)
    assert out_of_order([first, second], {"A": 11.0, "B": 10.0}) == []


def test_the_latest_acknowledged_text_counts_not_only_the_last_one() -> None:
    early, late_ack, after = text("A", "+1", 0.0, 1.0), text("B", "+1", 0.5, 1.5), text("C", "+1", 2.0, 3.0)
    placed = {"A": 20.0, "B": 10.0, "C": 15.0}
    assert out_of_order([early, late_ack, after], placed) == ["C placed before A (steady)"]
