"""NodeRunner on the embedded chain: a whole round, restarts, and every refusal it must make.

The test plays the aggregator (RoundOrchestrator) and moves chain time past each deadline;
the runner only reads chain time, like a real node on a real chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from ledger.chain.base import TestChainBackend
from ledger.contracts.registry import RoundStatus
from ledger.store.disk import DiskStore
from node.journal import Journal, Stage
from node.runner import NodeRunner, Outcome, RoundResult
from tests.node.node_kit import TaskNetwork, deploy_task_network, make_participant


@pytest.fixture(scope="module")
def _baseline(embedded_chain: TestChainBackend,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[TaskNetwork, list[int]]:
    """Deployed once per module with the task set; each test starts from this snapshot."""
    net = deploy_task_network(embedded_chain, DiskStore(tmp_path_factory.mktemp("store")))
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


def _reopen(runner: NodeRunner) -> Journal:
    """The journal as a restarted node reads it from disk."""
    j = runner.journal
    return Journal(j.path, j.participant, j.registry)


def test_runner_takes_two_nodes_from_open_round_to_claimed_rewards(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare
    dev, backend = net.dev, net.chain
    net.orchestrator.open_next_round(net.initial)
    runners = [_runner(net, i, tmp_path) for i in (0, 1)]
    before = [dev.token.balance_of(r.address) for r in runners]

    # Execute: commit phase, reveal phase, aggregation, claim
    committed = [r.step() for r in runners]
    info = dev.registry.round_info(0)
    backend.mine(info.commit_deadline + 1)
    revealed = [r.step() for r in runners]
    backend.mine(info.reveal_deadline + 1)
    done = net.orchestrator.finalize_round(0)
    backend.mine(dev.registry.round_info(0).claimable_at)
    claimed = [r.step() for r in runners]
    again = [r.step() for r in runners]

    # Assert
    rewards = {s.participant: s.reward for s in done.report.submissions}
    assert committed == [[], []] and revealed == [[], []] and again == [[], []]
    assert info.commit_count == 2
    assert dev.registry.round_info(0).reveal_count == 2
    assert all(s.accepted for s in done.report.submissions)
    assert sum(rewards.values()) == dev.params.reward_per_round
    for runner, result, start in zip(runners, claimed, before, strict=True):
        reward = rewards[runner.address]
        assert result == [RoundResult(0, Outcome.CLAIMED, reward=reward)]
        assert dev.token.balance_of(runner.address) - start == reward
        entry = _reopen(runner).get(0)
        assert entry is not None and entry.stage is Stage.CLAIMED and entry.reward == reward
        assert entry.commit_tx is not None and entry.reveal_tx is not None


def test_restarted_runner_reveals_the_journaled_update_without_retraining(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: a node commits, then dies
    net.orchestrator.open_next_round(net.initial)
    first = _runner(net, 0, tmp_path)
    first.step()
    committed = _reopen(first).get(0)
    assert committed is not None and committed.stage is Stage.COMMITTED
    net.chain.mine(net.dev.registry.round_info(0).commit_deadline + 1)

    # Execute: a new process (fresh participant and journal objects) picks up
    second = _runner(net, 0, tmp_path)
    second.step()

    # Assert: same update, one commit, one reveal
    revealed = _reopen(second).get(0)
    info = net.dev.registry.round_info(0)
    assert revealed is not None and revealed.stage is Stage.REVEALED
    assert (revealed.update_cid, revealed.salt, revealed.commit_tx) == (
        committed.update_cid, committed.salt, committed.commit_tx)
    assert (info.commit_count, info.reveal_count) == (1, 1)
    revealed_events = net.dev.registry.events_update_revealed(round=0)
    assert [e.update_cid for e in revealed_events] == [committed.update_cid]


def test_commit_sent_before_a_crash_is_recorded_not_sent_again(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: the update is prepared and its commit tx mined, but the node died before
    # recording it (journal still says PREPARED)
    net.orchestrator.open_next_round(net.initial)
    first = _runner(net, 0, tmp_path)
    entry = first.participant.prepare_round(0)
    net.dev.registry.commit(0, bytes.fromhex(entry.commitment[2:]),
                            sender=first.participant.signer)

    # Execute
    result = _runner(net, 0, tmp_path).step()

    # Assert
    recorded = _reopen(first).get(0)
    assert result == []
    assert recorded is not None and recorded.stage is Stage.COMMITTED
    assert recorded.commit_tx is None  # found on chain, not sent
    assert net.dev.registry.round_info(0).commit_count == 1


def test_global_model_that_does_not_match_the_chain_hash_is_refused(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: the round names the real model's hash but a CID holding other bytes
    real_cid, real_hash = net.orchestrator.publish_model(net.initial, 0)
    forged = b"not the global model"
    forged_cid = net.store.put_bytes(forged)
    net.orchestrator.open_round(0, forged_cid, real_hash)
    runner = _runner(net, 0, tmp_path)

    # Execute
    first = runner.step()
    second = runner.step()

    # Assert: refused once with the exact reason; nothing journaled, nothing sent
    detail = (f"global model {forged_cid} of round 0 hashes to 0x{keccak(forged).hex()}, "
              f"the chain says 0x{real_hash.hex()}: refusing to train on it")
    assert first == [RoundResult(0, Outcome.REFUSED, detail=detail)]
    assert second == []
    assert not runner.journal.path.exists()
    assert _reopen(runner).entries() == []
    assert net.dev.registry.commitment_of(0, runner.address) == bytes(32)
    assert real_cid != forged_cid


def test_round_whose_commit_deadline_passed_is_missed_without_a_journal_entry(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare
    net.orchestrator.open_next_round(net.initial)
    deadline = net.dev.registry.round_info(0).commit_deadline
    net.chain.mine(deadline + 1)
    runner = _runner(net, 0, tmp_path)

    # Execute
    result = runner.step()

    # Assert
    assert result == [RoundResult(0, Outcome.MISSED, detail="commit phase already closed")]
    assert _reopen(runner).entries() == []
    assert net.dev.registry.round_info(0).commit_count == 0


def test_prepared_update_whose_commit_deadline_passed_is_skipped_in_the_journal(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: trained and stored, then the node was down past the commit deadline
    net.orchestrator.open_next_round(net.initial)
    runner = _runner(net, 0, tmp_path)
    prepared = runner.participant.prepare_round(0)
    deadline = net.dev.registry.round_info(0).commit_deadline
    net.chain.mine(deadline + 1)

    # Execute
    result = runner.step()

    # Assert
    note = f"commit deadline {deadline} passed before the commitment was sent"
    assert result == [RoundResult(0, Outcome.SKIPPED, detail=note)]
    entry = _reopen(runner).get(0)
    assert entry is not None and entry.stage is Stage.SKIPPED and entry.note == note
    assert entry.update_cid == prepared.update_cid  # the prepared update is kept on record
    assert net.dev.registry.commitment_of(0, runner.address) == bytes(32)


def test_committed_update_whose_reveal_deadline_passed_is_skipped_in_one_pass(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: committed, then the node was down for the whole reveal phase
    net.orchestrator.open_next_round(net.initial)
    runner = _runner(net, 0, tmp_path)
    runner.step()
    deadline = net.dev.registry.round_info(0).reveal_deadline
    net.chain.mine(deadline + 1)

    # Execute
    summary = runner.run(once=True)

    # Assert
    note = f"reveal deadline {deadline} passed before the reveal was sent: the commitment " \
           "stays unopened"
    assert summary.results == (RoundResult(0, Outcome.SKIPPED, detail=note),)
    entry = _reopen(runner).get(0)
    assert entry is not None and entry.stage is Stage.SKIPPED and entry.note == note
    assert entry.commit_tx is not None and entry.reveal_tx is None
    assert net.dev.registry.round_info(0).reveal_count == 0


def test_run_follows_the_chain_until_one_round_is_claimed(
    net: TaskNetwork, tmp_path: Path
) -> None:
    # Prepare: the "sleep" between polls plays the rest of the network
    dev, backend = net.dev, net.chain
    net.orchestrator.open_next_round(net.initial)
    runner = _runner(net, 0, tmp_path)
    polls: list[RoundStatus] = []

    def world(_seconds: float) -> None:
        info = dev.registry.round_info(0)
        polls.append(info.status)
        if info.status is RoundStatus.OPEN and backend.now() <= info.commit_deadline:
            backend.mine(info.commit_deadline + 1)
        elif info.status is RoundStatus.OPEN:
            backend.mine(info.reveal_deadline + 1)
            net.orchestrator.finalize_round(0)
        else:
            backend.mine(info.claimable_at)

    runner.sleep = world
    before = dev.token.balance_of(runner.address)

    # Execute
    summary = runner.run(rounds=1)

    # Assert
    reward = dev.params.reward_per_round  # the only submission takes the whole round
    assert summary.results == (RoundResult(0, Outcome.CLAIMED, reward=reward),)
    assert summary.earned == reward and summary.rounds_done == 1
    assert dev.token.balance_of(runner.address) - before == reward
    assert polls == [RoundStatus.OPEN, RoundStatus.OPEN, RoundStatus.FINALIZED]
