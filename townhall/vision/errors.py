"""Errors photo recognition raises to its callers (a clear message, never a 500)."""

from __future__ import annotations


class VisionError(ValueError):
    """A request about tags that cannot be carried out (unknown tag or photo)."""
