"""SMS segments as carriers bill them: GSM-7 (160, then parts of 153; extension characters take
two septets, never split) or, with any other character, UCS-2 (70, then parts of 67; an emoji
takes two code units, never split)."""

import pytest

from notifier.domain.segments import GSM7_BASIC, GSM7_EXTENSION, segment


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("Is my car ready?", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("a" * 459, "GSM-7", 3),
        ("a" * 460, "GSM-7", 4),
        # é, è, à, ù are in the GSM alphabet: plain French stays GSM-7.
        ("Rendez-vous à 9 h, où?", "GSM-7", 1),
        # ê, â, ç (lower case), î, ô are not: the whole text becomes UCS-2.
        ("Votre véhicule est prêt", "UCS-2", 1),
        ("ç" * 70, "UCS-2", 1),
        ("ç" * 71, "UCS-2", 2),
        ("ç" * 134, "UCS-2", 2),
        ("ç" * 135, "UCS-2", 3),
        ("Your car is ready 🚗", "UCS-2", 1),
        ("Smart quotes “like these”", "UCS-2", 1),
    ],
)
def test_encoding_and_segments(text, encoding, segments):
    found = segment(text)
    assert (found.encoding, found.segments) == (encoding, segments)


def test_extension_characters_take_two_septets():
    assert segment("€" * 80).units == 160 and segment("€" * 80).segments == 1
    assert segment("€" * 81).segments == 2
    assert segment("[" + "a" * 158).segments == 1  # 2 + 158 = 160
    assert segment("[" + "a" * 159).segments == 2


def test_an_extension_character_is_never_split_across_parts():
    # 152 septets, then "€" (2): it does not fit the first part's 153, so it starts the second;
    # 152 + 2 + 152 = 306 septets would be 2 parts if it could be split, it takes 3.
    text = "a" * 152 + "€" + "a" * 152
    assert segment(text).units == 306
    assert segment(text).segments == 3
    assert segment("a" * 151 + "€" + "a" * 153).segments == 2  # 153 | 153


def test_an_emoji_is_never_split_across_parts():
    # 66 units then an emoji (2): the first part holds 66, the emoji opens the second.
    text = "x" * 66 + "🚗" + "x" * 66
    assert segment(text).units == 134
    assert segment(text).segments == 3
    assert segment("x" * 65 + "🚗" + "x" * 67).segments == 2  # 67 | 67
    assert segment("🚗" * 35).segments == 1  # 70 units
    assert segment("🚗" * 36).segments == 2


def test_the_gsm_alphabet_has_127_characters_and_9_plus_form_feed_extensions():
    assert len(GSM7_BASIC) == 127  # 128 less the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
