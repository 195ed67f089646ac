import sys

from labkit.tooling.cli import main

sys.exit(main())
