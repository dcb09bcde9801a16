"""`python -m townhall …` runs the townhall console command."""

import sys

from townhall.cli import main

sys.exit(main())
