"""@mentions in internal notes: "@Sam Agent" (the user's name), "@sam" (the first word of the
name, when only one colleague has it) or "@agent" (the local part of the e-mail address)."""

import re
from dataclasses import dataclass
from uuid import UUID

_BOUNDARY = re.compile(r"[\w.\-]")


@dataclass(frozen=True)
class Colleague:
    id: UUID
    name: str
    email: str


def mention_handles(colleagues: list[Colleague]) -> dict[str, UUID]:
    """Every handle (lower case) that names exactly one colleague."""
    owners: dict[str, set[UUID]] = {}
    for colleague in colleagues:
        handles = {colleague.name.strip(), colleague.email.split("@", 1)[0]}
        first = colleague.name.strip().split(" ", 1)[0] if colleague.name.strip() else ""
        if first:
            handles.add(first)
        for handle in handles:
            if handle:
                owners.setdefault(handle.casefold(), set()).add(colleague.id)
    return {handle: next(iter(ids)) for handle, ids in owners.items() if len(ids) == 1}


def find_mentions(text: str, colleagues: list[Colleague]) -> list[UUID]:
    """The colleagues mentioned in `text`, each once, in order of first mention. At each "@"
    the longest handle wins ("@Sam Agent" over "@Sam"); an "@" inside a word (an e-mail
    address) is not a mention, nor is a handle followed by more of a word ("@samuel")."""
    handles = sorted(mention_handles(colleagues).items(), key=lambda item: -len(item[0]))
    folded = text.casefold()
    found: list[UUID] = []
    for match in re.finditer("@", text):
        start = match.start()
        if start > 0 and _BOUNDARY.match(text[start - 1]):
            continue
        rest = folded[start + 1 :]
        for handle, user_id in handles:
            if not rest.startswith(handle):
                continue
            after = rest[len(handle) : len(handle) + 1]
            # A trailing "." ends a sentence, not the handle.
            if after and _BOUNDARY.match(after) and after not in ".-":
                continue
            if after in ".-" and after and rest[len(handle) + 1 : len(handle) + 2].isalnum():
                continue
            if user_id not in found:
                found.append(user_id)
            break
    return found
