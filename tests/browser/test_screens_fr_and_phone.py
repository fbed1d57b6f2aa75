"""Every screen of the web inbox's part two (appointments, campaigns and their results, the
customer profile, company settings, teams and users, saved replies, carrier setup, my profile), in
English and in Canadian French, on a phone (390 px wide):

- what a person reads there is in their language, and a date or time on it in their language and
  their own time zone (Tokyo here, far from the dealership's), computed here with Babel from the
  same instant;
- nothing is cut off or sticks out sideways (measured in the page: the document's width, and no
  visible element of the screen past the right edge), the screen's main control is on screen;
- the main control is reached with Tab and works with Enter or Space;
- axe-core finds no serious or critical violation.

A screenshot of each (`build/screenshots/<screen>-<language>-390.png`) is kept to be looked at."""

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel import dates
from playwright.sync_api import Locator, Page, expect

from devtools import demo
from tests.browser.conftest import System, axe_violations, screenshot, sign_in, unique_number
from tests.browser.test_appointments import account_zone, booked
from tests.browser.test_sources import sent_from

PHONE = {"width": 390, "height": 844}
ZONE = "Asia/Tokyo"  # the person's own zone; the demo dealership is in North America
BABEL = {"en": "en", "fr": "fr_CA"}  # the web inbox's own two locales


@dataclass
class World:
    """What the screens show: arranged once through the system's own doors."""

    appointment: dict[str, Any]
    appointment_day: datetime
    campaign: dict[str, Any]
    reached: dict[str, Any]
    invitation: dict[str, Any] | None
    carrier_updated_at: str | None


@pytest.fixture(scope="module")
def world(system: System) -> World:
    zone = account_zone(system)
    day = (datetime.now(zone) + timedelta(days=1200 + secrets.randbelow(300))).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    appointment = booked(system, "Zoé", "Lapointe", unique_number(), day, "Inspection")
    campaign = {
        "kind": "campaign",
        "id": f"camp-{secrets.token_hex(4)}",
        "name": "Pneus d'hiver / Winter tires",
    }
    sent_from(system, campaign, unique_number(), "Winter tires are in / Les pneus d'hiver sont arrivés")
    reached = system.api("GET", f"/api/v1/sources/campaign/{campaign['id']}/customers").json()["items"][0]
    invited = system.api(
        "POST",
        "/api/v1/invitations",
        json={
            "email": f"new-{secrets.token_hex(3)}@demo.switchboard.test",
            "name": "Noé Invité",
            "role": "agent",
        },
    )
    token = system.token()
    carriers = httpx.get(
        f"{system.services['notifier'].url}/api/v1/carrier-accounts",
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    twilio = next((c for c in carriers if c["carrier"] == "twilio"), None)
    return World(
        appointment=appointment,
        appointment_day=day,
        campaign=campaign,
        reached=reached,
        invitation=invited.json() if invited.status_code == 201 else None,
        carrier_updated_at=twilio["updated_at"] if twilio else None,
    )


@pytest.fixture
def in_language(system: System, request: pytest.FixtureRequest) -> Iterator[str]:
    """The admin's own language and a time zone of their own, for this test only."""
    language = request.param
    answer = system.api(
        "PATCH", "/api/v1/me", json={"language": "fr_CA" if language == "fr" else "en", "time_zone": ZONE}
    )
    answer.raise_for_status()
    yield language
    # conftest's demo_profiles_as_seeded puts the profile back.


def when(value: str, form: str, language: str) -> str:
    """An instant as the page writes it for this person (their language, their zone)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dates.format_datetime(moment, form, tzinfo=ZoneInfo(ZONE), locale=BABEL[language])


def flexible(text: str) -> re.Pattern[str]:
    """`text` with any kind of space where it has one (Babel and the page may differ in which
    space, e.g. a narrow no-break space before AM or in "10 h 00")."""
    return re.compile(r"\s".join(re.escape(part) for part in re.split(r"\s+", text)))


@dataclass
class Screen:
    name: str
    path: Callable[[World], str]
    heading: dict[str, str]
    texts: dict[str, list[str]]
    # The screen's main control, and what operating it by keyboard shows.
    control: Callable[[Page, str], Locator]
    key: str
    after: Callable[[Page, str, World], None]
    # Dates or times on the screen: (what the page shows, what it should say) per language.
    times: Callable[[Page, str, World], list[tuple[Locator, str]]] = field(
        default=lambda page, language, world: []
    )
    # What the phone's layout must still say (e.g. a table's column names, its head hidden).
    on_phone: Callable[[Page, str], None] = field(default=lambda page, language: None)


def _t(en: str, fr: str) -> dict[str, str]:
    return {"en": en, "fr": fr}


def appointment_times(page: Page, language: str, world: World) -> list[tuple[Locator, str]]:
    # Appointments are the dealership's: its day and clock (the person's own zone does not move
    # a customer's 10 o'clock).
    day = world.appointment_day
    return [
        (page.locator(".day-heading"), dates.format_date(day, "full", locale=BABEL[language])),
        (page.locator(".appointment-time").first, dates.format_time(day, "short", locale=BABEL[language])),
    ]


def results_times(page: Page, language: str, world: World) -> list[tuple[Locator, str]]:
    return [(page.locator(".reached-when").first, when(world.reached["sent_at"], "short", language))]


def customer_times(page: Page, language: str, world: World) -> list[tuple[Locator, str]]:
    shown = page.locator(".customer-conversation time").first
    return [(shown, when(shown.get_attribute("datetime") or "", "short", language))]


def team_times(page: Page, language: str, world: World) -> list[tuple[Locator, str]]:
    if not world.invitation or not world.invitation.get("expires_at"):
        return []
    row = page.locator("#invite li").filter(has_text="Noé Invité")
    return [(row, when(world.invitation["expires_at"], "medium", language))]


def carrier_times(page: Page, language: str, world: World) -> list[tuple[Locator, str]]:
    if not world.carrier_updated_at:
        return []
    return [(page.locator(".status-table"), when(world.carrier_updated_at, "medium", language))]


def column_names_on_a_phone(page: Page, language: str) -> None:
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll(".sources-table tbody tr:first-child td"))
             .map((cell) => getComputedStyle(cell, "::before").content)"""
    )
    expected = _t("Customers reached", "Clients joints")[language]
    assert f'"{expected}"' in shown, shown


