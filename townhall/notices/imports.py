"""Importing a recall's batch codes: up to 100,000 and more, from a CSV file or any list.

Codes are normalised (notices/codes.py) and written a batch per transaction: the batch's
new codes, the recall's count and digest, and a chain event saying so, together. A batch
skips the codes already there, so an import killed half-way is simply run again: the
batches it finished are found present and nothing is added twice (resumable, idempotent).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.notices.chain import event_append
from townhall.notices.codes import InvalidCode, code_normalise, codes_sum
from townhall.notices.models import NoticeKind, Recall, RecallCode
from townhall.notices.services import notice_lock

BATCH = 5000
MAX_INVALID_SHOWN = 20
CODE_HEADERS = {"code", "batch", "lot", "batch_code", "lot_code", "codes"}


@dataclass
class ImportResult:
    read: int = 0
    added: int = 0
    present: int = 0
    invalid: int = 0
    batches: int = 0
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)


def csv_codes(text: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Yield (line number, raw code) from CSV lines: the column headed code/batch/lot (or
    the first column), one code per row; a header row is recognised and skipped."""
    reader = csv.reader(text)
    column = 0
    for number, row in enumerate(reader, start=1):
        if not row:
            continue
        if number == 1:
            headers = [h.strip().lower() for h in row]
            named = [i for i, h in enumerate(headers) if h in CODE_HEADERS]
            if named:
                column = named[0]
                continue
        if column < len(row):
            yield number, row[column]


def csv_codes_from_bytes(data: bytes) -> Iterator[tuple[int, str]]:
    """csv_codes over an uploaded file's bytes (UTF-8, a byte-order mark allowed)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The file is not UTF-8 text (save it as CSV UTF-8).") from exc
    return csv_codes(io.StringIO(text))


def recall_codes_import(
    notice_id: int,
    rows: Iterable[tuple[int, str]],
    *,
    actor: AbstractBaseUser | None = None,
    batch: int = BATCH,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Add the codes of `rows` ((line number, raw code) pairs) to the recall of notice
    `notice_id`; return what was read, added, already present and invalid (invalid lines
    are skipped and counted; the first few are kept to show). ValidationFailed if the
    notice is not a recall."""
    result = ImportResult()
    it = iter(rows)
    while chunk := list(islice(it, batch)):
        codes: set[str] = set()
        for number, raw in chunk:
            result.read += 1
            try:
                codes.add(code_normalise(raw))
            except InvalidCode as exc:
                result.invalid += 1
                if len(result.invalid_lines) < MAX_INVALID_SHOWN:
                    result.invalid_lines.append((number, str(exc)))
        _batch_write(notice_id, codes, actor=actor, result=result)
        if progress is not None:
            progress(result)
    return result


def _batch_write(
    notice_id: int, codes: set[str], *, actor: AbstractBaseUser | None, result: ImportResult
) -> None:
    with transaction.atomic():
        notice = notice_lock(notice_id)
        if notice.kind != NoticeKind.RECALL:
            raise ValidationFailed("Only a product recall has batch codes.")
        recall = Recall.objects.select_for_update().get(notice=notice)
        present = set(
            RecallCode.objects.filter(recall=recall, code__in=codes).values_list("code", flat=True)
        )
        new = sorted(codes - present)
        result.present += len(present)
        result.batches += 1
        if not new:
            return
        RecallCode.objects.bulk_create([RecallCode(recall=recall, code=c) for c in new])
        recall.codes_count += len(new)
        recall.codes_sum = codes_sum(new, start=recall.codes_sum)
        recall.save(update_fields=["codes_count", "codes_sum", "updated_at"])
        event_append(notice, "codes_added", at=clock.now(), actor=actor, data={"added": len(new)})
        result.added += len(new)


MAX_UPLOAD = 20 * 1024 * 1024


def recall_codes_import_upload(
    notice_id: int, data: bytes, *, actor: AbstractBaseUser | None = None
) -> ImportResult:
    """`recall_codes_import` of an uploaded CSV file's bytes (pages: the console). Raise
    ValidationFailed for a file over 20 MB (the command takes those), one that is not
    UTF-8, or a notice that is not a recall."""
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed("The file is over 20 MB: use `townhall notices import-codes`.")
    return recall_codes_import(notice_id, csv_codes_from_bytes(data), actor=actor)
