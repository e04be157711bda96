"""The TrainingRegistry binding drives a full round and decodes the contract's reverts exactly.

The contracts' own tests cover every rule; these prove the Python side: typed arguments go in,
typed records come out, and each custom error arrives with its name and arguments, on both the
embedded chain and anvil.
"""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak

from ledger.contracts.artifacts import load_artifact
from ledger.contracts.binding import InvalidArgument, snake_case
from ledger.contracts.deploy import DevNetwork
from ledger.contracts.devgov import govern
from ledger.contracts.proposals import RegistryActions
from ledger.contracts.registry import (
    AGGREGATOR_ROLE,
    REGISTRY_EVENTS,
    AggregatorBondSlashed,
    ChallengeResolved,
    RewardClaimed,
    RoundChallenged,
    RoundFinalized,
    RoundOpened,
    RoundReopened,
    RoundStatus,
    TrainingRegistry,
    UpdateCommitted,
    UpdateRevealed,
    commitment,
)
from ledger.contracts.token import Transfer
from ledger.errors import ContractRevert
from ledger.merkle import StandardMerkleTree

TASK_HASH = keccak(b"task spec")
MODEL_HASH = keccak(b"model 0")
NEW_MODEL_HASH = keccak(b"model 1")
REPORT_HASH = keccak(b"report 0")
LEAF_ENCODING = ["address", "uint64", "uint256"]


def _hashes(i: int) -> tuple[bytes, bytes, bytes]:
    return keccak(b"update %d" % i), keccak(b"proof %d" % i), keccak(b"salt %d" % i)


def _open_round(dev: DevNetwork, round_id: int = 0) -> tuple[int, int]:
    registry = dev.registry
    if round_id == 0:
        govern(dev, RegistryActions(registry).set_task(TASK_HASH, "bafytask"))
    now = dev.backend.now()
    commit_deadline, reveal_deadline = now + 100, now + 200
    registry.open_round(
        round_id, "bafymodel0", MODEL_HASH, commit_deadline, reveal_deadline, sender=dev.aggregator
    )
    return commit_deadline, reveal_deadline


def test_round_lifecycle_happy_path(network: DevNetwork) -> None:
    # Prepare
    registry, token, backend = network.registry, network.token, network.backend
    members = network.participants[:3]
    rewards = {p.address: (i + 1) * 100 for i, p in enumerate(members)}
    tree = StandardMerkleTree.of(
        [[address, 0, amount] for address, amount in rewards.items()], LEAF_ENCODING
    )

    # Execute: open, commit, reveal, finalize, claim
    commit_deadline, reveal_deadline = _open_round(network)
    for i, p in enumerate(members):
        update_hash, proof_hash, salt = _hashes(i)
        registry.commit(0, commitment(0, p.address, update_hash, proof_hash, salt), sender=p)
    backend.set_next_block_timestamp(commit_deadline + 1)
    for i, p in enumerate(members):
        update_hash, proof_hash, salt = _hashes(i)
        registry.reveal(
            0, f"bafyupdate{i}", update_hash, f"bafyproof{i}", proof_hash, 10 + i, salt, sender=p
        )
    revealed_info = registry.round_info(0)
    backend.set_next_block_timestamp(reveal_deadline + 1)
    finalize = registry.finalize_round(
        0,
        "bafymodel1",
        NEW_MODEL_HASH,
        "bafyreport0",
        REPORT_HASH,
        tree.root_bytes,
        sum(rewards.values()),
        sender=network.aggregator,
    )
    finalized_info = registry.round_info(0)
    backend.advance_time(network.params.challenge_window)
    first = members[0]
    balance_before = token.balance_of(first.address)
    claim = registry.claim(
        0,
        first.address,
        rewards[first.address],
        tree.get_proof([first.address, 0, 100]),
        sender=network.outsider,
    )

    # Assert: stored state at each stage
    assert revealed_info.status is RoundStatus.OPEN
    assert (revealed_info.commit_count, revealed_info.reveal_count) == (3, 3)
    assert revealed_info.model_cid == "bafymodel0"
    assert revealed_info.task_hash == TASK_HASH
    assert finalized_info.status is RoundStatus.FINALIZED
    assert finalized_info.rewards_root == tree.root_bytes
    assert finalized_info.total_reward == 600
    (finalized,) = registry.decode_receipt_events(finalize)
    assert isinstance(finalized, RoundFinalized)
    assert finalized.claimable_at == finalized_info.claimable_at
    assert finalized.new_model_cid == "bafymodel1"
    assert finalized.report_hash == REPORT_HASH
    # Assert: the claim minted to the participant, with both contracts' events decoded
    assert token.balance_of(first.address) == balance_before + 100
    assert registry.is_claimed(0, first.address)
    assert registry.round_info(0).claimed_reward == 100
    decoded = network.network.decode_receipt_events(claim)
    assert [type(r) for r in decoded] == [RewardClaimed, Transfer]
    assert (decoded[0].round, decoded[0].account, decoded[0].amount) == (0, first.address, 100)
    assert (decoded[1].to, decoded[1].value) == (first.address, 100)
    # Assert: event readers return typed records matching what was sent
    (opened,) = registry.events_round_opened(round=0)
    assert opened == RoundOpened(
        block_number=opened.block_number,
        tx_hash=opened.tx_hash,
        log_index=opened.log_index,
        round=0,
        model_cid="bafymodel0",
        model_hash=MODEL_HASH,
        task_hash=TASK_HASH,
        commit_deadline=commit_deadline,
        reveal_deadline=reveal_deadline,
    )
    commits = registry.events_update_committed(round=0)
    assert [c.participant for c in commits] == [p.address for p in members]
    assert all(isinstance(c, UpdateCommitted) for c in commits)
    (second_reveal,) = registry.events_update_revealed(round=0, participant=members[1].address)
    assert isinstance(second_reveal, UpdateRevealed)
    assert (second_reveal.update_cid, second_reveal.proof_cid) == ("bafyupdate1", "bafyproof1")
    assert (second_reveal.update_hash, second_reveal.num_samples) == (_hashes(1)[0], 11)
    assert registry.events_reward_claimed(round=0) == [decoded[0]]
    assert registry.next_round() == 1


