"""Errors local training raises on purpose, each telling the participant what to change."""

from __future__ import annotations

from ledger.errors import ConfigError, FedLedgerError


class DeviceUnavailableError(ConfigError):
    """The requested training device does not exist on this machine."""


class TrainingDivergedError(FedLedgerError):
    """The training loss became NaN or infinite; the update would be garbage."""
