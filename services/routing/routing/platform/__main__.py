"""`python -m routing.platform --help`: the operator API from a command line (routing/platform/cli.py)."""

import sys

from routing.platform.cli import main

if __name__ == "__main__":
    sys.exit(main())
