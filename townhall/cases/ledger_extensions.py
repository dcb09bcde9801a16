"""Other apps' hash chains, verified and sealed with the cases' (`townhall ledger`).

An app above cases (notices) registers an extension from its AppConfig.ready(); cases
never imports it. `ledger verify` adds each extension's chain check to its own, the daily
seal calls `seal` in the transaction that makes the case seal (signed with the same key),
and checking a seal calls `seal_check` with the key the case seal is checked with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from townhall.cases.ledger import ChainBreak
    from townhall.cases.models import LedgerSeal


class LedgerExtension(Protocol):
    name: str

    def verify(self) -> tuple[int, list[ChainBreak]]:
        """Recompute the chains; return (events checked, breaks)."""

    def seal(self, seal: LedgerSeal, key: Ed25519PrivateKey) -> None:
        """Seal the chains' heads along with the case seal `seal`."""

    def seal_check(self, seal: LedgerSeal, trusted_key: bytes) -> list[ChainBreak]:
        """Check the chains against what was sealed with `seal`; return breaks."""


_registry: dict[str, LedgerExtension] = {}


def ledger_extension_register(extension: LedgerExtension) -> None:
    """Register (or replace, by name) an extension."""
    _registry[extension.name] = extension


def ledger_extensions() -> list[LedgerExtension]:
    return list(_registry.values())
