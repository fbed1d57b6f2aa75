"""Each service's schema has one migration history: one head, so `upgrade head` is unambiguous
and two changes written side by side are joined by a merge revision, not left as branches."""

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "routing", "notifier", "search", "exporter")


@pytest.mark.parametrize("service", SERVICES)
def test_one_head(service: str):
    config = Config()
    config.set_main_option("script_location", str(ROOT / "services" / service / service / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"{service} has several migration heads {heads}: add a merge revision"
