"""The image (Containerfile) runs Switchboard (issue 15, item 2): built with `infra/image.sh` (as
`make image` does), under the size budget, and every process started from it as uid 10001 with
`buildah run --isolation chroot` (what runs containers on this kind of machine, see
infra/image.sh) against the suite's Kafka and PostgreSQL: the migrations from the image, each
service's /readyz, one signed inbound text through ingest → Kafka → routing → search, the web
inbox's npm libraries, `python -m search rebuild`; and nothing written outside /tmp (the
Deployments run with a read-only root filesystem and /tmp as an emptyDir).

Skipped, with the reason, where no builder can run (no podman/buildah, or buildah refuses here)."""

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from devtools import demo
from devtools.carrier_simulator.twilio import inbound_sms_form, post_inbound
from devtools.processes import SERVICES, ServiceProcess, service_urls, stop_services
from devtools.seed import seed_demo
from shared.testing.infrastructure import fresh_database
from shared.testing.ports import free_ports_for
from shared.testing.waiting import eventually
from tests.e2e.clients import login

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("SWITCHBOARD_TEST_IMAGE", "localhost/switchboard:test")
UID = "10001"
SIZE_BUDGET = 400_000_000

pytestmark = pytest.mark.e2e


def _why_not() -> str | None:
    """Why the image cannot be built and run here, or None."""
    if not (shutil.which("podman") or shutil.which("buildah")):
        return "no podman or buildah here (`make image` installs them from Debian when run as root)"
    if not shutil.which("buildah"):
        return "the image's processes are run with `buildah run`, and buildah is not installed"
    info = subprocess.run(["buildah", "info"], capture_output=True, text=True, check=False, timeout=60)
    if info.returncode != 0:
        return f"buildah cannot run here: {info.stderr.strip()[:200]}"
    if (
        not os.environ.get("BASE_IMAGE")
        and not shutil.which("mmdebstrap")
        and os.getuid() != 0
        and subprocess.run(
            ["buildah", "inspect", "--type", "image", "localhost/switchboard-base:bookworm-slim"],
            capture_output=True,
            check=False,
        ).returncode
        != 0
    ):
        return "no base image: set BASE_IMAGE, or install mmdebstrap to make it from the Debian mirror"
    return None


WHY_NOT = _why_not()
if WHY_NOT:
    pytestmark = [pytestmark, pytest.mark.skip(reason=WHY_NOT)]


