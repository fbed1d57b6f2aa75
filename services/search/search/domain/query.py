"""What one query box text can mean: the same text is tried as a name, a phone number, an e-mail
address, an RO number, a VIN, a payment amount, an appointment type and words from messages, and
each reading that makes sense becomes a condition. Plain functions, no database."""

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Fewer digits than this would match most phone numbers of an area code.
MIN_PHONE_DIGITS = 3
# Trigram indexes need at least three characters to narrow anything down.
MIN_NAME_CHARS = 2
VIN_LENGTH, MIN_VIN_CHARS = 17, 6

# Above every character of a compact RO number or VIN ([0-9A-Z]) in the "C" collation.
_COMPACT_END = "~"
# Above every character an e-mail address holds, in the "C" collation.
_TEXT_END = "\U0010ffff"

_PHONE_CHARS = re.compile(r"^[\d\s()+.\-]+$")
_AMOUNT = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*\$?$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents, character for character (as search.fold does in SQL), so an
    offset in the folded text is the same offset in the original."""
    if text.isascii():  # most names and texts: nothing to strip (a page folds ~40 of them)
        return text.lower()
    return "".join(_fold_char(char) for char in text)


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)
    stripped = "".join(c for c in base if not unicodedata.combining(c))
    return stripped[:1].lower() if len(stripped) >= 1 else char.lower()


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    # Folded words; a name or an appointment type must contain each of them.
    words: tuple[str, ...]
    # Digits of a phone-shaped query ("(514) 555-0100" -> "5145550100").
    phone_digits: str | None
    # An exact amount ("412.5" -> 412.50).
    amount: Decimal | None
    # An RO-shaped token, compacted and upper-cased ("ro-1234" -> "RO1234").
    ro_compact: str | None
    # The start of an e-mail address, lower-cased: one token with an "@".
    email_prefix: str | None = None
    # A whole VIN or its last characters, upper-cased ("…3a004352" -> "3A004352").
    vin_tail: str | None = None

    # Prefixes as (low, high) bounds of "C"-collated values, for an index range scan that also
    # works in a prepared statement's generic plan (LIKE 'x%' with a parameter does not).
    @property
    def ro_range(self) -> tuple[str, str] | None:
        """Compact RO numbers that start with the query's."""
        return (self.ro_compact, self.ro_compact + _COMPACT_END) if self.ro_compact else None

    @property
    def vin_range(self) -> tuple[str, str] | None:
        """Reversed VINs that start with the reversed tail: VINs that end with it."""
        if not self.vin_tail:
            return None
        reversed_tail = self.vin_tail[::-1]
        return reversed_tail, reversed_tail + _COMPACT_END

    @property
    def email_range(self) -> tuple[str, str] | None:
        """Lower-cased addresses that start with the query."""
        return (self.email_prefix, self.email_prefix + _TEXT_END) if self.email_prefix else None

    @property
    def message_prefix_query(self) -> str | None:
        """A `to_tsquery('simple', ...)` text: the last word as a prefix (the one still being
        typed), the others whole. A prefix makes the index read every posting of every word that
        starts with it: for a common word ("brake:*", in 1 message of 8) that is ~60 ms at a million
        messages, where the whole word lets the index skip along the rarest one (~0.2 ms). Earlier
        words still match their other forms through the English and French stems."""
        if not self.words:
            return None
        *whole, last = self.words
        return " & ".join([*whole, f"{last}:*"])


def parse_query(text: str) -> ParsedQuery:
    text = " ".join(text.split())
    folded = fold(text)
    words = tuple(dict.fromkeys(_WORD.findall(folded)))
    return ParsedQuery(
        text=text,
        words=words,
        phone_digits=_phone_digits(text),
        amount=_amount(text),
        ro_compact=_ro_compact(text),
        email_prefix=_email_prefix(text),
        vin_tail=_vin_tail(text),
    )


def _email_prefix(text: str) -> str | None:
    if "@" not in text or " " in text or len(text) < 3:
        return None
    return text.lower()


def _vin_tail(text: str) -> str | None:
    # Staff read the last 6 or 8 characters of a VIN; a VIN has 17, letters and digits.
    compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if " " in text or not MIN_VIN_CHARS <= len(compact) <= VIN_LENGTH:
        return None
    return compact if any(c.isdigit() for c in compact) else None


def _phone_digits(text: str) -> str | None:
    if not _PHONE_CHARS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _amount(text: str) -> Decimal | None:
    match = _AMOUNT.match(text)
    if not match:
        return None
    whole, cents = match.group(1).replace(",", ""), match.group(2) or "0"
    try:
        value = Decimal(f"{whole}.{cents}")
    except InvalidOperation:
        return None
    return value if value < Decimal("1e12") else None


def _ro_compact(text: str) -> str | None:
    # An RO number is one token with at least one digit ("RO-48213", "48213", "A 4821").
    compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if not compact or not any(c.isdigit() for c in compact) or len(text.split()) > 2:
        return None
    return compact


def highlight(text: str, needles: tuple[str, ...]) -> tuple[str, list[tuple[int, int]]]:
    """`text` with each place that contains a folded needle wrapped in <mark>…</mark>, and
    those places as (start, end) offsets into `text`."""
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        if not needle:
            continue
        start = folded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + len(needle))
    return _mark(text, _merge(spans))


def highlight_words(text: str, words: tuple[str, ...]) -> tuple[str, list[tuple[int, int]]]:
    """Marks each word of `text` that a query word finds: the same word, a longer one it starts
    (prefix search) or one sharing its stem ("freins" / "frein", "changing" / "changed")."""
    spans = []
    for match in _WORD.finditer(text):
        token = fold(match.group())
        if any(_related(token, word) for word in words):
            spans.append(match.span())
    return _mark(text, spans)


def _related(token: str, word: str) -> bool:
    if token.startswith(word):
        return True
    common = 0
    for a, b in zip(token, word, strict=False):
        if a != b:
            break
        common += 1
    return common >= 4 and common >= min(len(token), len(word)) - 3


def highlight_digits(text: str, digits: str) -> tuple[str, list[tuple[int, int]]]:
    """Marks the digits of a phone number that match `digits`, whatever separators `text` has."""
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    only_digits = "".join(text[i] for i in positions)
    start = only_digits.find(digits)
    if start == -1 or not digits:
        return _mark(text, [])
    return _mark(text, [(positions[start], positions[start + len(digits) - 1] + 1)])


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    out, last = [], 0
    for start, end in spans:
        out += [_escape(text[last:start]), "<mark>", _escape(text[start:end]), "</mark>"]
        last = end
    out.append(_escape(text[last:]))
    return "".join(out), spans


def _escape(text: str) -> str:
    # The highlighted text is shown as HTML; what customers typed must not become markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
