"""One root exception for everything fedledger raises on purpose.

Callers catch `FedLedgerError` to tell a refused input or a failed call from a bug;
each subsystem derives its own family so an operator's log names where it broke.
"""

from __future__ import annotations


class FedLedgerError(Exception):
    """Root of every error fedledger raises deliberately."""


class ConfigError(FedLedgerError):
    """A configuration file, flag or environment value is missing or invalid."""


class ChainError(FedLedgerError):
    """A chain backend could not perform a call or transaction."""


class ContractRevert(ChainError):
    """A transaction or call reverted; `name` is the decoded custom error, if any."""

    def __init__(self, name: str, args: tuple[object, ...] = (), message: str = "") -> None:
        self.error_name = name
        self.error_args = args
        detail = message or f"{name}({', '.join(map(repr, args))})"
        super().__init__(f"contract reverted: {detail}")


class StoreError(FedLedgerError):
    """The content store could not store or return content."""


class ContentNotFound(StoreError):
    """No content is stored under the requested CID."""


class IntegrityError(FedLedgerError):
    """Bytes do not match the CID or hash they were announced under."""


class FormatError(FedLedgerError):
    """An artifact (update, proof, report, task spec) is malformed."""
