"""Deleting stored files (photos, attachments) that rows no longer point at."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)


def stored_files_delete(names: Iterable[str], *, what: str) -> int:
    """Delete these files from storage; return how many went. One that cannot be deleted
    is logged (by `what` it was, never its name: names can hold a reference) and skipped:
    the row is gone already, and retention finds no orphan to trip over."""
    deleted = 0
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
            deleted += 1
        except OSError:
            logger.warning("could not delete %s", what)
    return deleted


def stored_files_delete_on_commit(names: Iterable[str], *, what: str) -> None:
    """Delete these files once the transaction that dropped their rows commits (never on
    a rollback, which keeps the rows)."""
    kept = list(names)
    transaction.on_commit(lambda: stored_files_delete(kept, what=what))
