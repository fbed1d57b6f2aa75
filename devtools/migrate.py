"""Applies every service's migrations: `python -m devtools.migrate`."""

from exporter.migrations import migrate as migrate_exporter
from ingest.migrations import migrate as migrate_ingest
from notifier.migrations import migrate as migrate_notifier
from routing.migrations import migrate as migrate_routing
from search.migrations import migrate as migrate_search
from shared.settings import ServiceSettings

MIGRATIONS = {
    "ingest": migrate_ingest,
    "routing": migrate_routing,
    "notifier": migrate_notifier,
    "search": migrate_search,
    "exporter": migrate_exporter,
}


def migrate_all(database_url: str) -> None:
    for migrate in MIGRATIONS.values():
        migrate(database_url)


if __name__ == "__main__":
    migrate_all(ServiceSettings().database_url)
    print("migrated:", ", ".join(MIGRATIONS))
