"""@mention suggestions for internal notes. Routing resolves what a note mentions
(services/routing/routing/domain/mentions.py): "@First Last", "@first" or "@email-local-part",
each only when it names exactly one colleague. We offer the full name, or the e-mail's local
part when two colleagues share that name, so what the person picks is always understood."""

import re
from typing import Any

# The "@word" being typed at the end of the text; an "@" inside a word (an e-mail address) is
# not a mention, as routing reads it.
_TYPING = re.compile(r"(?:^|[^\w.\-])@([\w.\-]*)$")
MAX_SUGGESTIONS = 6


def mention_query(text: str) -> str | None:
    """What follows the "@" being typed, or None when the text does not end in a mention."""
    found = _TYPING.search(text)
    return found.group(1) if found else None


def mention_handle(user: dict[str, Any], users: list[dict[str, Any]]) -> str:
    name = user["name"].strip()
    namesakes = [u for u in users if u["name"].strip().casefold() == name.casefold()]
    return "@" + (name if name and len(namesakes) == 1 else user["email"].split("@", 1)[0])


def suggestions(query: str, users: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """Active colleagues (not me) whose name, a word of it, or e-mail starts with `query`."""
    wanted = query.casefold()
    found = []
    for user in users:
        if not user.get("active", True) or str(user["id"]) == me:
            continue
        words = [user["name"].casefold(), *user["name"].casefold().split(), user["email"].casefold()]
        if any(word.startswith(wanted) for word in words):
            found.append({**user, "handle": mention_handle(user, users)})
    return sorted(found, key=lambda u: u["name"].casefold())[:MAX_SUGGESTIONS]
