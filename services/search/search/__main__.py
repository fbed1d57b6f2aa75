"""`python -m search serve` runs the service; `python -m search migrate` applies its migrations."""

import sys

from search.settings import SearchSettings


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "serve"
    settings = SearchSettings()
    if command == "migrate":
        from search.migrations import migrate

        migrate(settings.database_url)
    elif command == "serve":
        from search.app import create_app
        from shared.runner import serve

        serve(create_app(settings), settings)
    else:
        raise SystemExit(f"unknown command {command!r}; use serve or migrate")


if __name__ == "__main__":
    main(sys.argv)
