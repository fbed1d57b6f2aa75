"""The Kubernetes manifests stay consistent with the code: deploy/check_manifests.py (every env
name a setting of its service that validates, probes and limits on every Deployment, the KafkaTopic
list equal to shared/contracts/topics.py) runs in the suite, so a new setting or topic that the
manifests miss fails CI."""

import subprocess
import sys
from pathlib import Path

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
