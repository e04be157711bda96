"""A node whose own clock is off by minutes still acts on chain time.

Deadlines are enforced by the contract against block timestamps, so a node must decide when
to commit and reveal by the chain's clock, never its own. Here the node's process clock
(`time.time`, `time.time_ns`) is moved 15 minutes ahead of or behind the chain's, more than a
whole 10-minute phase: a node that trusted it would skip a round it can still join, or send a
commitment it believes is on time and get a revert. The chain is a managed anvil, a separate
process whose clock the skew does not touch (the in-process chain would move with it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.base import TestChainBackend
from ledger.errors import ContractRevert
from ledger.store.disk import DiskStore
from node.journal import Stage
from node.runner import NodeRunner, Outcome, RoundResult
from tests.node.node_kit import TaskNetwork, deploy_task_network, make_participant

pytestmark = pytest.mark.anvil

SKEW_S = 15 * 60


@pytest.fixture(scope="module")
def _baseline(anvil_chain: TestChainBackend,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[TaskNetwork, list[int]]:
    net = deploy_task_network(anvil_chain, DiskStore(tmp_path_factory.mktemp("store")))
    return net, [anvil_chain.snapshot()]


@pytest.fixture
def net(_baseline: tuple[TaskNetwork, list[int]], anvil_chain: TestChainBackend
        ) -> TaskNetwork:
    task_network, holder = _baseline
    anvil_chain.revert(holder[0])
    holder[0] = anvil_chain.snapshot()
    return task_network


@pytest.fixture(params=[SKEW_S, -SKEW_S], ids=["clock-ahead", "clock-behind"])
def skewed_clock(request: pytest.FixtureRequest, net: TaskNetwork,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """This process's wall clock set `param` seconds off the chain's latest block time."""
    skew = int(request.param)
    real_time = time.time
    offset = net.dev.backend.now() - real_time() + skew
    monkeypatch.setattr(time, "time", lambda: real_time() + offset)
    monkeypatch.setattr(time, "time_ns", lambda: int((real_time() + offset) * 1e9))
    yield skew


def test_node_commits_and_reveals_by_chain_time_whatever_its_clock_says(
    net: TaskNetwork, skewed_clock: int, tmp_path: Path
) -> None:
    # Prepare
    registry, backend = net.dev.registry, net.dev.backend
    net.orchestrator.open_next_round(net.initial)
    info = registry.round_info(0)
    runner = NodeRunner(make_participant(net, 0, tmp_path / "journal"), poll_seconds=0)
    assert abs(time.time() - backend.now() - skewed_clock) < 60  # the node's clock is off

    # Execute: inside the commit window by chain time (the node's clock says 15 min off)
    committed = runner.step()

    # Assert
    assert committed == []
    entry = runner.journal.get(0)
    assert entry is not None and entry.stage is Stage.COMMITTED
    assert registry.commitment_of(0, runner.address) == bytes.fromhex(entry.commitment[2:])

    # Execute: the chain passes the commit deadline; the reveal goes out
    backend.mine(info.commit_deadline + 1)
    revealed = runner.step()

    # Assert
    assert revealed == []
    entry = runner.journal.get(0)
    assert entry is not None and entry.stage is Stage.REVEALED
    assert registry.has_revealed(0, runner.address)
    assert registry.round_info(0).reveal_count == 1


def test_commit_after_the_chain_deadline_is_a_clear_error_whatever_the_clock_says(
    net: TaskNetwork, skewed_clock: int, tmp_path: Path
) -> None:
    # Prepare: an update prepared in time, then chain time passes the commit deadline
    registry, backend = net.dev.registry, net.dev.backend
    net.orchestrator.open_next_round(net.initial)
    participant = make_participant(net, 1, tmp_path / "journal")
    participant.prepare_round(0)
    deadline = registry.round_info(0).commit_deadline
    backend.mine(deadline + 1)

    # Execute: the participant sends its commitment anyway
    with pytest.raises(ContractRevert) as refused:
        participant.commit(0)

    # Assert: the contract names the round and the deadline that passed
    assert (refused.value.error_name, refused.value.error_args) == (
        "RegistryCommitClosed", (0, deadline))
    assert str(refused.value) == f"contract reverted: RegistryCommitClosed(0, {deadline})"

    # Execute: the runner, reading chain time, does not even try
    runner = NodeRunner(participant, poll_seconds=0)
    ended = runner.step()

    # Assert
    note = f"commit deadline {deadline} passed before the commitment was sent"
    assert ended == [RoundResult(0, Outcome.SKIPPED, detail=note)]
    assert registry.commitment_of(0, participant.address) == bytes(32)
