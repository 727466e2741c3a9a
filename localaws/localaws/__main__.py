import sys

from localaws.cli import main

sys.exit(main())
