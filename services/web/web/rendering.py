"""One Jinja2 environment (autoescaped: what people typed is text, never markup) and the one
way a page or a partial is rendered: in the person's language, with the CSRF token and the
flags htmx needs."""

import functools
import secrets
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from cachetools import TTLCache
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from web import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"


def build_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: no file status per template and include on every render
        # (~5 % of a list page's CPU); a change is seen after a restart.
        auto_reload=False,
    )
    environment.install_gettext_callables(
        lambda message: i18n.current.get().gettext(message),
        lambda singular, plural, n: i18n.current.get().ngettext(singular, plural, n),
        newstyle=True,
    )
    # The same "new style" gettext (autoescaped, `%(name)s` filled in and escaped), without the
    # extension's two context-passing wrappers per call: a list page says ~200 strings.
    environment.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
    # A list row's HTML and the view menu's items (the list's hot path): conversation_rows.py and
    # list_menu.py. Imported here because they use this module's gettext.
    from web.conversation_rows import KeptRows, RowWriter
    from web.list_menu import view_menu_items

    kept_rows = KeptRows(most=5_000)  # ~8 MB: the rows of 100 lists, for this environment's pages
    environment.globals.update(
        row_writer=functools.partial(RowWriter, kept=kept_rows), view_menu_items=view_menu_items, later=later
    )
    environment.filters.update(
        when=i18n.format_when,
        ago=i18n.format_ago,
        short_time=i18n.format_short_time,
        number=i18n.format_number,
        date=i18n.format_date,
    )
    return environment


@functools.lru_cache(maxsize=8192)
def _translated(translations: Any, message: str) -> Markup:
    # Our own catalogues' text, trusted as Jinja's gettext trusts it; what fills `%(name)s` is
    # escaped by Markup's `%`.
    return Markup(translations.gettext(message))  # noqa: S704


def gettext(message: str, /, **variables: Any) -> Markup:
    translated = _translated(i18n.current.get().translations, message)
    # `%` always applies in new-style gettext; a string with no `%` in it is its own result.
    return translated % variables if "%" in translated else translated


def ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    # Positional-only: a template's own `n=` or `count=` are variables of the text.
    variables.setdefault("num", num)
    return Markup(i18n.current.get().ngettext(singular, plural, num)) % variables  # noqa: S704


class Record(dict):
    """An object of an API answer for a template that reads it many times (a list's rows):
    `row.name` is found as an attribute at once (the record is its own attribute dictionary),
    where for a plain dict Jinja first tries the attribute, fails with an exception, then the
    key (a tenth of a list page's time). Still a dict for `.get`, `in` and `[...]`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__ = self


@jinja2.pass_context
def later(context: jinja2.runtime.Context, template: str) -> Markup:
    """`{{ later("partials/x.html") }}`: a partial that needs what a backend call answers. Rendered
    in place when the page's context has it; when the page is rendered while that call is on its
    way (`Renderer.render_awaiting`), a marker that is replaced by the partial once it is known."""
    parts: LaterParts | None = context.get("later_parts")
    if parts is None:
        return Markup(context.environment.get_template(template).render(context.get_all()))  # noqa: S704
    return parts.mark(template)


class LaterParts:
    """The partials a page left for later, each where its marker is. A marker is an HTML comment
    with a nonce of this render: nothing a person typed can write it (`<` is always escaped)."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.markers: list[tuple[str, str]] = []
        # Where the request's CSRF token goes (a kept shell serves requests with other tokens).
        self.csrf = Markup(f"<!--csrf {self.nonce}-->")  # noqa: S704 (our own comment)

    def mark(self, template: str) -> Markup:
        marker = f"<!--later {self.nonce} {len(self.markers)}-->"
        self.markers.append((marker, template))
        return Markup(marker)  # noqa: S704 (our own comment, no outside text in it)

    def fill(self, html: str, environment: jinja2.Environment, context: Mapping[str, Any]) -> str:
        for marker, template in self.markers:
            html = html.replace(marker, environment.get_template(template).render(context), 1)
        return html


