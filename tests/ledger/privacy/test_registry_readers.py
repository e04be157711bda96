"""The on-chain reader set: registered keys become the envelope's readers."""

from __future__ import annotations

import pytest

from ledger.contracts.deploy import DevNetwork
from ledger.errors import ConfigError
from ledger.privacy.envelope import open_envelope, parse_envelope, seal
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.registry_readers import RegistryReaderKeys


def secret_of(account: object) -> ReaderSecret:
    """The reader secret of a dev account (an eth-account LocalAccount)."""
    return ReaderSecret(bytes(account.key))  # type: ignore[attr-defined]


@pytest.mark.parametrize("chain_kind", ["embedded"])
def test_registered_aggregator_and_auditor_keys_are_the_readers(network: DevNetwork) -> None:
    # Prepare
    registry = network.network.registry
    aggregator, auditor = secret_of(network.aggregator), secret_of(network.auditor)
    registry.register_reader_key(aggregator.reader.public_key, sender=network.aggregator)
    registry.register_reader_key(auditor.reader.public_key, sender=network.auditor)
    # Execute
    readers = RegistryReaderKeys(registry).reader_keys()
    envelope = seal(b"an update", readers)
    # Assert
    assert {r.address for r in readers} == {aggregator.address, auditor.address}
    assert set(parse_envelope(envelope).header.reader_addresses) == {aggregator.address,
                                                                     auditor.address}
    assert open_envelope(envelope, auditor) == b"an update"


@pytest.mark.parametrize("chain_kind", ["embedded"])
def test_sealing_without_the_aggregators_key_is_refused(network: DevNetwork) -> None:
    # Prepare
    registry = network.network.registry
    registry.register_reader_key(secret_of(network.auditor).reader.public_key,
                                 sender=network.auditor)
    # Execute
    with pytest.raises(ConfigError) as caught:
        RegistryReaderKeys(registry).reader_keys()
    # Assert
    assert str(caught.value) == (
        f"the aggregator {network.aggregator.address} has not registered a reader key "
        "(1 reader key(s) registered): it could not open encrypted updates; it must call "
        "registerReaderKey before participants encrypt")
