"""`python -m search serve` runs the service; `python -m search migrate` applies its migrations;
`python -m search rebuild` replays the topics into a fresh projection."""

import sys

from search.settings import SearchSettings
from shared.cli import run_service_command

if __name__ == "__main__":
    if sys.argv[1:2] == ["rebuild"]:
        from search.rebuild import run_rebuild

        run_rebuild(SearchSettings())
    else:
        run_service_command("search", SearchSettings(), sys.argv)
