"""HTML and script typed into a customer's name, a text, an internal note and a saved reply are
stored exactly as typed, shown as text in the conversation's PDF (exporter), and escaped in the
web inbox's pages (the conversation, the customer profile, the saved replies): never markup."""

import io
import json
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from devtools import demo
from devtools.processes import ServiceProcess
from shared.testing.ports import free_port
from tests.security.conftest import RunningServices, bearer, succeeded

FIRST = "<script>alert('first')</script>"
LAST = '<img src=x onerror="alert(1)">'
TEXT = "Ready? <b>bold</b> & <a href='javascript:alert(2)'>click</a>"
NOTE = "Note <iframe src=//evil.test></iframe> done"
REPLY = "Reply <svg onload=alert(3)> done"


@pytest.fixture(scope="module")
def hostile(running: RunningServices, admin_token: str) -> dict[str, str]:
    """A customer, a conversation with a text, a note and a saved reply, all in markup."""
    routing = running.url("routing")
    auth = bearer(admin_token)
    with httpx.Client(timeout=30) as http:
        phone = f"+1438{secrets.randbelow(10**7):07d}"
        customer = succeeded(
            http.post(
                f"{routing}/api/v1/customers",
                headers=auth,
                json={"first_name": FIRST, "last_name": LAST, "phones": [{"number": phone}]},
            )
        )
        sent = succeeded(
            http.post(
                f"{routing}/api/v1/outreach",
                headers=auth,
                json={"customer_id": customer["id"], "body": TEXT, "source": {"kind": "campaign", "id": "x"}},
            )
        )
        succeeded(
            http.post(
                f"{routing}/api/v1/conversations/{sent['conversation_id']}/notes",
                headers=auth,
                json={"body": NOTE},
            )
        )
        reply = succeeded(
            http.post(
                f"{routing}/api/v1/saved-replies",
                headers=auth,
                json={"name": f"<u>{secrets.token_hex(3)}</u>", "body": REPLY},
            )
        )
    return {
        "customer_id": customer["id"],
        "conversation_id": sent["conversation_id"],
        "reply_id": reply["id"],
    }


@pytest.mark.e2e
def test_markup_is_stored_as_typed(running, admin_token, hostile):
    routing = running.url("routing")
    auth = bearer(admin_token)
    customer = httpx.get(f"{routing}/api/v1/customers/{hostile['customer_id']}", headers=auth).json()
    assert (customer["first_name"], customer["last_name"]) == (FIRST, LAST)
    timeline = httpx.get(
        f"{routing}/api/v1/conversations/{hostile['conversation_id']}/timeline", headers=auth
    ).json()
    everything = json.dumps(timeline, ensure_ascii=False)
    assert TEXT in everything and NOTE in everything
    reply = httpx.get(f"{routing}/api/v1/saved-replies/{hostile['reply_id']}", headers=auth).json()
    assert reply["body"] == REPLY


@pytest.mark.e2e
def test_the_pdf_shows_the_markup_as_text(running, admin_token, hostile):
    exporter = running.url("exporter")
    auth = bearer(admin_token)
    job = succeeded(
        httpx.post(
            f"{exporter}/api/v1/exports", headers=auth, json={"conversation_id": hostile["conversation_id"]}
        )
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = httpx.get(f"{exporter}/api/v1/exports/{job['job_id']}", headers=auth).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    pdf = httpx.get(status["download_url"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = re.sub(r"\s+", " ", text)
    for typed in (FIRST, TEXT, NOTE):
        assert re.sub(r"\s+", " ", typed) in flat, (typed, flat[:2000])


@pytest.fixture(scope="module")
def web(running: RunningServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web inbox, a process beside the five, pointed at them."""
    service = ServiceProcess(
        "web",
        free_port(),
        {
            "ROUTING_URL": running.url("routing"),
            "NOTIFIER_URL": running.url("notifier"),
            "SEARCH_URL": running.url("search"),
            "EXPORTER_URL": running.url("exporter"),
            "INGEST_URL": running.url("ingest"),
            "LOG_LEVEL": "WARNING",
        },
        Path(tmp_path_factory.mktemp("web-log")) / "web.log",
    )
    service.start()
    try:
        service.wait_ready(timeout=120)
        yield service.url
    finally:
        service.stop()


def _signed_in(web: str) -> httpx.Client:
    client = httpx.Client(base_url=web, timeout=30, follow_redirects=True)
    page = client.get("/signin").text
    csrf = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/signin", data={"email": demo.ADMIN_EMAIL, "password": demo.PASSWORD, "csrftoken": csrf}
    )
    assert answer.status_code == 200 and "/signin" not in str(answer.url), answer.text[:500]
    return client


@pytest.mark.e2e
def test_the_web_pages_escape_the_markup(web, hostile):
    client = _signed_in(web)
    try:
        pages = {
            "conversation": client.get(f"/conversations/{hostile['conversation_id']}"),
            "customer": client.get(f"/customers/{hostile['customer_id']}"),
            "saved replies": client.get("/saved-replies"),
        }
    finally:
        client.close()
    for name, page in pages.items():
        assert page.status_code == 200, (name, page.status_code)
        live_markup = re.findall(r"<(?:script|img|iframe|svg)[^>]*(?:alert|evil)|href='javascript", page.text)
        assert not live_markup, (name, live_markup)
    assert "&lt;script&gt;alert(&#39;first&#39;)&lt;/script&gt;" in pages["customer"].text
    assert "&lt;iframe src=//evil.test&gt;&lt;/iframe&gt;" in pages["conversation"].text
    assert "&lt;svg onload=alert(3)&gt;" in pages["saved replies"].text
