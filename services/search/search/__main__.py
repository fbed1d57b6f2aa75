"""`python -m search serve` runs the service; `python -m search migrate` applies its migrations."""

import sys

from search.settings import SearchSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    run_service_command("search", SearchSettings(), sys.argv)
