"""The whole system for the browser tests: its own database and topics, the six services as
real processes, the carrier simulator and an SMTP sink; Debian's Chromium driven by Playwright
(no browser download, see ../shared/notes/browser-tests.md); axe-core from npm."""

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from devtools import demo
from devtools.migrate import migrate_all
from devtools.processes import SERVICES, ServiceProcess, start_services, stop_services
from devtools.seed import seed_demo
from shared.testing.chromium import CHROMIUM, CHROMIUM_ARGS
from shared.testing.infrastructure import ROOT, fresh_database
from shared.testing.ports import free_ports_for
from shared.testing.topic_prefixes import new_topic_prefix

AXE = ROOT / "services/web/node_modules/axe-core/axe.min.js"
# Screenshots of each main screen, kept as artefacts (named in the README).
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "build/screenshots"))

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed test's report says where its page was and what it showed (CI keeps only the
    log): a flake seen once can then be told from a timing in the test or a fault on the page."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or page is None or page.is_closed():
        return
    try:
        shown = page.locator("body").inner_text(timeout=2000)[:2000]
    except Exception as exc:  # the report must not fail on a page that cannot be read
        shown = f"(the page could not be read: {exc})"
    report.sections.append(("the page when the test failed", f"{page.url}\n{shown}"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class System:
    web: str
    routing: str
    simulator: str
    mail_dir: Path
    services: dict[str, ServiceProcess]

    def text_in(self, from_number: str, body: str) -> None:
        """A customer texts the demo dealership, through the simulator's signed Twilio webhook."""
        answer = httpx.post(
            f"{self.simulator}/simulate/sms", json={"from": from_number, "body": body}, timeout=10
        )
        answer.raise_for_status()
        assert answer.json()["ingest_status"] == 200, answer.text

    def restart(self, name: str, down_for: float = 0.0) -> None:
        """Stops a service (a deploy, a crash) and starts it again on the same port."""
        service = self.services[name]
        service.stop()
        time.sleep(down_for)
        service.start()
        service.wait_ready()

    def token(self, email: str = demo.ADMIN_EMAIL) -> str:
        answer = httpx.post(
            f"{self.routing}/api/v1/auth/login", json={"email": email, "password": demo.PASSWORD}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def api(self, method: str, path: str, email: str = demo.ADMIN_EMAIL, **kwargs) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token(email)}"}
        return httpx.request(method, f"{self.routing}{path}", headers=headers, timeout=10, **kwargs)


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session")
def system(
    infrastructure: None, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    logs = Path(tmp_path_factory.mktemp("browser-system"))
    names = [*SERVICES, "simulator", "smtp"]
    ports = free_ports_for(names)
    helpers = []

    def prepare(url: str) -> None:
        migrate_all(url)
        asyncio.run(seed_demo(url))

    # Playwright's sync API keeps an event loop running in this thread: the database is made
    # (and dropped) from another one.
    database = fresh_database("sbweb", prepare)
    database_url = in_thread(database.__enter__)
    try:
        simulator_url = f"http://127.0.0.1:{ports['simulator']}"
        mail_dir = logs / "mail"
        helpers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devtools.smtp_sink",
                    "--port",
                    str(ports["smtp"]),
                    "--dir",
                    str(mail_dir),
                ],
                cwd=ROOT,
                stdout=(logs / "smtp.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools.carrier_simulator",
                "serve",
                "--port",
                str(ports["simulator"]),
                "--ingest-url",
                f"http://127.0.0.1:{ports['ingest']}",
                "--callback-delay",
                "0.3",
            ],
            cwd=ROOT,
            stdout=(logs / "simulator.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        helpers.append(simulator)
        env = {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": new_topic_prefix("w"),
            "KAFKA_PARTITIONS": "2",
            "LOG_FORMAT": "json",
            "SHUTDOWN_GRACE_SECONDS": "3",
            "SMTP_PORT": str(ports["smtp"]),
            "TWILIO_API_BASE_URL": simulator_url,
            "TELNYX_API_BASE_URL": simulator_url,
            "CARRIER_CALLBACK_BASE_URL": f"http://127.0.0.1:{ports['ingest']}",
            "STORAGE_DIR": str(logs / "exports"),
            # Invitation and password-reset e-mails link to this web inbox.
            "APP_BASE_URL": f"http://127.0.0.1:{ports['web']}",
            # The topics are new: the live feed reads them from their start.
            "LIVE_CONSUMER_OFFSET_RESET": "earliest",
        }
        service_ports = {name: ports[name] for name in SERVICES}
        started: dict[str, ServiceProcess] = {}
        try:
            _wait_for(f"{simulator_url}/simulate/sent", simulator)
            started = start_services(env, logs, service_ports)
            yield System(
                web=started["web"].url,
                routing=started["routing"].url,
                simulator=simulator_url,
                mail_dir=mail_dir,
                services=started,
            )
        finally:
            stop_services(started)
            for helper in helpers:
                helper.terminate()
                helper.wait(10)
    finally:
        in_thread(database.__exit__, None, None, None)


def in_thread(function, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(autouse=True)
def demo_profiles_as_seeded(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with the demo staff's profiles as seeded (no language or time zone of
    their own): a test that switches someone to French must not turn the next one French."""
    yield
    if "system" not in request.fixturenames:
        return
    system: System = request.getfixturevalue("system")
    for email in (demo.ADMIN_EMAIL, demo.AGENT_EMAIL):
        system.api("PATCH", "/api/v1/me", email=email, json={"language": None, "time_zone": None})


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict, system: System) -> dict:
    return {**browser_context_args, "base_url": system.web, "viewport": {"width": 1280, "height": 800}}


class PageProblems:
    """What the browser reported that a person would not see: CSP refusals, script errors."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.messages.append(message.text)

    def page_error(self, error: Exception) -> None:
        self.messages.append(f"page error: {error}")


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    # Injected by the browser itself before any page script, so the page's CSP does not apply.
    context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def problems(page: Page) -> Iterator[PageProblems]:
    seen = PageProblems()
    page.on("console", seen.console)
    page.on("pageerror", seen.page_error)
    yield seen
    assert not [m for m in seen.messages if "Content Security Policy" in m], seen.messages


def sign_in(
    page: Page, email: str = demo.ADMIN_EMAIL, password: str = demo.PASSWORD, then: str = "/conversations"
) -> None:
    page.goto(then)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{then.split('?')[0]}**")


def new_signed_in_page(browser: Browser, system: System, email: str, locale: str = "en-CA") -> Page:
    """A second person in their own browser context (live and "is replying" tests)."""
    context = browser.new_context(base_url=system.web, viewport={"width": 1280, "height": 800}, locale=locale)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    sign_in(page, email)
    return page


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:200] for n in v["nodes"][:3]]}
        for v in violations
        if v["impact"] in impacts
    ]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def unique_number(last_four: str | None = None) -> str:
    """A customer number no other test uses; its last four digits stay clear of the simulator's
    failure numbers (devtools/carrier_simulator/failures.py) unless `last_four` picks one."""
    if last_four:
        return f"+1514{secrets.randbelow(1000):03d}{last_four}"
    return f"+1514{secrets.randbelow(1000):03d}{5000 + secrets.randbelow(5000)}"
