"""`python -m notifier serve` runs the service; `python -m notifier migrate` applies its migrations."""

import sys

from notifier.settings import NotifierSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    run_service_command("notifier", NotifierSettings(), sys.argv)
