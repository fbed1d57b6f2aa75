"""`python -m exporter serve` runs the service; `python -m exporter migrate` applies its migrations."""

import sys

from exporter.settings import ExporterSettings


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "serve"
    settings = ExporterSettings()
    if command == "migrate":
        from exporter.migrations import migrate

        migrate(settings.database_url)
    elif command == "serve":
        from exporter.app import create_app
        from shared.runner import serve

        serve(create_app(settings), settings)
    else:
        raise SystemExit(f"unknown command {command!r}; use serve or migrate")


if __name__ == "__main__":
    main(sys.argv)
