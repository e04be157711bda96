"""A participant that drops out mid-round: committed, never revealed.

The round must not wait for it or fail because of it: the aggregator finalizes on the
reveals it has, the others are paid, the dropout gets nothing, and its unopened commitment
is slashable by anyone after the reveal deadline (`slashUnrevealed`, the governance-set
`missed_reveal_penalty`). When the dropped node comes back it finds the reveal phase over,
records the round as skipped with the reason, and a late reveal is refused with the
contract's exact error. Embedded chain; the test plays the aggregator and the clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import bootstrap_dev_network
from ledger.contracts.registry import RegistryParams, RoundStatus
from ledger.contracts.token import ONE_TOKEN
from ledger.errors import ContractRevert
from ledger.formats.report import rewards_tree
from ledger.store.disk import DiskStore
from node.journal import Journal, Stage
from node.runner import NodeRunner, Outcome, RoundResult
from tests.node.node_kit import TaskNetwork, make_participant, publish_task

PENALTY = 4 * ONE_TOKEN
STAKE = 10 * ONE_TOKEN
PARAMS = RegistryParams(min_stake=STAKE, reward_per_round=1_000 * ONE_TOKEN,
                        challenge_window=60, challenge_bond=5 * ONE_TOKEN,
                        missed_reveal_penalty=PENALTY)


@pytest.fixture(scope="module")
def _baseline(embedded_chain: TestChainBackend,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[TaskNetwork, list[int]]:
    """Three registered participants staking 10 tokens, 4 tokens penalty for a missed reveal."""
    dev = bootstrap_dev_network(embedded_chain, embedded_chain.dev_accounts(), PARAMS,
                                participants=3)
    net = publish_task(dev, DiskStore(tmp_path_factory.mktemp("store")))
    return net, [embedded_chain.snapshot()]


@pytest.fixture
def net(_baseline: tuple[TaskNetwork, list[int]], embedded_chain: TestChainBackend
        ) -> TaskNetwork:
    task_network, holder = _baseline
    embedded_chain.revert(holder[0])
    holder[0] = embedded_chain.snapshot()
    return task_network


def _runner(net: TaskNetwork, index: int, tmp_path: Path) -> NodeRunner:
    return NodeRunner(make_participant(net, index, tmp_path / f"journal-{index}"),
                      poll_seconds=0)


def test_round_finalizes_without_the_dropout_which_earns_nothing_and_is_slashable(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: three nodes commit; node 2 then dies before the reveal phase
    dev, registry, backend = net.dev, net.dev.registry, net.dev.backend
    net.orchestrator.open_next_round(net.initial)
    runners = [_runner(net, i, tmp_path) for i in range(3)]
    for runner in runners:
        assert runner.step() == []
    honest, dropout = runners[:2], runners[2]
    info = registry.round_info(0)
    assert info.commit_count == 3
    backend.mine(info.commit_deadline + 1)
    for runner in honest:
        assert runner.step() == []
    backend.mine(info.reveal_deadline + 1)
    balances = [dev.token.balance_of(r.address) for r in runners]

    # Execute: the aggregator finalizes on the two reveals it has
    finalized = net.orchestrator.finalize_round(0)

    # Assert: only the revealed submissions count; the dropout is listed as unrevealed
    assert registry.round_info(0).status is RoundStatus.FINALIZED
    report = finalized.report
    assert sorted(s.participant for s in report.submissions) == sorted(r.address for r in honest)
    assert net.orchestrator.collect(0)[1] == [dropout.address]
    tree = rewards_tree(report)
    assert tree is not None
    paid = {value[0]: value[2] for _, value in tree.entries()}
    assert dropout.address not in paid
    assert sum(paid.values()) == report.total_reward > 0

    # Execute: the dropped node's own late reveal, straight to the contract
    late = make_participant(net, 2, tmp_path / "journal-2")
    with pytest.raises(ContractRevert) as refused:
        late.reveal(0)

    # Assert
    assert (refused.value.error_name, refused.value.error_args) == (
        "RegistryRevealClosed", (0, info.reveal_deadline))

    # Execute: the dropped node's runner comes back
    returned = _runner(net, 2, tmp_path)
    ended = returned.step()

    # Assert: skipped, with the reason, on record; nothing sent
    note = (f"reveal deadline {info.reveal_deadline} passed before the reveal was sent: "
            "the commitment stays unopened")
    assert ended == [RoundResult(0, Outcome.SKIPPED, detail=note)]
    journal = Journal(returned.journal.path, returned.address, registry.address)
    entry = journal.get(0)
    assert entry is not None and entry.stage is Stage.SKIPPED and entry.note == note
    assert registry.round_info(0).reveal_count == 2

    # Execute: anyone (here the outsider) slashes the unopened commitment, once
    treasury = registry.treasury()
    registry.slash_unrevealed(0, dropout.address, sender=dev.outsider)

    # Assert
    assert registry.participant(dropout.address).stake == STAKE - PENALTY
    assert registry.treasury() == treasury + PENALTY
    slashed = registry.events_unrevealed_commit_slashed(round=0)
    assert [(e.account, e.amount) for e in slashed] == [(dropout.address, PENALTY)]
    for account in (dropout.address, honest[0].address):
        with pytest.raises(ContractRevert) as nothing:
            registry.slash_unrevealed(0, account, sender=dev.outsider)
        assert (nothing.value.error_name, nothing.value.error_args) == (
            "RegistryNothingToSlash", (0, account))
    assert registry.participant(honest[0].address).stake == STAKE

    # Execute: claims open
    backend.mine(registry.round_info(0).claimable_at + 1)
    claimed = [runner.step() for runner in honest]

    # Assert: the honest nodes are paid what the report says; the dropout got nothing
    assert claimed == [[RoundResult(0, Outcome.CLAIMED, reward=paid[r.address])]
                       for r in honest]
    after = [dev.token.balance_of(r.address) for r in runners]
    assert [a - b for a, b in zip(after, balances, strict=True)] == [
        paid[honest[0].address], paid[honest[1].address], 0]
    assert returned.step() == []
