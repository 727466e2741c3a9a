"""`python -m flashsale_chaos [SCENARIO ...]`."""

from __future__ import annotations

import sys

from flashsale_chaos.cli import main

if __name__ == "__main__":
    sys.exit(main())