@dataclass(frozen=True)
class ShellKey:
    """What a page's shell (all of it but its `later(...)` parts) is made of, for
    `Renderer.render_awaiting` to keep it a few seconds. `request`: what the request says (the
    person's session, the page's address and the headers that change it); `answers`: the backend
    answers it was made from, which web keeps a few seconds (the person, the staff directory). A
    kept shell is used again only while those are the very same objects: when web asks again
    (they expired, or the person changed something and `UserApi.forget_recent` dropped them),
    the shell is made again from the new ones."""

    request: Hashable
    answers: tuple[object, ...]


@dataclass(frozen=True)
class LaterAnswer:
    """What a page's `later(...)` parts are made from, as the backend sent it: its bytes
    (`content`) and how the parts read them (`read`, e.g. JSON into rows). A kept shell filled
    from the same bytes on the same day is the same page, kept with the shell (`KeptShell.filled`):
    a list shown again while nothing in it changed (a live refresh after a change elsewhere, a
    reload) is not decoded nor written again."""

    content: bytes
    read: Callable[[bytes], Mapping[str, Any]]


@dataclass(frozen=True)
class FilledPage:
    content: bytes
    today: object
    # The page's bytes around its CSRF token's places: a page is ~65 KB of text that is not all
    # Latin-1, which costs ~0.1 ms to search and encode again; joining the pieces, ~2 µs.
    pieces: list[bytes]


@dataclass(frozen=True)
class KeptShell:
    answers: tuple[object, ...]
    html: str
    parts: LaterParts
    # The last page made from this shell (its CSRF token left out), by `LaterAnswer.content`:
    # with the shell, ~100 KB for a list page (500 shells kept at most).
    filled: dict[str, FilledPage] = field(default_factory=dict, compare=False)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


