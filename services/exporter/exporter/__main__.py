"""`python -m exporter serve` runs the service; `python -m exporter migrate` applies its migrations."""

import sys

from exporter.settings import ExporterSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    run_service_command("exporter", ExporterSettings(), sys.argv)
