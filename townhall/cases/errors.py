"""Errors the cases services raise, each with a stable code."""

from __future__ import annotations

from townhall.core.errors import DomainError, NotFound, ValidationFailed


class CaseError(DomainError):
    code = "case.error"


class InvalidTransition(CaseError):
    """Raise when a status change is not allowed by the lifecycle table."""

    code = "case.invalid_transition"


class CaseNotFound(NotFound):
    """Raise when a case does not exist or the actor may not see it."""

    code = "case.not_found"


class InvalidCaseInput(ValidationFailed):
    """Raise when what was submitted cannot open or change a case."""

    code = "case.invalid_input"


class InvalidMerge(CaseError):
    """Raise when two cases cannot be merged (same case, or target already finished)."""

    code = "case.invalid_merge"


class LedgerBroken(CaseError):
    """Raise when a case's event chain does not verify."""

    code = "case.ledger_broken"
