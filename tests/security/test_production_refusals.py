"""In production (`ENVIRONMENT=production`) a process refuses to start with a signing key left at
its development default or too short, or with the demo dealership's published secrets in its
settings or its tables; elsewhere the defaults are welcome."""

import asyncio
import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from devtools import demo
from devtools.seed import seed_demo
from exporter.settings import ExporterSettings
from shared.production import DEMO_SECRETS, MIN_SIGNING_SECRET_LENGTH, UnsafeForProduction
from shared.settings import ServiceSettings
from web.settings import WebSettings

STRONG = "k" * MIN_SIGNING_SECRET_LENGTH


def test_the_demo_secrets_listed_are_the_ones_the_seed_uses():
    seeded = {
        demo.TWILIO_AUTH_TOKEN,
        demo.DMS_INTEGRATION_SECRET,
        demo.TELNYX_API_KEY,
        demo.TELNYX_PRIVATE_KEY,
        demo.TELNYX_PUBLIC_KEY,
    }
    assert seeded == DEMO_SECRETS


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        (lambda: ServiceSettings(environment="production"), "JWT_SECRET is the development default"),
        (lambda: ServiceSettings(environment="production", jwt_secret="s3cret"), "JWT_SECRET is shorter"),
        (
            lambda: ServiceSettings(
                environment="production", jwt_secret=demo.DMS_INTEGRATION_SECRET + "x" * 9
            ),
            None,
        ),
        (lambda: WebSettings(environment="production"), "CSRF_SECRET is the development default"),
        (
            lambda: ExporterSettings(
                environment="production", jwt_secret=STRONG, download_link_secret="short"
            ),
            "DOWNLOAD_LINK_SECRET is shorter",
        ),
        (
            lambda: ExporterSettings(
                environment="production",
                jwt_secret=STRONG,
                s3_access_key_id="id",
                s3_secret_access_key=demo.TWILIO_AUTH_TOKEN,
            ),
            "S3_SECRET_ACCESS_KEY is a demo secret",
        ),
    ],
)
def test_production_refuses_default_short_and_demo_secrets(settings, complaint):
    if complaint is None:
        settings()  # long enough, and not itself a published secret
        return
    with pytest.raises(UnsafeForProduction, match=complaint):
        settings()


def test_outside_production_the_defaults_start_and_strong_secrets_start_in_production():
    ServiceSettings()
    WebSettings(environment="staging")
    ServiceSettings(environment="production", jwt_secret=SecretStr(STRONG))
    WebSettings(environment="production", csrf_secret=SecretStr(STRONG))


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["routing", "ingest", "notifier"])
def test_a_service_in_production_with_the_default_key_or_the_demo_seed_does_not_start(
    service, database_url: str, kafka_bootstrap: str, topic_prefix: str
):
    """ingest and notifier also refuse the demo dealership's carrier and DMS secrets that the
    seed put in their tables (seeded again here: the fuzzer may have replaced them)."""
    asyncio.run(seed_demo(database_url))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "ENVIRONMENT": "production",
        "HTTP_PORT": "0",
        "CATCH_UP_ENABLED": "false",
    }
    default_key = subprocess.run(
        [sys.executable, "-m", service, "serve"], env=env, capture_output=True, text=True, timeout=240
    )
    assert default_key.returncode != 0
    assert "JWT_SECRET is the development default" in default_key.stderr
    if service == "routing":
        return
    demo_seed = subprocess.run(
        [sys.executable, "-m", service, "serve"],
        env={**env, "JWT_SECRET": STRONG},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo_seed.returncode != 0
    output = demo_seed.stdout + demo_seed.stderr
    assert "demo secret published in the README" in output or "is a demo secret" in output, output[-3000:]