def opened_appointment(page: Page, language: str, world: World) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"appointment={world.appointment['id']}")))
    expect(page.get_by_role("heading", name="Zoé Lapointe", level=2)).to_be_visible()
    expect(page.get_by_role("button", name=_t("Send", "Envoyer")[language])).to_be_in_viewport()


def opened_results(page: Page, language: str, world: World) -> None:
    expect(page.get_by_role("heading", name=world.campaign["name"], level=1)).to_be_visible()


def opened_reached(page: Page, language: str, world: World) -> None:
    expect(page.locator("#conversation-pane .timeline")).to_contain_text("Winter tires are in")
    expect(page.locator("#composer-body")).to_be_visible()


def opened_profile_tab(page: Page, language: str, world: World) -> None:
    expect(page.get_by_role("heading", name=_t("Identity", "Identité")[language])).to_be_visible()


def settings_updated(page: Page, language: str, world: World) -> None:
    expect(page.get_by_role("status")).to_have_text(
        _t("Settings updated.", "Paramètres mis à jour.")[language]
    )


def team_name_required(page: Page, language: str, world: World) -> None:
    expect(page.locator("#new-team-name-error")).to_have_text(
        flexible(_t("⚠ This is required.", "⚠ Ce champ est obligatoire.")[language].removeprefix("⚠ "))
    )
    expect(page.locator("#new-team-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-team-name")).to_be_focused()


def placeholder_inserted(page: Page, language: str, world: World) -> None:
    expect(page.locator("#reply-body")).to_have_value("{{ customer.first_name }}")
    expect(page.locator("#reply-body")).to_be_focused()


