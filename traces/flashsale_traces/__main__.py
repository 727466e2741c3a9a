import sys

from flashsale_traces.cli import main

sys.exit(main())
