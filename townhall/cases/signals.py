"""Signals cases sends for apps above it (which cases must not import).

`photos_added(sender=CasePhoto, photos=[CasePhoto, ...])` is sent inside the transaction
that stores a case's new photos, once per batch; receivers that want to act after the
commit (photo recognition enqueues its tagging) use transaction.on_commit themselves.
"""

from __future__ import annotations

from django.dispatch import Signal

photos_added = Signal()
