"""TrainingRegistry reader keys: the aggregator and auditors publish the secp256k1 public keys
participants encrypt updates to; the key must belong to the caller, and a reader that loses its
role drops out of the list."""

from __future__ import annotations

from eth_keys.datatypes import PrivateKey

from tests.contracts.scenario import Chain

ZERO = "0x0000000000000000000000000000000000000000"


def _public_key(chain: Chain, account: str) -> bytes:
    keys: list[PrivateKey] = chain.tester.backend.account_keys
    (key,) = [k for k in keys if k.public_key.to_checksum_address() == account]
    return bytes(key.public_key.to_bytes())


def test_aggregator_and_auditor_register_their_own_keys(base: Chain) -> None:
    # Prepare
    aggregator, auditor = base.actors.aggregator, base.actors.auditor
    aggregator_key, auditor_key = _public_key(base, aggregator), _public_key(base, auditor)

    # Execute
    receipt = base.send(base.registry.functions.registerReaderKey(aggregator_key), aggregator)
    base.send(base.registry.functions.registerReaderKey(auditor_key), auditor)

    # Assert
    assert base.events(receipt, "ReaderKeyRegistered") == [
        {"account": aggregator, "publicKey": aggregator_key}]
    assert base.registry.functions.readerKeys().call() == [
        [aggregator, auditor], [aggregator_key, auditor_key]]
    assert base.registry.functions.readerKeyOf(auditor).call() == auditor_key


def test_a_key_of_another_account_is_rejected(base: Chain) -> None:
    # Prepare: the aggregator offers the auditor's public key
    aggregator, auditor = base.actors.aggregator, base.actors.auditor

    # Execute
    error = base.revert_of(
        base.registry.functions.registerReaderKey(_public_key(base, auditor)), aggregator)

    # Assert
    assert error == ("RegistryReaderKeyMismatch", (aggregator, auditor))
    assert base.registry.functions.readerKeys().call() == [[], []]


def test_a_key_of_the_wrong_length_is_rejected(base: Chain) -> None:
    # Prepare: the 65-byte form with its 0x04 prefix is not what the registry stores
    aggregator = base.actors.aggregator
    prefixed = b"\x04" + _public_key(base, aggregator)

    # Execute
    error = base.revert_of(base.registry.functions.registerReaderKey(prefixed), aggregator)

    # Assert
    assert error == ("RegistryInvalidReaderKey", (65,))


def test_participants_are_not_readers(members: Chain) -> None:
    # Prepare
    alice = members.actors.alice

    # Execute
    error = members.revert_of(
        members.registry.functions.registerReaderKey(_public_key(members, alice)), alice)

    # Assert
    assert error == ("RegistryNotReader", (alice,))


def test_a_reader_losing_its_role_drops_out_of_the_list(base: Chain) -> None:
    # Prepare
    auditor, aggregator = base.actors.auditor, base.actors.aggregator
    base.send(base.registry.functions.registerReaderKey(_public_key(base, auditor)), auditor)
    base.send(base.registry.functions.registerReaderKey(_public_key(base, aggregator)), aggregator)

    # Execute: governance revokes the auditor and replaces the aggregator
    revoked = base.send(base.registry.functions.revokeRole(base.auditor_role, auditor),
                        base.actors.admin)
    replaced = base.send(base.registry.functions.appointAggregator(base.actors.carol),
                         base.actors.admin)

    # Assert
    assert base.events(revoked, "ReaderKeyRemoved") == [{"account": auditor}]
    assert base.events(replaced, "ReaderKeyRemoved") == [{"account": aggregator}]
    assert base.registry.functions.readerKeys().call() == [[], []]
    assert base.registry.functions.readerKeyOf(auditor).call() == b""
