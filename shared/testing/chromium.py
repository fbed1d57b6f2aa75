"""Debian's Chromium as the browser tests and the live-latency bench launch it (through
Playwright's `executable_path`): no sandbox (it cannot start one as root in a container), and
none of the background traffic (updates, sync, QUIC) that would add noise to what is measured."""

import os

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