class Renderer:
    def __init__(
        self,
        environment: jinja2.Environment,
        catalogues: Mapping[str, Any],
        shells_kept_seconds: float = 10.0,
    ) -> None:
        self.environment = environment
        self.catalogues = catalogues
        # Shells of pages shown again and again (a list's live refresh, a few times a second
        # while texts arrive), by `ShellKey`; ~20 KB each.
        self.shells: TTLCache[Hashable, KeptShell] = TTLCache(maxsize=500, ttl=shells_kept_seconds)

    def localization(self, request: Request, time_zone: str | None = None) -> i18n.Localization:
        # A signed-in person's own choice (set by `Sessions.signed_in`) over the cookie.
        chosen = getattr(request.state, "language", None) or request.cookies.get("sb_lang")
        locale = i18n.best_locale(chosen, request.headers.get("accept-language"))
        return i18n.Localization(locale, self.catalogues[locale], i18n.time_zone(time_zone))

    def render_string(
        self, template: str, context: Mapping[str, Any], localization: i18n.Localization
    ) -> str:
        """A fragment for something other than an HTTP answer (a live event's data)."""
        token = i18n.current.set(localization)
        try:
            return self.environment.get_template(template).render(locale=localization.locale, **context)
        finally:
            i18n.current.reset(token)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        time_zone: str | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        localization = self.localization(request, time_zone)
        token = i18n.current.set(localization)
        try:
            html = self.environment.get_template(template).render(
                self._page_context(request, localization, context)
            )
        finally:
            i18n.current.reset(token)
        return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))

    async def render_awaiting(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
        rest: Awaitable[Mapping[str, Any] | LaterAnswer],
        *,
        time_zone: str | None = None,
        shell_key: ShellKey | None = None,
    ) -> HTMLResponse:
        """`template` rendered while `rest` (the rest of its context: a backend call's answer)
        is still on its way; the parts that need it (`later(...)`) are rendered once it comes.
        The page's shell then costs nothing on the way: routing answers meanwhile. What `rest`
        raises is raised here (nothing is sent before it is known).

        With `shell_key`, the shell is kept a few seconds and used again for the same key while
        its answers are the same objects (`ShellKey`): the caller's key must name everything
        the shell shows that is not in those answers (the language, the time zone and whether
        htmx asks are added here; the CSRF token is the request's own, put in every time). When
        `rest` gives a `LaterAnswer`, the page filled from a kept shell is kept with it, and
        used again while the answer's bytes and the day (where the person is) are the same:
        what the parts show must follow from those, the shell key and the context.

        `context` may be a function that makes it: it is then made only when something is
        rendered (not for a kept shell filled from the same answer as before)."""
        localization = self.localization(request, time_zone)
        made = _PageContext(self._page_context(request, localization, {}), context)
        shell = self._shell(template, made, localization, shell_key)
        csrf_token = str(escape(made.request_values["csrf_token"]))
        answer = await rest
        token = i18n.current.set(localization)
        try:
            pieces = self._filled(shell, answer, made, localization, kept=shell_key is not None)
        finally:
            i18n.current.reset(token)
        return HTMLResponse(csrf_token.encode().join(pieces))

    def _filled(
        self,
        shell: KeptShell,
        answer: Mapping[str, Any] | LaterAnswer,
        made: "_PageContext",
        localization: i18n.Localization,
        *,
        kept: bool,
    ) -> list[bytes]:
        """The page's bytes around the places of its CSRF token: the shell with its later parts,
        which are rendered with the token's marker too (a kept page never holds another
        request's token)."""
        marker = shell.parts.csrf
        if not isinstance(answer, LaterAnswer):
            page_context = made.whole()
            page_context.update(answer, csrf_token=marker)
            return (
                shell.parts.fill(shell.html, self.environment, page_context).encode().split(marker.encode())
            )
        today = datetime.now(localization.time_zone).date()
        last = shell.filled.get("page")
        if kept and last is not None and last.today == today and last.content == answer.content:
            return last.pieces
        page_context = made.whole()
        page_context.update(answer.read(answer.content), csrf_token=marker)
        html = shell.parts.fill(shell.html, self.environment, page_context)
        pieces = html.encode().split(marker.encode())
        if kept:
            shell.filled["page"] = FilledPage(answer.content, today, pieces)
        return pieces

    def _shell(
        self,
        template: str,
        made: "_PageContext",
        localization: i18n.Localization,
        shell_key: ShellKey | None,
    ) -> KeptShell:
        key = None
        if shell_key is not None:
            key = (
                shell_key.request,
                template,
                localization.locale,
                localization.time_zone.key,
                made.request_values["htmx"],
            )
            kept = self.shells.get(key)
            if kept is not None and _same_objects(kept.answers, shell_key.answers):
                return kept
        parts = LaterParts()
        token = i18n.current.set(localization)
        try:
            html = self.environment.get_template(template).render(
                made.whole(), later_parts=parts, csrf_token=parts.csrf
            )
        finally:
            i18n.current.reset(token)
        shell = KeptShell(shell_key.answers if shell_key else (), html, parts)
        if key is not None:
            self.shells[key] = shell
        return shell

    def _page_context(
        self, request: Request, localization: i18n.Localization, context: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "request": request,
            "csrf_token": request.scope["csrftoken"](),
            "locale": localization.locale,
            "html_lang": i18n.html_lang(localization.locale),
            "languages": i18n.LANGUAGE_NAMES,
            "htmx": is_htmx(request),
            **context,
        }


class _PageContext:
    """A page's context for `render_awaiting`: what the request says (made at once: every
    request asks for its CSRF token) and the caller's context, made when first needed."""

    def __init__(
        self, request_values: dict[str, Any], context: Mapping[str, Any] | Callable[[], Mapping[str, Any]]
    ) -> None:
        self.request_values = request_values
        self.context = context
        self.made: dict[str, Any] | None = None

    def whole(self) -> dict[str, Any]:
        if self.made is None:
            context = self.context() if callable(self.context) else self.context
            self.made = {**self.request_values, **context}
        return self.made


def _same_objects(kept: tuple[object, ...], now: tuple[object, ...]) -> bool:
    return len(kept) == len(now) and all(a is b for a, b in zip(kept, now, strict=True))
