"""Who is signed in: the routing token in an HttpOnly, SameSite cookie (never in a URL or in
page script), and the person and dealership it stands for, asked of routing on each page."""

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import Response

from web.backend import Backend, SessionExpired, UserApi
from web.settings import WebSettings

# Why the last session ended, when the person must be told (their dealership was suspended).
ENDED_COOKIE = "sb_ended"


def ended_because(request: Request) -> str | None:
    return "suspended" if request.cookies.get(ENDED_COOKIE) == "suspended" else None


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    role: str
    account_id: str
    team_ids: list[str]
    account_name: str
    time_zone: str
    unanswered_after_hours: int
    teams: list[dict[str, Any]] = field(default_factory=list)
    # The person's own choices in their profile (routing's /me); null: the browser's language,
    # the dealership's zone. `time_zone` above is already the one that applies.
    language: str | None = None
    own_time_zone: str | None = None
    account_time_zone: str = "UTC"
    # Every dealership the person works at (in routing's /me): a dealer group's staff switch
    # between them; most people have one.
    dealerships: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open_dealerships(self) -> list[dict[str, Any]]:
        """The ones they may work in now (this one included): not suspended."""
        return [d for d in self.dealerships if d.get("current") or not d.get("suspended")]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class SignedIn:
    """What a page route receives: the person and the APIs as that person."""

    person: Person
    api: UserApi
    # The answers `person` was made from (routing's /me and account settings, as web keeps them
    # a few seconds): a page's kept shell is valid while they are the same objects.
    answers: tuple[Any, ...] = ()


class Sessions:
    def __init__(self, settings: WebSettings, backend: Backend) -> None:
        self.settings = settings
        self.backend = backend

    def token_of(self, request: Request) -> str:
        token = request.cookies.get(self.settings.session_cookie_name)
        if not token:
            raise SessionExpired()
        return token

    async def signed_in(self, request: Request) -> SignedIn:
        api = self.backend.as_user(self.token_of(request))
        me, account = await asyncio.gather(
            api.get_recent("routing", "/api/v1/me"), api.get_recent("routing", "/api/v1/account/settings")
        )
        person = Person(
            id=me["id"],
            name=me["name"],
            email=me["email"],
            role=me["role"],
            account_id=me["account_id"],
            team_ids=list(me.get("team_ids") or []),
            teams=list(me.get("teams") or []),
            account_name=account["name"],
            time_zone=me.get("time_zone") or account["time_zone"],
            unanswered_after_hours=account["unanswered_after_hours"],
            language=me.get("language"),
            own_time_zone=me.get("time_zone"),
            account_time_zone=account["time_zone"],
            dealerships=list(me.get("dealerships") or []),
        )
        # Every page rendered for this request speaks the person's chosen language.
        request.state.language = person.language
        return SignedIn(person, api, (me, account))

    def start(self, response: Response, token: str) -> None:
        response.delete_cookie(ENDED_COOKIE, path="/")
        response.set_cookie(
            self.settings.session_cookie_name,
            token,
            max_age=self.settings.session_max_age_minutes * 60,
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
            path="/",
        )

    def end(self, response: Response, reason: str | None = None) -> None:
        """`reason` (`suspended`) is remembered a minute, so whichever of the page's requests
        reaches sign-in first, the page says why (a page's parallel calls all fail at once)."""
        if reason == "suspended":
            response.set_cookie(
                ENDED_COOKIE,
                reason,
                max_age=60,
                httponly=True,
                samesite="lax",
                secure=self.settings.cookie_secure,
            )
        response.delete_cookie(
            self.settings.session_cookie_name,
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
            path="/",
        )


def safe_next(target: str | None) -> str:
    """Only a path of this site: `next` must never send a person elsewhere."""
    if not target:
        return "/conversations"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/conversations"
    if "\\" in target:
        return "/conversations"
    return target


def sign_in_address(return_to: str, reason: str | None = None) -> str:
    """`reason`: why the session ended, said plainly on the sign-in page (`suspended`)."""
    address = "/signin?next=" + quote(safe_next(return_to), safe="")
    return address + "&reason=suspended" if reason == "suspended" else address


def page_address(request: Request) -> str:
    """The page the person was on: for an htmx request, the page that made it."""
    current = request.headers.get("hx-current-url")
    if current:
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")