def connection_tested(page: Page, language: str, world: World) -> None:
    expect(page.locator("#status [role=status]")).to_have_text(
        flexible(
            _t(
                "Connected: Twilio accepted the credentials.", "Connecté : Twilio a accepté les identifiants."
            )[language]
        )
    )


def profile_saved(page: Page, language: str, world: World) -> None:
    expect(page.get_by_role("status")).to_have_text(
        _t("Your profile was saved.", "Votre profil a été enregistré.")[language]
    )


SCREENS = [
    Screen(
        "appointments",
        lambda w: f"/appointments?date={w.appointment_day.date().isoformat()}",
        _t("Appointments", "Rendez-vous"),
        {
            "en": ["Next day", "1 customer coming in", "Inspection"],
            "fr": ["Jour suivant", "1 client attendu", "Inspection"],
        },
        lambda page, language: page.locator(".appointment-row a").first,
        "Enter",
        opened_appointment,
        appointment_times,
    ),
    Screen(
        "campaigns",
        lambda w: "/campaigns",
        _t("Campaigns", "Campagnes"),
        {"en": ["View results"], "fr": ["Voir les résultats"]},
        lambda page, language: (
            page.get_by_role("row")
            .filter(has_text="Pneus d'hiver / Winter tires")
            .get_by_role("link", name=_t("View results", "Voir les résultats")[language])
        ),
        "Enter",
        opened_results,
        on_phone=column_names_on_a_phone,
    ),
    Screen(
        "campaign-results",
        lambda w: f"/campaigns/{w.campaign['id']}",
        {"en": "Pneus d'hiver / Winter tires", "fr": "Pneus d'hiver / Winter tires"},
        {"en": ["1 customer reached", "Campaigns"], "fr": ["1 client joint", "Campagnes"]},
        lambda page, language: page.locator(".reached-row a").first,
        "Enter",
        opened_reached,
        results_times,
    ),
    Screen(
        "customer-profile",
        lambda w: f"/customers/{w.reached['customer_id']}?tab=conversations",
        {"en": "", "fr": ""},
        {"en": ["Active conversation", "Last activity"], "fr": ["Conversation active", "Dernière activité"]},
        lambda page, language: page.get_by_role("link", name=_t("Profile", "Profil")[language], exact=True),
        "Enter",
        opened_profile_tab,
        customer_times,
    ),
    Screen(
        "company-settings",
        lambda w: "/settings/company",
        _t("Company settings", "Paramètres de l'entreprise"),
        {
            "en": ["The dealership's numbers", "Add a number"],
            "fr": ["Les numéros du concessionnaire", "Ajouter un numéro"],
        },
        lambda page, language: page.get_by_role("button", name=_t("Update", "Mettre à jour")[language]),
        "Enter",
        settings_updated,
    ),
    Screen(
        "team",
        lambda w: "/settings/team",
        _t("Teams and users", "Équipes et utilisateurs"),
        {
            "en": ["Users", "Invite a user", "Pending invitations"],
            "fr": ["Utilisateurs", "Inviter un utilisateur", "Invitations en attente"],
        },
        lambda page, language: page.get_by_role("button", name=_t("Create team", "Créer l'équipe")[language]),
        "Space",
        team_name_required,
        team_times,
    ),
    Screen(
        "saved-replies",
        lambda w: "/saved-replies",
        _t("Saved replies", "Réponses enregistrées"),
        {"en": ["New saved reply", "Preview"], "fr": ["Nouvelle réponse enregistrée", "Aperçu"]},
        lambda page, language: page.get_by_role(
            "button", name=_t("Customer's first name", "Prénom du client")[language]
        ),
        "Enter",
        placeholder_inserted,
    ),
    Screen(
        "carrier-setup",
        lambda w: "/settings/carrier?carrier=twilio",
        _t("Carrier setup", "Configuration du fournisseur"),
        {"en": ["Account SID", "Auth token"], "fr": ["Account SID", "Jeton d'authentification"]},
        lambda page, language: page.get_by_role(
            "button", name=_t("Test the connection", "Tester la connexion")[language]
        ),
        "Enter",
        connection_tested,
        carrier_times,
    ),
    Screen(
        "my-profile",
        lambda w: "/profile",
        _t("My profile", "Mon profil"),
        {"en": ["Language", "Time zone"], "fr": ["Langue", "Fuseau horaire"]},
        lambda page, language: page.get_by_role(
            "button", name=_t("Save", "Enregistrer")[language], exact=True
        ),
        "Enter",
        profile_saved,
    ),
]

