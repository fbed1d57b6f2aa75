"""What the admin's settings screens (company, team, carrier) share: only admins get in, and a
refusal from the owning service becomes errors beside the fields of the form that was sent.

The rules themselves (1 to 15 days, who may be demoted, what a Twilio Account SID looks like) are
the owners'; these screens only say, in the person's language, which field they refused."""

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from web.backend import Refused
from web.deps import WebDeps
from web.session import SignedIn


class AdminOnly(Exception):
    """An agent asked for an admin's screen: app.py answers 403 with a page that says so."""


async def signed_in_admin(deps: WebDeps, request: Request) -> SignedIn:
    signed_in = await deps.sessions.signed_in(request)
    if not signed_in.person.is_admin:
        raise AdminOnly()
    return signed_in


@dataclass
class Failed:
    """The form that was refused: its name (which form on the page, e.g. `rename:<team id>`),
    what the person typed (shown again) and an error code per field (`""`: the whole form)."""

    form: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, form: str, name: str, default: Any = "") -> Any:
        return self.values.get(name, default) if self.form == form else default

    def error(self, form: str, name: str = "") -> str:
        return self.errors.get(name, "") if self.form == form else ""

    def any(self, form: str) -> bool:
        return self.form == form and bool(self.errors)


def field_errors(refused: Refused, fields: dict[str, str], fallback: str = "") -> dict[str, str]:
    """The owner's 422/409 as {form field: code}: `fields` maps the API's field names to the
    form's; a refusal naming no known field lands on `fallback` (the whole form) with its code."""
    found: dict[str, str] = {}
    details = refused.details if isinstance(refused.details, list) else []
    for detail in details:
        loc = detail.get("loc") if isinstance(detail, dict) else None
        name = str(loc[-1]) if loc else ""
        if name in fields:
            found.setdefault(fields[name], refused.code if refused.code != "invalid_request" else "invalid")
    if not found:
        found[fallback] = refused.code
    return found


def whole_number(text: str) -> int | None:
    """What was typed in a number box, or None when it is not a whole number."""
    text = text.strip()
    if not text or not (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return None
    return int(text)
