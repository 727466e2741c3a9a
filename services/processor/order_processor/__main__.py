"""`python -m order_processor run|redrive` (also the `order-processor` console script)."""

from __future__ import annotations

import sys

from order_processor.cli import main

if __name__ == "__main__":
    sys.exit(main())
