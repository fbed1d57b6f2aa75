"""`python -m routing serve` runs the service; `python -m routing migrate` applies its migrations."""

import sys

from routing.settings import RoutingSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    run_service_command("routing", RoutingSettings(), sys.argv)
