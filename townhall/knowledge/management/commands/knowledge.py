"""`townhall knowledge import|eval|gaps|reembed`: load articles, measure search, report content
gaps, encode stale vectors again."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.core.errors import DomainError
from townhall.knowledge.clustering import gaps_cluster
from townhall.knowledge.embeddings import embedder_get
from townhall.knowledge.evaluation import EvalCase, ranking_evaluate, report_table
from townhall.knowledge.importing import eval_rows
from townhall.knowledge.jsonl import jsonl_read
from townhall.knowledge.models import Article
from townhall.knowledge.selectors import knowledge_index_get, search_gaps
from townhall.knowledge.services import articles_import, articles_reembed


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    return jsonl_read(path)


class Command(BaseCommand):
    help = (
        "Help articles. Sub-commands: import FILE.jsonl (id, title, body, language, tags); "
        "eval FILE.jsonl (query, expected_id) prints MRR@10, recall@1/@5 and latency; "
        "gaps clusters searches that found no good answer; reembed encodes again the "
        "articles whose vectors are missing or of an older model or layout."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="Create or update articles from JSONL.")
        load.add_argument("file")
        load.add_argument("--draft", action="store_true", help="Import as drafts.")
        run = sub.add_parser("eval", help="Measure search against expected answers.")
        run.add_argument("file")
        gaps = sub.add_parser("gaps", help="Cluster unanswered searches and questions.")
        gaps.add_argument("--limit", type=int, default=500)
        gaps.add_argument("--clusters", type=int, default=None)
        again = sub.add_parser("reembed", help="Encode again articles with stale vectors.")
        again.add_argument("--all", action="store_true", help="Encode every article again.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "import":
                self._import(Path(options["file"]), options)
            elif options["action"] == "eval":
                self._eval(Path(options["file"]))
            elif options["action"] == "reembed":
                self._reembed(every=options["all"])
            else:
                self._gaps(options["limit"], options["clusters"])
        except DomainError as error:
            lines = [error.message]
            lines += [f"  {k}: {m}" for k, messages in error.details.items() for m in messages]
            raise CommandError("\n".join(lines)) from None

    def _import(self, path: Path, options: dict[str, Any]) -> None:
        rows = _jsonl(path)
        embedder_get()  # load (or log the fallback) before the bar starts
        with Progress(disable=options["verbosity"] == 0) as progress:
            task = progress.add_task("Importing articles", total=len(rows))
            result = articles_import(
                rows=rows,
                publish=not options["draft"],
                progress=lambda n: progress.advance(task, n),
            )
        self.stdout.write(f"{result.created} created, {result.updated} updated")

    def _eval(self, path: Path) -> None:
        rows = eval_rows(_jsonl(path), where=str(path))
        ids = dict(Article.objects.values_list("external_id", "pk"))
        unknown = sorted({r.expected_id for r in rows} - set(ids))
        if unknown:
            self.stderr.write(f"{len(unknown)} expected ids are not imported: {unknown[:5]}")
        cases = [EvalCase(r.query, ids[r.expected_id]) for r in rows if r.expected_id in ids]
        index = knowledge_index_get()
        if len(index.modes) == 1:
            self.stdout.write("embedding model unavailable: BM25 only")
        reports = [ranking_evaluate(index=index, cases=cases, mode=mode) for mode in index.modes]
        self.stdout.write(report_table(reports))

    def _reembed(self, *, every: bool) -> None:
        if embedder_get() is None:
            raise CommandError("embedding model unavailable: nothing to encode (BM25 only)")
        self.stdout.write(f"{articles_reembed(every=every)} articles encoded")

    def _gaps(self, limit: int, clusters: int | None) -> None:
        queries = [log.query for log in search_gaps(limit=limit)]
        if not queries:
            self.stdout.write("No unanswered searches.")
            return
        for cluster in gaps_cluster(queries, clusters=clusters):
            examples = "; ".join(cluster.queries[:5])
            self.stdout.write(f"{cluster.count:>4}  {cluster.label}: {examples}")
