"""Shared state tests reuse the console's staff (one user per role, two departments)."""

from __future__ import annotations

from tests.console.conftest import dpw, isd, quick_passwords, signed_in, staff

__all__ = ["dpw", "isd", "quick_passwords", "signed_in", "staff"]
