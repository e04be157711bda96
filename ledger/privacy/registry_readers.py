"""The reader set as governed on chain: the registry's registered reader keys.

The aggregator and every auditor register their secp256k1 public key with
``registerReaderKey`` (the contract checks the key belongs to the caller and that the
caller holds the aggregator or auditor role); participants seal to exactly that set.
Sealing to a set that lacks the current aggregator would produce an update nobody can
aggregate, so that is refused here, before anything is encrypted or published.
"""

from __future__ import annotations

from typing import Protocol

from eth_typing import ChecksumAddress

from ledger.contracts.registry import ReaderKey as ChainReaderKey
from ledger.errors import ConfigError
from ledger.privacy.readers import ReaderKey, StaticReaderKeys

__all__ = ["RegistryReaderKeys"]


class _ReaderRegistry(Protocol):
    """The two registry views this module reads (`TrainingRegistry` has them)."""

    def reader_keys(self) -> list[ChainReaderKey]: ...

    def aggregator(self) -> ChecksumAddress: ...


class RegistryReaderKeys:
    """`ReaderKeySource` over the registry's current reader keys (read on every call)."""

    def __init__(self, registry: _ReaderRegistry) -> None:
        """Read keys from `registry` (a `ledger.contracts.registry.TrainingRegistry`)."""
        self._registry = registry

    def reader_keys(self) -> tuple[ReaderKey, ...]:
        """The registered readers, sorted by address; the aggregator must be among them.

        Raises
        ------
        ConfigError
            No reader key is registered, or none for the current aggregator.
        ReaderKeyError
            A registered key does not belong to the account it is listed for.
        """
        keys = [ReaderKey(k.account, k.public_key) for k in self._registry.reader_keys()]
        aggregator = self._registry.aggregator()
        if aggregator not in {k.address for k in keys}:
            raise ConfigError(
                f"the aggregator {aggregator} has not registered a reader key "
                f"({len(keys)} reader key(s) registered): it could not open encrypted "
                "updates; it must call registerReaderKey before participants encrypt"
            )
        return StaticReaderKeys(keys).reader_keys()
