"""Reader keys through the Python binding: the key is normalised (64 or 65 bytes), checked
against the sender before anything is sent, and listed as typed `ReaderKey` records."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey

from ledger.contracts.binding import InvalidArgument
from ledger.contracts.deploy import DevNetwork
from ledger.contracts.registry import ReaderKey, ReaderKeyRegistered, reader_address
from ledger.errors import ContractRevert


def _public_key(account: object) -> bytes:
    assert isinstance(account, LocalAccount)
    return bytes(PrivateKey(bytes(account.key)).public_key.to_bytes())


def test_readers_register_and_are_listed(network: DevNetwork) -> None:
    # Prepare: the auditor passes the 65-byte 0x04-prefixed form
    registry = network.registry
    aggregator_key, auditor_key = _public_key(network.aggregator), _public_key(network.auditor)

    # Execute
    receipt = registry.register_reader_key(aggregator_key, sender=network.aggregator)
    registry.register_reader_key(b"\x04" + auditor_key, sender=network.auditor)

    # Assert
    (event,) = registry.decode_receipt_events(receipt)
    assert isinstance(event, ReaderKeyRegistered)
    assert (event.account, event.public_key) == (network.aggregator.address, aggregator_key)
    assert sorted(registry.reader_keys(), key=lambda r: r.account) == sorted(
        [ReaderKey(network.aggregator.address, aggregator_key),
         ReaderKey(network.auditor.address, auditor_key)], key=lambda r: r.account)
    assert reader_address(auditor_key) == network.auditor.address


def test_a_wrong_reader_key_is_refused(network: DevNetwork) -> None:
    # Prepare
    registry = network.registry
    auditor_key = _public_key(network.auditor)

    # Execute
    with pytest.raises(ContractRevert) as foreign:
        registry.register_reader_key(auditor_key, sender=network.aggregator)
    with pytest.raises(InvalidArgument, match="64 bytes, or 65 starting with 0x04"):
        registry.register_reader_key(auditor_key[:33], sender=network.aggregator)

    # Assert
    assert (foreign.value.error_name, foreign.value.error_args) == (
        "RegistryReaderKeyMismatch", (network.aggregator.address, network.auditor.address))
    assert registry.reader_keys() == []