# Words of the English interface that a French screen must not show.
ENGLISH_UI = [
    "Save",
    "Update",
    "Preview",
    "Users",
    "Language",
    "Time zone",
    "View results",
    "Appointments",
    "Send",
    "Delete",
    "Cancel",
    "Remove",
    "Edit",
    "Previous day",
    "Next day",
    "Delivered",
    "Not delivered",
    "Last activity",
    "Team name",
    "Full name",
]

OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const element of document.querySelectorAll("main *")) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    // What a closed <details> holds is not shown (Chromium still lays it out).
    const closed = element.closest("details:not([open])");
    if (closed && !element.closest("summary")) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || style.clipPath.startsWith("inset")) continue;
    // Inside something that scrolls or clips on purpose (a timeline, a table's own scroller).
    let clipped = false;
    for (let up = element.parentElement; up && up.tagName !== "MAIN"; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== "visible") { clipped = true; break; }
    }
    if (!clipped && (box.right > width + 1 || box.left < -1)) {
      const name = `${element.tagName.toLowerCase()}.${element.className}`;
      found.push(`${name} ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  const root = document.documentElement;
  return {width, scrollWidth: root.scrollWidth, bodyScrollWidth: document.body.scrollWidth, found};
}"""


def tab_to(page: Page, control: Locator, limit: int = 120) -> int:
    """Presses Tab from the top of the page until `control` has the focus; how many presses."""
    control.wait_for()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    handle = control.element_handle()
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(element) => document.activeElement === element", handle):
            return presses
    raise AssertionError(f"{control} not reached with {limit} presses of Tab")


@pytest.mark.parametrize("in_language", ["en", "fr"], indirect=True)
@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_screen_in_language_on_a_phone_by_keyboard(
    page: Page, system: System, world: World, screen: Screen, in_language: str, problems
) -> None:
    language = in_language
    page.set_viewport_size(PHONE)
    sign_in(page, then=screen.path(world))
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA" if language == "fr" else re.compile("^en"))

    # What the person reads, in their language.
    if screen.heading[language]:
        expect(page.get_by_role("heading", level=1)).to_have_text(screen.heading[language])
    main = page.locator("main")
    for text in screen.texts[language]:
        expect(main).to_contain_text(flexible(text))
    if language == "fr":
        # The screen's own words are French (names typed by people or systems may not be).
        text = main.inner_text()
        left = [word for word in ENGLISH_UI if re.search(rf"\b{re.escape(word)}\b", text)]
        assert left == [], left
    for where, expected in screen.times(page, language, world):
        expect(where).to_contain_text(flexible(expected))

    # A phone's width: nothing wider than the screen, the main control on it.
    layout = page.evaluate(OVERFLOWING)
    assert layout["scrollWidth"] <= PHONE["width"], layout
    assert layout["bodyScrollWidth"] <= PHONE["width"], layout
    assert layout["found"] == [], layout
    screen.on_phone(page, language)
    control = screen.control(page, language)
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["height"] >= 24, box  # big enough to hit with a thumb

    assert axe_violations(page) == []
    screenshot(page, f"{screen.name}-{language}-390")

    # By keyboard alone: Tab to the control, operate it.
    tab_to(page, control)
    page.keyboard.press(screen.key)
    screen.after(page, language, world)
    assert axe_violations(page) == []


@pytest.fixture(autouse=True)
def admin_back_in_english(system: System) -> Iterator[None]:
    yield
    system.api("PATCH", "/api/v1/me", email=demo.ADMIN_EMAIL, json={"language": None, "time_zone": None})
