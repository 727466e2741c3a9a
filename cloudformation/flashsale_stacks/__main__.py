import sys

from flashsale_stacks.cli import main

sys.exit(main())
