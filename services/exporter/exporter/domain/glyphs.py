"""Text the transcript font cannot draw falls back to something readable instead of an empty
box: an emoji becomes its name ("[automobile]"), other missing characters U+FFFD. Joiners and
emoji modifiers that only shape a missing emoji are dropped with it."""

import unicodedata
from collections.abc import Container

REPLACEMENT = "\ufffd"
# Zero-width joiner, variation selectors, skin-tone modifiers: they draw nothing by themselves.
_SHAPERS = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


def printable(text: str, covered: Container[int] | None) -> str:
    """`text` with every character outside `covered` (code points the font has) replaced;
    unchanged when coverage is unknown (None)."""
    if covered is None or all(ord(char) in covered for char in text):
        return text
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code in covered or char in "\n\t":
            out.append(char)
        elif code in _SHAPERS:
            continue
        elif unicodedata.category(char).startswith("S") and unicodedata.name(char, ""):
            out.append(f"[{unicodedata.name(char).lower()}]")
        else:
            out.append(REPLACEMENT if ord(REPLACEMENT) in covered else "?")
    return "".join(out)
