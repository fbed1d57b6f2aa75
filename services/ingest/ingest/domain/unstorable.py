"""PostgreSQL keeps no NUL character (U+0000) in text or JSON: an authentic webhook or DMS event
carrying one in any field would fail every service that stores it (a 500 here, a dead letter
downstream). Carriers and DMSs never send one, so such an event is unusable: refused with its
reason and kept as rejected (its payload is the form URL-encoded or the JSON text, where the NUL
is an escape sequence)."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

NUL = "\x00"
Event = TypeVar("Event", bound=BaseModel)


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False


def without_nul(event: Event) -> Event:
    """The event, or ValueError naming the first field that carries a NUL."""
    for name, value in event.model_dump().items():
        if has_nul(value):
            raise ValueError(f"{name} contains the NUL character")
    return event


def without_nul_from(event: Event, form: Mapping[str, str]) -> Event:
    """without_nul for an event whose every text comes from `form` (a carrier's form post: its
    names and values, or what our code made of them): with no NUL in the form there is none in
    the event, and the form is checked in well under 1 µs (two joins searched in C) where the
    event's dump and walk took ~7."""
    if NUL in "".join(form) or NUL in "".join(form.values()):
        return without_nul(event)
    return event