def test_commitment_helper_matches_the_contract(network: DevNetwork) -> None:
    # Prepare
    member = network.participants[0]
    update_hash, proof_hash, salt = _hashes(7)
    expected = keccak(
        (0).to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(member.address[2:])
        + update_hash
        + proof_hash
        + salt
    )
    _open_round(network)

    # Execute
    value = commitment(0, member.address, update_hash, proof_hash, salt)
    network.registry.commit(0, value, sender=member)

    # Assert
    assert value == expected
    assert network.registry.commitment_of(0, member.address) == expected
    assert not network.registry.has_revealed(0, member.address)


def test_reveal_with_the_wrong_salt_decodes_commitment_mismatch(network: DevNetwork) -> None:
    # Prepare
    member = network.participants[1]
    update_hash, proof_hash, salt = _hashes(1)
    commit_deadline, _ = _open_round(network)
    network.registry.commit(
        0, commitment(0, member.address, update_hash, proof_hash, salt), sender=member
    )
    network.backend.set_next_block_timestamp(commit_deadline + 1)

    # Execute
    with pytest.raises(ContractRevert) as caught:
        network.registry.reveal(
            0, "bafyu", update_hash, "bafyp", proof_hash, 5, keccak(b"other salt"), sender=member
        )

    # Assert
    assert caught.value.error_name == "RegistryCommitmentMismatch"
    assert caught.value.error_args == (0, member.address)
    assert network.registry.round_info(0).reveal_count == 0


def test_outsider_cannot_commit(network: DevNetwork) -> None:
    # Prepare
    _open_round(network)

    # Execute
    with pytest.raises(ContractRevert) as caught:
        network.registry.commit(0, keccak(b"x"), sender=network.outsider)

    # Assert
    assert caught.value.error_name == "RegistryNotParticipant"
    assert caught.value.error_args == (network.outsider.address,)


def test_only_the_aggregator_opens_rounds(network: DevNetwork) -> None:
    # Prepare
    govern(network, RegistryActions(network.registry).set_task(TASK_HASH, "bafytask"))
    now = network.backend.now()

    # Execute
    with pytest.raises(ContractRevert) as caught:
        network.registry.open_round(
            0, "bafym", MODEL_HASH, now + 100, now + 200, sender=network.participants[0]
        )

    # Assert
    assert caught.value.error_name == "AccessControlUnauthorizedAccount"
    assert caught.value.error_args == (network.participants[0].address, AGGREGATOR_ROLE)
    assert network.registry.round_info(0).status is RoundStatus.NONE


