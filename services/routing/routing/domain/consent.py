"""Consent keywords, as carriers read them: a text that is only STOP (or one of its synonyms)
opts the customer out of texts from that dealership number; START brings them back; HELP asks
who is texting them. Only the whole text counts — "please stop by tomorrow" is a message, not
a keyword — but case, surrounding spaces and punctuation ("Stop.", " stop! ") do not matter."""

import unicodedata
from dataclasses import dataclass
from typing import Literal

ConsentAction = Literal["opt_out", "opt_in", "help"]

# ARRET / ARRÊT: Quebec's French "stop", which Canadian carriers honour.
OPT_OUT_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "ARRET",
        "ARRÊT",
    }
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP"})

# Longer than any keyword with room for punctuation: anything longer is a message.
_MAX_KEYWORD_TEXT = 40


@dataclass(frozen=True)
class ConsentKeyword:
    action: ConsentAction
    # The keyword as we recognised it (upper case, e.g. "ARRÊT"), for the timeline.
    keyword: str


def _is_edge(char: str) -> bool:
    """Whitespace, punctuation and symbols (emoji too) around a keyword are ignored."""
    return char.isspace() or unicodedata.category(char)[0] in {"P", "S", "Z", "C"}


def normalise(body: str) -> str:
    text = unicodedata.normalize("NFC", body)
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return " ".join(text[start:end].split()).upper()


def consent_keyword(body: str | None) -> ConsentKeyword | None:
    """The consent keyword the whole text is, or None for an ordinary message."""
    if not body or len(body) > _MAX_KEYWORD_TEXT:
        return None
    word = normalise(body)
    if word in OPT_OUT_KEYWORDS:
        return ConsentKeyword("opt_out", word)
    if word in OPT_IN_KEYWORDS:
        return ConsentKeyword("opt_in", word)
    if word in HELP_KEYWORDS:
        return ConsentKeyword("help", word)
    return None


def default_help_text(account_name: str | None) -> str:
    """What HELP answers when the account has not written its own help text."""
    who = account_name or "This dealership"
    return f"{who}: text us here any time. Reply STOP to stop receiving texts, START to receive them again."
