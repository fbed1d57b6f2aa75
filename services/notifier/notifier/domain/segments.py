"""How many SMS segments a text costs, as carriers bill it (3GPP TS 23.038 / 23.040).

A text written only with the GSM 7-bit default alphabet (and its extension table, whose
characters take two septets: an escape and the character) fits 160 septets in one SMS; longer,
it is split into parts of 153 septets (7 go to the concatenation header), and a two-septet
character is never split across two parts. Any other character makes the whole text UCS-2: 70
UTF-16 code units in one SMS, else parts of 67, a surrogate pair (an emoji) never split.

Carriers may transliterate or choose differently (Twilio's "smart encoding"); this is the
standard count, which is what the segments the carrier reports come to for plain texts."""

from dataclasses import dataclass

# The GSM 03.38 default alphabet (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Its extension table (an escape and the character: two septets each). Form feed included.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Segmentation:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) in the whole text


def _gsm7_widths(text: str) -> list[int] | None:
    widths = []
    for char in text:
        if char in GSM7_BASIC:
            widths.append(1)
        elif char in GSM7_EXTENSION:
            widths.append(2)
        else:
            return None
    return widths


def _ucs2_widths(text: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts(widths: list[int], single: int, part: int) -> int:
    total = sum(widths)
    if total <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > part:  # this character starts the next part, whole
            parts, used = parts + 1, 0
        used += width
    return parts


def segment(text: str) -> Segmentation:
    """An empty text is still one SMS (a carrier sends, and bills, an empty message)."""
    gsm = _gsm7_widths(text)
    if gsm is not None:
        return Segmentation("GSM-7", _parts(gsm, GSM7_SINGLE, GSM7_PART), sum(gsm))
    ucs2 = _ucs2_widths(text)
    return Segmentation("UCS-2", _parts(ucs2, UCS2_SINGLE, UCS2_PART), sum(ucs2))
