"""Run the local Tushare server: ``python -m tslake.server --help``."""

import sys

from tslake.server.cli import main

sys.exit(main())
