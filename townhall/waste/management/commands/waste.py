"""`townhall waste import FILE.csv [FILE.csv ...] --format toronto | generate --year Y --out
FILE.csv | compare LEARN.csv ACTUAL.csv | evaluate --learn FILES --against FILE |
zones FILE.geojson | assign`: bin collection schedules."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.core.errors import ValidationFailed
from townhall.waste.evaluation import schedule_evaluate
from townhall.waste.inference import schedule_compare, zones_infer
from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import HolidayRule, collections_between
from townhall.waste.selectors import waste_config_get, waste_schedule_rows
from townhall.waste.services import (
    waste_config_set,
    waste_import_toronto,
    zone_places_assign,
    zones_import_geojson,
)
from townhall.waste.toronto import TorontoRow, toronto_read, toronto_write

FALLBACKS = [r.value for r in HolidayRule]
FALLBACK_HELP = (
    "what a holiday never seen on a collection day does, when no other holiday on its "
    "weekday was seen either (default: the most common effect learnt)"
)


class Command(BaseCommand):
    help = (
        "Bin collection schedules. Sub-commands: import FILE.csv [FILE.csv ...] --format "
        "toronto (learn each zone's rules and what each holiday does from one or several "
        "years), evaluate --learn FILES --against FILE (learn from some years, predict "
        "another, exact-match figures), generate --year Y --out FILE.csv (write a year in "
        "the same format), compare LEARN.csv ACTUAL.csv (how well rules learnt from one year "
        "predict another), zones FILE.geojson (zone polygons), assign (put addresses in "
        "the zone whose polygon holds them)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="Learn zones, streams, rules, what each public holiday does and overrides "
            "from one or several published years (one file a year; all learnt together). "
            "One transaction: run it again to resume after an interruption.",
        )
        load.add_argument(
            "file", type=Path, nargs="+", help="published schedules, one a year (learnt together)"
        )
        load.add_argument("--format", choices=["toronto"], default="toronto")
        load.add_argument("--country", help="set the council's country first (e.g. CA)")
        load.add_argument("--subdivision", default="", help="and subdivision (e.g. ON)")
        load.add_argument("--fallback", choices=FALLBACKS, help=FALLBACK_HELP)
        rate = sub.add_parser(
            "evaluate",
            help="Learn from some years, predict another and compare collection by collection "
            "(zone, stream, date): prints name: value lines, then each difference and why. "
            "Writes nothing to the database.",
        )
        rate.add_argument("--learn", type=Path, nargs="+", required=True, help="earlier years")
        rate.add_argument("--against", type=Path, required=True, help="the year to predict")
        rate.add_argument("--country", default="", help="holidays of this country (e.g. CA)")
        rate.add_argument("--subdivision", default="")
        rate.add_argument("--fallback", choices=FALLBACKS, help=FALLBACK_HELP)
        make = sub.add_parser("generate", help="Write every zone's collections for a year.")
        make.add_argument("--year", type=int, required=True)
        make.add_argument("--out", type=Path, required=True, help="CSV file to write ('-': stdout)")
        make.add_argument("--format", choices=["toronto"], default="toronto")
        check = sub.add_parser(
            "compare",
            help="Learn rules from one file and score their prediction of another's year "
            "(matched, missed, extra per zone and stream). Writes nothing to the database.",
        )
        check.add_argument("learn", type=Path)
        check.add_argument("actual", type=Path)
        check.add_argument("--country", default="", help="holidays of this country (e.g. CA)")
        check.add_argument("--subdivision", default="")
        zones = sub.add_parser(
            "zones",
            help="Create or update zones from a GeoJSON FeatureCollection of (Multi)Polygons, "
            "then put every address in its zone.",
        )
        zones.add_argument("file", type=Path)
        zones.add_argument("--code-property", default="code", help="the property naming the zone")
        sub.add_parser("assign", help="Put each address in the zone whose polygon holds it.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options)
        elif action == "generate":
            self._generate(options["year"], options["out"])
        elif action == "compare":
            self._compare(options)
        elif action == "evaluate":
            self._evaluate(options)
        elif action == "zones":
            try:
                collection = json.loads(options["file"].read_text(encoding="utf-8"))
                count = zones_import_geojson(
                    collection=collection, code_property=options["code_property"]
                )
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
            except ValidationFailed as exc:
                raise CommandError(f"{exc.message} {exc.details}") from exc
            self.stdout.write(self.style.SUCCESS(f"{count} zones imported."))
            self._assign(options["verbosity"])
        else:
            self._assign(options["verbosity"])

    def _assign(self, verbosity: int) -> None:
        with Progress(disable=verbosity == 0) as progress:
            bar = progress.add_task("addresses", total=None)
            count = zone_places_assign(progress=partial(progress.advance, bar))
        self.stdout.write(self.style.SUCCESS(f"{count} addresses are in a zone."))

    def _read(self, path: Path) -> list[tuple[int, TorontoRow | str]]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                return list(toronto_read(handle))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc

    def _import(self, options: dict[str, Any]) -> None:
        if options["country"]:
            try:
                waste_config_set(country=options["country"], subdivision=options["subdivision"])
            except ValidationFailed as exc:
                raise CommandError(exc.message) from exc
        lines: list[tuple[int, TorontoRow | str]] = []
        files: list[tuple[Path, list[tuple[int, TorontoRow | str]]]] = [
            (path, self._read(path)) for path in options["file"]
        ]
        with Progress(disable=options["verbosity"] == 0) as progress:
            bar = progress.add_task(
                ", ".join(path.name for path, _ in files), total=sum(len(f) for _, f in files)
            )
            for path, found in files:
                lines += [(n, f"{path.name}: {r}" if isinstance(r, str) else r) for n, r in found]
            try:
                report = waste_import_toronto(
                    lines=lines,
                    progress=partial(progress.advance, bar),
                    fallback=options["fallback"],
                )
            except ValidationFailed as exc:
                raise CommandError(exc.message) from exc
        years = ", ".join(str(y) for y in report.years) or "-"
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.rows} rows ({years}): {report.zones} zones, {report.rules} rules, "
                f"{report.overrides} overrides; holiday rule {report.holiday_rule or '-'}; "
                f"{len(report.rejected)} rejected."
            )
        )
        for learnt in report.holidays:
            self.stdout.write(f"  holiday {learnt}")
        for line, why in report.rejected[:20]:
            self.stdout.write(f"  line {line}: {why}")

    def _evaluate(self, options: dict[str, Any]) -> None:
        learn = [
            (r.zone, r.day, r.streams)
            for path in options["learn"]
            for _, r in self._read(path)
            if isinstance(r, TorontoRow)
        ]
        actual = [
            (r.zone, r.day, r.streams)
            for _, r in self._read(options["against"])
            if isinstance(r, TorontoRow)
        ]
        if not learn or not actual:
            raise CommandError("Both --learn and --against need rows.")
        country, subdivision = options["country"], options["subdivision"]
        if not country:
            config = waste_config_get()
            country, subdivision = config.country, config.subdivision
        days = [d for _, d, _ in learn + actual]
        holidays = public_holidays(
            country=country,
            subdivision=subdivision,
            years=range(min(days).year - 1, max(days).year + 2),
        )
        fallback = HolidayRule(options["fallback"]) if options["fallback"] else None
        result = schedule_evaluate(learn, actual, holidays=holidays, fallback=fallback)
        out = self.stdout.write
        out(f"learnt years: {' '.join(map(str, result.learnt_years))}")
        out(f"predicted years: {' '.join(map(str, result.years))}")
        out(f"streams compared: {' '.join(result.streams)}")
        out(f"published collections: {result.matched + result.missed}")
        out(f"predicted collections: {result.matched + result.extra}")
        out(f"matched: {result.matched}")
        out(f"missed: {result.missed}")
        out(f"extra: {result.extra}")
        out(f"recall: {result.recall:.4f}")
        out(f"precision: {result.precision:.4f}")
        out(f"exact share: {100 * result.recall:.2f}%")
        for line in result.policy:
            out(f"  holiday {line}")
        for d in result.differences:
            out(f"  {d.kind:<6} {d.zone} {d.stream} {d.day.isoformat()} {d.day:%a}: {d.why}")

    def _generate(self, year: int, out: Path) -> None:
        rows = waste_schedule_rows(start=date(year, 1, 1), end=date(year, 12, 31))
        if not rows:
            raise CommandError("No zone has rules yet: import a schedule or add rules first.")
        if str(out) == "-":
            count = toronto_write(self.stdout, rows)
        else:
            with out.open("w", newline="", encoding="utf-8") as handle:
                count = toronto_write(handle, rows)
        if str(out) != "-":
            self.stdout.write(self.style.SUCCESS(f"{count} rows written to {out}."))

    def _compare(self, options: dict[str, Any]) -> None:
        learn = [
            (r.zone, r.day, r.streams)
            for _, r in self._read(options["learn"])
            if isinstance(r, TorontoRow)
        ]
        actual = [
            (r.zone, r.day, r.streams)
            for _, r in self._read(options["actual"])
            if isinstance(r, TorontoRow)
        ]
        if not learn or not actual:
            raise CommandError("Both files need rows.")
        country, subdivision = options["country"], options["subdivision"]
        if not country:
            config = waste_config_get()
            country, subdivision = config.country, config.subdivision
        start = date(min(d for _, d, _ in actual).year, 1, 1)
        end = date(max(d for _, d, _ in actual).year, 12, 31)
        first = min(d for _, d, _ in learn).year
        holidays = public_holidays(
            country=country, subdivision=subdivision, years=range(first - 1, end.year + 2)
        )
        rule, zones = zones_infer(learn, holidays=holidays)
        predicted = [
            (z.zone, c.day, c.streams)
            for z in zones
            for c in collections_between(
                z.rules, start, end, holidays=holidays, holiday_rule=HolidayRule(rule)
            )
        ]
        scores, differences = schedule_compare(predicted, actual)
        self.stdout.write(f"holiday rule learnt: {rule.value}")
        self.stdout.write(f"{'zone':<12} {'stream':<15} {'matched':>7} {'missed':>7} {'extra':>6}")
        for (zone, stream), s in sorted(scores.items()):
            self.stdout.write(f"{zone:<12} {stream:<15} {s.matched:>7} {s.missed:>7} {s.extra:>6}")
        matched = sum(s.matched for s in scores.values())
        missed = sum(s.missed for s in scores.values())
        extra = sum(s.extra for s in scores.values())
        real = matched + missed
        self.stdout.write(
            f"total: {matched} matched of {real} real collections "
            f"({100 * matched / real:.2f}%), {missed} missed, {extra} extra"
        )
        for zone, stream, day, kind in differences:
            self.stdout.write(f"  {kind:<6} {zone} {stream} {day.isoformat()} {day:%A}")