def test_register_without_allowance_decodes_the_tokens_error(network: DevNetwork) -> None:
    # Prepare: the outsider holds no tokens and approved nothing
    stake = network.params.min_stake

    # Execute
    with pytest.raises(ContractRevert) as caught:
        network.registry.register(stake, sender=network.outsider)

    # Assert: raised by the token inside the registry's call, decoded from the token's ABI
    assert caught.value.error_name == "ERC20InsufficientAllowance"
    assert caught.value.error_args == (network.registry.address, 0, stake)
    assert not network.registry.participant(network.outsider.address).registered


def test_stake_below_minimum_and_double_registration_decode(network: DevNetwork) -> None:
    # Execute
    with pytest.raises(ContractRevert) as too_low:
        network.registry.register(1, sender=network.outsider)
    with pytest.raises(ContractRevert) as twice:
        network.registry.register(network.stake, sender=network.participants[0])

    # Assert
    assert (too_low.value.error_name, too_low.value.error_args) == (
        "RegistryStakeTooLow",
        (1, network.params.min_stake),
    )
    assert (twice.value.error_name, twice.value.error_args) == (
        "RegistryAlreadyRegistered",
        (network.participants[0].address,),
    )


def test_challenge_freezes_claims_until_governance_reopens_the_round(network: DevNetwork) -> None:
    # Prepare: an empty round, finalized with one reward
    registry, backend = network.registry, network.backend
    challenger = network.participants[2]
    winner = network.participants[0]
    tree = StandardMerkleTree.of(
        [[winner.address, 0, 50], [challenger.address, 0, 1]], LEAF_ENCODING
    )
    _, reveal_deadline = _open_round(network)
    backend.set_next_block_timestamp(reveal_deadline + 1)
    registry.finalize_round(
        0,
        "bafym1",
        NEW_MODEL_HASH,
        "bafyr",
        REPORT_HASH,
        tree.root_bytes,
        51,
        sender=network.aggregator,
    )
    network.token.approve(registry.address, network.params.challenge_bond, sender=challenger)
    balance_before = network.token.balance_of(challenger.address)
    bond = network.params.aggregator_bond

    # Execute
    challenged = registry.challenge(0, "bafyevidence", sender=challenger)
    backend.advance_time(network.params.challenge_window)
    with pytest.raises(ContractRevert) as frozen:
        registry.claim(0, winner.address, 50, tree.get_proof(0), sender=winner)
    enacted = govern(network, RegistryActions(registry).resolve_challenge(0, True))
    resolved = enacted.execute

    # Assert
    (record,) = registry.decode_receipt_events(challenged)
    assert isinstance(record, RoundChallenged)
    assert (record.round, record.challenger, record.evidence_cid, record.bond) == (
        0,
        challenger.address,
        "bafyevidence",
        network.params.challenge_bond,
    )
    assert (frozen.value.error_name, frozen.value.error_args) == ("RegistryClaimsFrozen", (0,))
    decided, slashed, reopened = registry.decode_receipt_events(resolved)[:3]
    assert isinstance(decided, ChallengeResolved) and (decided.round, decided.upheld) == (0, True)
    assert isinstance(slashed, AggregatorBondSlashed)
    assert (slashed.aggregator, slashed.round) == (network.aggregator.address, 0)
    assert isinstance(reopened, RoundReopened) and reopened.round == 0
    assert registry.round_info(0).status is RoundStatus.OPEN
    assert (slashed.amount, slashed.to_challenger, slashed.remaining) == (bond, bond // 2, 0)
    assert network.token.balance_of(challenger.address) == balance_before + bond // 2
    assert registry.treasury() == bond - bond // 2
    assert registry.aggregator_bond_of(network.aggregator.address) == 0
    assert registry.events_round_challenged(challenger=challenger.address) == [record]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r, s: r.commit(0, b"\x01" * 31, sender=s), "commitment must be exactly 32 bytes"),
        (lambda r, s: r.commit(-1, b"\x01" * 32, sender=s), r"round must be an integer in \[0, "),
        (lambda r, s: r.commit(2**64, b"\x01" * 32, sender=s), "round must be an integer"),
        (lambda r, s: r.appoint_aggregator("0x1234", sender=s), "account must be a 20-byte"),
        (lambda r, s: r.set_task("0xzz", "cid", sender=s), "task_hash must be 32 bytes or 0x-hex"),
        (lambda r, s: r.register(True, sender=s), "stake must be an integer"),
        (lambda r, s: r.set_task(b"\x01" * 32, 7, sender=s), "task_cid must be a string"),
    ],
)
def test_malformed_arguments_fail_before_anything_is_sent(
    network: DevNetwork, call: object, message: str
) -> None:
    # Prepare
    sender = network.participants[0]
    nonce = network.backend.w3.eth.get_transaction_count(sender.address)

    # Execute
    with pytest.raises(InvalidArgument, match=message):
        call(network.registry, sender)  # type: ignore[operator]

    # Assert
    assert network.backend.w3.eth.get_transaction_count(sender.address) == nonce


