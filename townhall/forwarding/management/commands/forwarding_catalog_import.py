"""`townhall forwarding_catalog_import BODY`: take a body's Open311 services into our catalogue."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.catalog.models import Department, Jurisdiction, ServiceGroup
from townhall.forwarding.catalog_import import body_catalog_import
from townhall.forwarding.client import RemoteError
from townhall.forwarding.models import Body, BodyKind


class Command(BaseCommand):
    help = (
        "Read an Open311 body's services.json and each service's definition, and create or "
        "update our service types and questions for them, each mapped to the body's service "
        "code (so cases of them can be forwarded). A service already imported keeps its code, "
        "department, SLA and translations; a bad record is reported and skipped; nothing is "
        "deleted; running it twice changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("body", help="the body's slug (an Open311 body with an endpoint)")
        parser.add_argument(
            "--jurisdiction",
            metavar="CODE",
            help="our jurisdiction's slug (needed when there are several)",
        )
        parser.add_argument(
            "--department",
            metavar="CODE",
            help="our department new service types belong to (needed when there are several)",
        )
        parser.add_argument(
            "--group",
            metavar="CODE",
            help="put new service types in this group of ours (default: one per remote group)",
        )
        parser.add_argument(
            "--route",
            action="store_true",
            help="also add the imported service types to the body's routing rule",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would change, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        body = Body.objects.filter(slug=options["body"]).first()
        if body is None:
            raise CommandError(f"No body {options['body']!r}.")
        if body.kind != BodyKind.OPEN311 or not body.endpoint:
            raise CommandError(f"{body.slug} is not an Open311 body with an endpoint.")
        jurisdiction = self._one(
            Jurisdiction.objects.all(), "slug", options["jurisdiction"], "--jurisdiction"
        )
        department = self._one(
            Department.objects.filter(jurisdiction=jurisdiction),
            "code",
            options["department"],
            "--department",
        )
        group = None
        if options["group"]:
            group = ServiceGroup.objects.filter(
                jurisdiction=jurisdiction, code=options["group"]
            ).first()
            if group is None:
                raise CommandError(f"No group {options['group']!r} in {jurisdiction.slug}.")
        with Progress(disable=options["verbosity"] == 0) as progress:
            bar = progress.add_task(body.slug, total=None)
            try:
                report = body_catalog_import(
                    body=body,
                    jurisdiction=jurisdiction,
                    department=department,
                    group=group,
                    route=options["route"],
                    dry_run=options["dry_run"],
                    progress=lambda done, total: progress.update(bar, completed=done, total=total),
                )
            except RemoteError as exc:
                raise CommandError(f"{body.slug}'s services could not be read: {exc}") from exc
        verb = "would be" if options["dry_run"] else "were"
        for label, codes in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
        ):
            if codes:
                self.stdout.write(f"{len(codes)} {verb} {label}: {', '.join(codes)}")
        if options["route"]:
            self.stdout.write(f"{report.routed} added to {body.slug}'s routing rule")
        for code, why in report.skipped:
            self.stderr.write(f"skipped {code}: {why}")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
        if report.skipped:
            raise CommandError(f"{len(report.skipped)} service(s) skipped; the rest imported.")
        self.stdout.write(self.style.SUCCESS("Done."))

    @staticmethod
    def _one(query: Any, field: str, value: str | None, flag: str) -> Any:
        if value:
            found = query.filter(**{field: value}).first()
            if found is None:
                raise CommandError(f"No {flag[2:]} {value!r}.")
            return found
        rows = list(query[:2])
        if len(rows) != 1:
            raise CommandError(
                f"Say which with {flag} (there are {'none' if not rows else 'several'})."
            )
        return rows[0]