def _buildah(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(["buildah", *args], capture_output=True, text=True, check=False, timeout=timeout)
    assert result.returncode == 0, f"buildah {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def _run_args(container: str, env: dict[str, str], command: list[str]) -> list[str]:
    args = ["buildah", "run", "--isolation", "chroot", "--user", f"{UID}:{UID}"]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    return [*args, container, "--", *command]


class ImageProcess(ServiceProcess):
    """A service started from the image, in a container of its own, as uid 10001."""

    container: str = ""

    def start(self) -> None:
        self.container = _buildah(
            "from", "--pull-never", "--name", f"sb-{self.name}-{uuid.uuid4().hex[:8]}", IMAGE
        )
        env = {**self.env, "HTTP_PORT": str(self.port), "SERVICE_NAME": self.name}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            _run_args(self.container, env, ["python", "-m", self.name, "serve"]),
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # buildah and the service: one process group to signal
        )

    def listener_uid(self) -> str:
        """The user id of the process listening on the service's port."""
        listing = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{self.port}"], capture_output=True, text=True, check=False
        ).stdout
        pid = listing.split("pid=")[1].split(",")[0]
        status = Path(f"/proc/{pid}/status").read_text()
        return next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode if self.process else None

    def written_outside_tmp(self) -> list[str]:
        """Files the service user created or changed in the container's root filesystem, /tmp aside."""
        mount = Path(_buildah("mount", self.container))
        found = subprocess.run(
            [
                "find",
                str(mount),
                "-xdev",
                "-user",
                UID,
                "-not",
                "-path",
                f"{mount}/tmp/*",  # noqa: S108 (the container's /tmp, an emptyDir in deploy/)
                "-not",
                "-path",
                f"{mount}/tmp",  # noqa: S108
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        _buildah("umount", self.container)
        return [path.removeprefix(str(mount)) for path in found]

    def remove(self) -> None:
        if self.container:
            subprocess.run(["buildah", "rm", self.container], capture_output=True, check=False)


@pytest.fixture(scope="module")
def image() -> str:
    started = time.monotonic()
    built = subprocess.run(
        ["bash", str(ROOT / "infra" / "image.sh"), "build"],
        env={**os.environ, "IMAGE": IMAGE},
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(f"image built in {time.monotonic() - started:.0f} s")
    return IMAGE


def _in_image(command: list[str], env: dict[str, str] | None = None, timeout: float = 180) -> str:
    container = _buildah("from", "--pull-never", IMAGE)
    try:
        result = subprocess.run(
            _run_args(container, env or {}, command),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result.stdout


def test_the_image_is_under_its_size_budget_and_holds_no_compiler_npm_or_demo(image):
    number, unit = json.loads(_buildah("images", "--json", image))[0]["size"].split()
    size = float(number) * {"kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]  # as buildah and podman show it
    print(f"image size {size / 1e6:.0f} MB")
    assert size < SIZE_BUDGET, f"{size / 1e6:.0f} MB"
    found = _in_image(
        [
            "sh",
            "-c",
            "id -u; for tool in gcc cc npm node; do command -v $tool; done; "
            "python -c 'import devtools.demo' 2>/dev/null && echo demo; ls /opt/switchboard/web/node_modules",
        ]
    )
    lines = found.split()
    assert lines[0] == UID
    assert lines[1:] == ["htmx-ext-sse", "htmx.org"], found  # no compiler, npm, node or demo data


def test_every_module_imports_in_the_image_and_pdf_and_locales_work(image):
    """The slimming of the image (pruned packages and data) broke no import."""
    script = """
import importlib, pkgutil
names = ["devtools.migrate"]
for package in ("shared", "ingest", "routing", "notifier", "search", "exporter", "web"):
    module = importlib.import_module(package)
    names += [info.name for info in pkgutil.walk_packages(module.__path__, package + ".")]
for name in names:
    if ".migrations." not in name:  # alembic's env.py and revisions run under alembic (migrate test)
        importlib.import_module(name)
import weasyprint
pdf = weasyprint.HTML(string="<p>Réparation terminée — 42,00 $</p>").write_pdf()
assert pdf.startswith(b"%PDF"), pdf[:10]
from babel import dates, numbers
import datetime
day = dates.format_date(datetime.date(2025, 1, 2), locale="fr_CA")
print(len(names), day, numbers.format_currency(42, "CAD", locale="en"))
"""
    out = _in_image(["python", "-c", script], timeout=300)
    count, *rest = out.split(maxsplit=1)
    assert int(count) > 100 and "janv." in rest[0] and "CA$42.00" in rest[0], out


@pytest.fixture(scope="module")
def migrated_by_the_image(image, infrastructure) -> str:
    def prepare(url: str) -> None:
        out = _in_image(["python", "-m", "devtools.migrate"], {"DATABASE_URL": url})
        assert "migrated:" in out
        asyncio.run(seed_demo(url))  # the demo dealership is test data here, not in the image

    with fresh_database("sbimage", prepare) as url:
        yield url


@pytest.fixture(scope="module")
def image_services(migrated_by_the_image, kafka_bootstrap, tmp_path_factory):
    ports = free_ports_for(list(SERVICES))
    env = {
        **service_urls(ports),
        "DATABASE_URL": migrated_by_the_image,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": f"img{secrets.token_hex(3)}.",
        "KAFKA_PARTITIONS": "2",
        "SHUTDOWN_GRACE_SECONDS": "5",
        "STORAGE_DIR": "/tmp/exports",  # noqa: S108 (inside the container)
    }
    logs = tmp_path_factory.mktemp("image-logs")
    started = {name: ImageProcess(name, ports[name], env, logs / f"{name}.log") for name in SERVICES}
    try:
        for service in started.values():
            service.start()
        for service in started.values():
            try:
                service.wait_ready(timeout=120)
            except RuntimeError as exited:
                # As Kubernetes restarts a container that exits at start (on a broker busy with
                # thousands of test topics, a just-created topic's metadata can lag), once.
                print(f"restarting once: {exited}")
                service.remove()
                service.start()
                service.wait_ready(timeout=120)
        yield started
    finally:
        stop_services(started)
        for service in started.values():
            service.remove()


def test_each_service_runs_from_the_image_as_uid_10001(image_services):
    for name, service in image_services.items():
        response = httpx.get(f"{service.url}/readyz", timeout=5)
        assert response.status_code == 200 and response.json()["service"] == name, response.text
        assert service.listener_uid() == UID, name


async def test_a_signed_inbound_text_goes_end_to_end_through_the_image(image_services):
    ingest, routing, search, web = (image_services[n].url for n in ("ingest", "routing", "search", "web"))
    word = f"oilchange{secrets.token_hex(3)}"
    async with httpx.AsyncClient(timeout=15) as client:
        form = inbound_sms_form(
            demo.TWILIO_ACCOUNT_SID,
            f"+1514555{uuid.uuid4().int % 10_000:04d}",
            demo.DEALERSHIP_NUMBER,
            f"Is my car ready? {word}",
        )
        response = await post_inbound(client, ingest, demo.TWILIO_AUTH_TOKEN, form)
        assert response.status_code == 200, response.text
        assert response.headers["x-switchboard-outcome"] == "accepted"

        token = await login(client, routing, demo.ADMIN_EMAIL, demo.PASSWORD)
        headers = {"authorization": f"Bearer {token}"}

        async def stored() -> list:
            items = (await client.get(f"{routing}/api/v1/conversations", headers=headers)).json()["items"]
            return [c for c in items if c["customer_phone"] == form["From"]]

        assert await eventually(stored, timeout=60), "routing never stored the text"

        async def found() -> dict:
            answer = await client.get(f"{search}/api/v1/search", params={"q": word}, headers=headers)
            return answer.json() if answer.status_code == 200 and word in answer.text else {}

        assert await eventually(found, timeout=60), "search never indexed the text"

        # The web inbox serves its npm libraries from the image (no npm there).
        htmx = await client.get(f"{web}/static/vendor/htmx/htmx.min.js")
        assert htmx.status_code == 200 and "htmx" in htmx.text[:2000]


def test_search_rebuild_runs_from_the_image(image_services, migrated_by_the_image, kafka_bootstrap):
    out = _in_image(
        ["python", "-m", "search", "rebuild"],
        {
            "DATABASE_URL": migrated_by_the_image,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": image_services["search"].env["KAFKA_TOPIC_PREFIX"],
            "SERVICE_NAME": "search",
        },
        timeout=300,
    )
    assert out is not None


def test_nothing_is_written_outside_tmp(image_services):
    """What a read-only root filesystem would refuse: any file of uid 10001 outside /tmp, once
    the services have run and stopped (this test comes last)."""
    stop_services(image_services)
    for name, service in image_services.items():
        assert service.written_outside_tmp() == [], name