def test_views_return_typed_records(network: DevNetwork) -> None:
    # Execute
    registry = network.registry
    member = registry.participant(network.participants[0].address)
    stranger = registry.participant(network.outsider.address)

    # Assert
    assert member.active and member.stake == network.stake
    assert not stranger.registered and not stranger.active
    assert registry.parameters() == network.params
    assert registry.task().task_hash == bytes(32)
    assert registry.aggregator() == network.aggregator.address
    assert registry.token_address() == network.token.address
    assert registry.treasury() == 0
    assert registry.has_role(AGGREGATOR_ROLE, network.aggregator.address)
    assert registry.role_admin(AGGREGATOR_ROLE) == bytes(32)
    assert registry.supports_interface(bytes.fromhex("01ffc9a7"))  # ERC-165 itself
    assert registry.round_info(5).status is RoundStatus.NONE


def test_binding_covers_every_function_and_event_of_the_abi() -> None:
    # Prepare
    abi = load_artifact("TrainingRegistry").abi
    constants = {"DEFAULT_ADMIN_ROLE", "AGGREGATOR_ROLE", "AUDITOR_ROLE"}  # module constants
    renamed = {"round": "round_info", "token": "token_address", "getRoleAdmin": "role_admin"}

    # Execute
    functions = {e["name"] for e in abi if e["type"] == "function"} - constants
    missing = [
        name
        for name in functions
        if not hasattr(TrainingRegistry, renamed.get(name, snake_case(name)))
    ]
    events = {e["name"]: e for e in abi if e["type"] == "event"}
    records = {record.EVENT_NAME: record for record in REGISTRY_EVENTS}

    # Assert
    assert missing == []
    assert set(records) == set(events)
    for name, entry in events.items():
        fields = [f.name for f in dataclasses.fields(records[name])][3:]  # after where-logged
        assert fields == [snake_case(i["name"]) for i in entry["inputs"]], name
        assert hasattr(TrainingRegistry, f"events_{snake_case(name)}"), name


def test_rejected_challenge_forfeits_the_bond_to_the_treasury(network: DevNetwork) -> None:
    # Prepare: a finalized empty round, challenged by a participant
    registry, backend, token = network.registry, network.backend, network.token
    challenger = network.participants[1]
    _, reveal_deadline = _open_round(network)
    backend.set_next_block_timestamp(reveal_deadline + 1)
    registry.finalize_round(0, "bafym1", NEW_MODEL_HASH, "bafyr", REPORT_HASH, bytes(32), 0,
                            sender=network.aggregator)
    token.approve(registry.address, network.params.challenge_bond, sender=challenger)
    balance_before = token.balance_of(challenger.address)
    held_before = token.balance_of(registry.address)
    registry.challenge(0, "bafyevidence", sender=challenger)

    # Execute
    enacted = govern(network, RegistryActions(registry).resolve_challenge(0, False))

    # Assert
    forfeited = registry.events_challenge_bond_forfeited(round=0)
    assert [(e.challenger, e.bond) for e in forfeited] == [
        (challenger.address, network.params.challenge_bond)]
    assert forfeited[0].tx_hash == bytes(enacted.execute["transactionHash"])
    assert token.balance_of(challenger.address) == balance_before - network.params.challenge_bond
    assert token.balance_of(registry.address) == held_before + network.params.challenge_bond
    assert registry.treasury() == network.params.challenge_bond
    assert registry.aggregator_bond_of(network.aggregator.address) == network.params.aggregator_bond
    assert registry.round_info(0).status is RoundStatus.FINALIZED
