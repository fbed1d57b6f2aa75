"""English and Canadian French: gettext catalogues read with Babel at start-up, and the dates,
relative times and numbers of the person's locale and time zone.

The catalogues are `.po` files only; they are compiled in memory when the process starts, so no
binary `.mo` lives in the repository and a translator's edit needs nothing but a restart."""

import contextvars
import functools
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CATALOGUES = Path(__file__).resolve().parent / "translations"
SUPPORTED = ("en", "fr_CA")
LANGUAGE_NAMES = {"en": "English", "fr_CA": "Français (Canada)"}


@dataclass(frozen=True)
class Localization:
    """What one rendering speaks: the locale, its catalogue and the person's time zone."""

    locale: str
    translations: NullTranslations
    time_zone: ZoneInfo

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)


def load_catalogues() -> dict[str, NullTranslations]:
    loaded: dict[str, NullTranslations] = {"en": NullTranslations()}
    for locale in SUPPORTED[1:]:
        path = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            catalog = read_po(po, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        loaded[locale] = Translations(fp=compiled)
    return loaded


def best_locale(chosen: str | None, accept_language: str | None) -> str:
    """The person's own choice first, then what their browser asks for, then English."""
    if chosen in SUPPORTED:
        return chosen
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if not tag:
            continue
        if tag in SUPPORTED:
            return tag
        if tag.split("_")[0].lower() == "fr":
            return "fr_CA"
        if tag.split("_")[0].lower() == "en":
            return "en"
    return "en"


def time_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


# The template filters below read the rendering's localization from here: `render` sets it just
# before a template renders, in the same task.
current: contextvars.ContextVar[Localization] = contextvars.ContextVar("localization")


def parse_instant(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The list formats the same few hundred instants again on every refresh (a page of 50 rows, a
# few times a second while texts arrive), and Babel parses its patterns and locale data on each
# call: the formatted text is kept per (instant, form, locale, zone[, today]).
_FORMATTED = 20_000


@functools.cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def format_when(value: str | datetime | None, form: str = "medium") -> str:
    if value is None or value == "":
        return ""
    here = current.get()
    return _when(value, form, here.locale, here.time_zone)


@functools.lru_cache(maxsize=_FORMATTED)
def _when(value: str | datetime, form: str, locale: str, zone: ZoneInfo) -> str:
    moment = parse_instant(value)
    if form == "day":
        return _day_and_hour(moment.astimezone(zone), _babel_locale(locale))
    return dates.format_datetime(moment, form, tzinfo=zone, locale=_babel_locale(locale))


def _day_and_hour(local: datetime, locale: Locale) -> str:
    """The whole day and the hour, as a person books it ("mardi 17 octobre 2028, 08 h 00"):
    Babel's "full" would add seconds and the zone's long name, which no one says of an appointment."""
    joined = dates.get_datetime_format("full", locale=locale).replace("'", "")
    hour = dates.format_time(local, "short", locale=locale)
    day = dates.format_date(local, "full", locale=locale)
    return joined.replace("{0}", hour).replace("{1}", day)


def format_ago(value: str | datetime | None, now: datetime | None = None) -> str:
    """ "3 days ago" / "il y a 3 jours"."""
    moment = parse_instant(value)
    if moment is None:
        return ""
    here = current.get()
    delta = moment - (now or datetime.now(UTC))
    return dates.format_timedelta(delta, add_direction=True, threshold=1.0, locale=_babel_locale(here.locale))


def format_short_time(
    value: str | datetime | None, now: datetime | None = None, today: date | None = None
) -> str:
    """A list row's time: the hour today, the day otherwise. `today` (from `today_here`) saves
    working out the day again for each of a list's rows."""
    if value is None or value == "":
        return ""
    here = current.get()
    return _short_time(value, here.locale, here.time_zone, today or today_here(now))


def today_here(now: datetime | None = None) -> date:
    """Today's date in the current person's time zone."""
    return (now or datetime.now(UTC)).astimezone(current.get().time_zone).date()


@functools.lru_cache(maxsize=_FORMATTED)
def _short_time(value: str | datetime, locale: str, zone: ZoneInfo, today: date) -> str:
    local = parse_instant(value).astimezone(zone)
    if local.date() == today:
        return dates.format_time(local, "short", locale=_babel_locale(locale))
    if local.year == today.year:
        return dates.format_skeleton("MMMd", local, locale=_babel_locale(locale))
    return dates.format_date(local, "short", locale=_babel_locale(locale))


def format_number(value: int | float | None) -> str:
    if value is None:
        return ""
    return _number(value, current.get().locale)


@functools.lru_cache(maxsize=_FORMATTED)
def _number(value: int | float, locale: str) -> str:
    return numbers.format_decimal(value, locale=_babel_locale(locale))


def format_date(value: str | datetime | None, form: str = "long") -> str:
    moment = parse_instant(value)
    if moment is None:
        return ""
    here = current.get()
    return dates.format_date(moment.astimezone(here.time_zone), form, locale=_babel_locale(here.locale))


@functools.cache
def html_lang(locale: str) -> str:
    # Babel parses the locale again on every call (~30 µs; every page asks).
    return Locale.parse(locale).language + ("-CA" if locale == "fr_CA" else "")
