"""The Kubernetes manifests stay consistent with the code: deploy/check_manifests.py (every env
name a setting of its service that validates, probes and limits on every Deployment, the KafkaTopic
list equal to shared/contracts/topics.py) runs in the suite, so a new setting or topic that the
manifests miss fails CI."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_manifests_pass_their_checks():
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "check_manifests.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:"), result.stdout


def _check_manifests():
    spec = importlib.util.spec_from_file_location("check_manifests", ROOT / "deploy" / "check_manifests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _environment(config: dict[str, str], tls: bool) -> list[dict]:
    ingress_spec = {"tls": [{"hosts": ["switchboard.example.com"]}]} if tls else {}
    return [
        {"kind": "ConfigMap", "metadata": {"name": "switchboard-config-ktdm58htgk"}, "data": config},
        {"kind": "Ingress", "metadata": {"name": "switchboard"}, "spec": ingress_spec},
    ]


@pytest.mark.parametrize(
    ("config", "tls", "refused"),
    [
        ({"ENVIRONMENT": "production", "STRICT_TRANSPORT_SECURITY": "true"}, True, False),
        ({"ENVIRONMENT": "production"}, True, True),
        ({"ENVIRONMENT": "production", "STRICT_TRANSPORT_SECURITY": "false"}, True, True),
        # Plain HTTP (no TLS at the Ingress) or not production: HSTS is not required.
        ({"ENVIRONMENT": "production"}, False, False),
        ({"ENVIRONMENT": "staging"}, True, False),
    ],
)
def test_production_behind_tls_must_turn_hsts_on(config, tls, refused):
    checks = _check_manifests()
    checks.check_hsts("overlay", _environment(config, tls))
    assert bool(checks.errors) == refused, checks.errors
    if refused:
        assert "STRICT_TRANSPORT_SECURITY=true" in checks.errors[0]
