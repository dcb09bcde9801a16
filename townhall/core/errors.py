"""Domain errors: every error a service raises carries a stable, machine-readable code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a Townhall service raises on purpose."""

    code = "domain.error"

    def __init__(self, message: str, *, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, object]:
        """Return the error as plain data for a face to render in its own format."""
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(DomainError):
    """Raise when an object does not exist or the actor may not see it (the same answer)."""

    code = "not_found"


class ValidationFailed(DomainError):
    """Raise when input breaks a rule; `details` maps each field to its messages."""

    code = "validation_failed"
