"""`python -m routing serve` runs the service; `python -m routing migrate` applies its migrations."""

import sys

from routing.settings import RoutingSettings


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "serve"
    settings = RoutingSettings()
    if command == "migrate":
        from routing.migrations import migrate

        migrate(settings.database_url)
    elif command == "serve":
        from routing.app import create_app
        from shared.runner import serve

        serve(create_app(settings), settings)
    else:
        raise SystemExit(f"unknown command {command!r}; use serve or migrate")


if __name__ == "__main__":
    main(sys.argv)
