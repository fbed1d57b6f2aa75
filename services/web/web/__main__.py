"""`python -m web serve` runs the web inbox."""

import sys

from shared.runner import serve
from web.app import create_app
from web.settings import WebSettings

if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command != "serve":
        raise SystemExit(f"unknown command {command!r}; web only serves (it has no schema to migrate)")
    settings = WebSettings()
    serve(create_app(settings), settings)
