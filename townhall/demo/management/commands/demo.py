"""`townhall demo`: set up the demo town on this database and run web, worker and scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from townhall.demo.loader import DEMO_PASSWORD, demo_is_loaded, demo_load
from townhall.demo.serve import asgi_serve
from townhall.demo.setup import deliveries_described, public_url_for


class Command(BaseCommand):
    help = (
        "Migrate, load the demo town (once: re-running keeps existing data), then start the web "
        "server, the background worker and the scheduler. Ctrl-C stops all three."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Web address (default: %(default)s)."
        )
        parser.add_argument(
            "--cases", type=int, default=300, help="Demo cases to create (default: 300)."
        )
        parser.add_argument(
            "--setup-only", action="store_true", help="Set up, print logins, start nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("TOWNHALL_PUBLIC_URL"):
            # Links in messages point at where this demo serves (unless set on purpose);
            # the environment carries it to the worker and scheduler started below.
            settings.TOWNHALL_PUBLIC_URL = public_url_for(options["addr"])
            os.environ["TOWNHALL_PUBLIC_URL"] = settings.TOWNHALL_PUBLIC_URL
        call_command("migrate", interactive=False, verbosity=0)
        if demo_is_loaded():
            console.print("[green]Demo town already loaded: keeping existing data.[/]")
        else:
            with Progress(
                TextColumn("Loading Millbrook"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                bar = progress.add_task("cases", total=options["cases"])
                demo_load(cases=options["cases"], progress=lambda n: progress.advance(bar, n))
        self._welcome(console, options["addr"])
        if options["setup_only"]:
            return
        self._run(options["addr"])

    def _welcome(self, console: Console, addr: str) -> None:
        from townhall.demo.loader import town_spec

        base = settings.TOWNHALL_PUBLIC_URL.rstrip("/")
        console.print(f"\n[bold]Townhall demo[/] on {settings.DATABASES['default']['NAME']}")
        console.print(f"  Resident portal: {base}/")
        console.print(f"  Track a request: {base}/track/")
        console.print(f"  Staff console:   {base}/console/")
        console.print(f"  Staff admin:     {base}/admin/")
        mail, texts = deliveries_described()
        for label, where in (("E-mail to residents", mail), ("Texts (SMS)", texts)):
            console.print(f"  {label + ':':<20} {where}", markup=False, soft_wrap=True)
        table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
        table.add_column("username")
        table.add_column("role")
        for staff in town_spec()["staff"]:
            table.add_row(staff["username"], staff["role"])
        console.print(table)

    def _run(self, addr: str) -> None:
        helpers = [
            subprocess.Popen(
                [sys.executable, "-m", "townhall", "db_worker", "--no-reload", "--interval", "1"]
            ),
            subprocess.Popen([sys.executable, "-m", "townhall", "scheduler"]),
        ]
        try:
            asgi_serve(addr)  # HTTP and the chat's WebSocket (demo/serve.py)
        finally:
            for proc in helpers:
                proc.send_signal(signal.SIGINT)
            for proc in helpers:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
