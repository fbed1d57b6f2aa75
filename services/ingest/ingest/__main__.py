"""`python -m ingest serve` runs the service; `python -m ingest migrate` applies its migrations."""

import sys

from ingest.settings import IngestSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    run_service_command("ingest", IngestSettings(), sys.argv)
