from pathlib import Path

from shared.db.migrations import upgrade

SCHEMA = "notifier"


def migrate(database_url: str) -> None:
    upgrade(database_url, SCHEMA, Path(__file__).parent)
