"""The ``townhall`` console command: Django's manage.py under the product's name.

``townhall migrate``, ``townhall demo``, ``townhall ledger verify``, ``townhall --help``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run a Townhall management command and return its exit status."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "townhall"
    execute_from_command_line(args)
    return 0
