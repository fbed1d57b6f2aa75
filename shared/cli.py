"""The command line every service shares: `python -m <service> serve|migrate`."""

import importlib

from shared.runner import serve
from shared.settings import ServiceSettings


def run_service_command(service: str, settings: ServiceSettings, argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "serve"
    if command == "migrate":
        importlib.import_module(f"{service}.migrations").migrate(settings.database_url)
    elif command == "serve":
        serve(importlib.import_module(f"{service}.app").create_app(settings), settings)
    else:
        raise SystemExit(f"unknown command {command!r}; use serve or migrate")
