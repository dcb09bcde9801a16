"""`--smoke` for the benches: tiny sizes in databases of their own, so `make test` proves each
bench still runs (a bench nobody runs rots: a schema change broke three seeds unnoticed)."""

from __future__ import annotations

import argparse
import os

HELP = "a tiny run in a database of its own: checks the bench still runs (make test runs it)"


def add_smoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true", help=HELP)


def apply_smoke(args: argparse.Namespace, default_url: str | None = None, **sizes: object) -> None:
    """With --smoke, shrink `sizes` (argument name -> value) and move the default database
    (`default_url`) to `<name>_smoke`, never the seeded million-row one."""
    if not args.smoke:
        return
    for name, value in sizes.items():
        setattr(args, name, value)
    if default_url is not None and getattr(args, "database_url", None) == default_url:
        args.database_url = smoke_url(default_url)


def smoke_url(default_url: str) -> str:
    """`<name>_smoke`: a parallel test worker (make test) adds its own name, so two benches
    with one default database never share it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return default_url + "_smoke" + (f"_{worker}" if worker else "")
