"""Entry point for `python -m vsdash`."""

import sys

from vsdash.cli import main

sys.exit(main())
