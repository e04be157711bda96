"""Two `fedledger node run --rounds 1` processes and the aggregator, over anvil and one store.

Each node is a separate OS process with its own keystore, config, journal and data share;
they meet the aggregator (driven here, in the test process) only through the chain's
JSON-RPC and the shared DiskStore directory, as on a real network. The test plays the
passage of time: the task's phases are 600 s long and the test mines one block past each
deadline once every node has done its part, so the run takes seconds, not minutes, and
never depends on how fast a loaded CI machine starts the processes. One node is killed
(SIGKILL) after it committed and started again: it finishes the round from its journal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.node import app
from ledger.chain.base import TestChainBackend
from ledger.contracts.registry import RoundStatus
from ledger.store.disk import DiskStore
from node.config import ChainSettings, NodeConfig, NodeSettings, StoreSettings, render_config
from tests.node.node_kit import (
    PASSPHRASE,
    TaskNetwork,
    data_settings,
    deploy_task_network,
    write_keystore,
)

pytestmark = pytest.mark.anvil

NODES = 2  # each is a full Python + torch process: CI has 2 cores
REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_LIMIT_S = 180.0  # a generous ceiling for a loaded machine; not a timing assertion


@dataclass
class NodeProcess:
    index: int
    config: Path
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def anvil_net(anvil_chain: TestChainBackend, tmp_path: Path) -> Iterator[TaskNetwork]:
    """A network with the small task on the session anvil, reverted after the test."""
    snapshot = anvil_chain.snapshot()
    yield deploy_task_network(anvil_chain, DiskStore(tmp_path / "store"))
    anvil_chain.revert(snapshot)


def _write_node(net: TaskNetwork, index: int, tmp_path: Path, url: str) -> Path:
    home = tmp_path / f"node-{index}"
    config = NodeConfig(
        chain=ChainSettings(url, tmp_path / "network.json"),
        store=StoreSettings(str(tmp_path / "store")),
        data=data_settings(index),
        node=NodeSettings(keystore=home / "keystore.json", journal_dir=home / "journal",
                          device="cpu", poll_seconds=0.2),
    )
    write_keystore(config.node.keystore, net.signer(index))
    path = home / "node.toml"
    path.write_text(render_config(config), encoding="utf-8")
    return path


def _start(index: int, config: Path, passphrase: Path, log_name: str = "node.log"
           ) -> NodeProcess:
    log = config.parent / log_name
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "200"}
    env.pop("FEDLEDGER_PASSPHRASE", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "fedledger.cli.node", "run", "--config", str(config),
             "--rounds", "1", "--passphrase-file", str(passphrase)],
            cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    return NodeProcess(index, config, process, log)


def _wait(what: str, done: Callable[[], bool], nodes: list[NodeProcess]) -> None:
    """Poll until `done()`; fail with the nodes' logs if one dies or the ceiling is hit."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not done():
        for node in nodes:
            code = node.process.poll()
            if code is not None and code != 0:
                pytest.fail(f"node {node.index} exited with {code} while waiting for {what}:\n"
                            f"{node.output()}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- node {n.index}\n{n.output()}" for n in nodes)
            pytest.fail(f"gave up waiting for {what}\n{logs}")
        time.sleep(0.2)


def test_node_processes_submit_get_accepted_and_claim_their_rewards(
    anvil_net: TaskNetwork, anvil_chain: TestChainBackend, tmp_path: Path
) -> None:
    # Prepare: network file, per-node keystore + config, round 0 open
    net, dev = anvil_net, anvil_net.dev
    dev.network.info.save(tmp_path / "network.json")
    url = anvil_chain.process.url  # type: ignore[attr-defined]
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text(PASSPHRASE)
    configs = [_write_node(net, i, tmp_path, url) for i in range(NODES)]
    addresses = [net.signer(i).address for i in range(NODES)]
    before = {a: dev.token.balance_of(a) for a in addresses}
    net.orchestrator.open_next_round(net.initial)
    nodes = [_start(i, cfg, passphrase) for i, cfg in enumerate(configs)]
    try:
        # Execute: the nodes commit; time passes; they reveal; the aggregator finalizes;
        # the challenge window passes; they claim and exit
        _wait("every commitment", lambda: dev.registry.round_info(0).commit_count == NODES, nodes)
        # node 0 is killed outright (no clean-up runs) after committing, then started again:
        # it must reveal from its journal, not train or commit a second time
        nodes[0].process.kill()
        nodes[0].process.wait()
        killed_log = nodes[0].output()
        nodes[0] = _start(0, configs[0], passphrase, log_name="restarted.log")
        info = dev.registry.round_info(0)
        anvil_chain.mine(info.commit_deadline + 1)
        _wait("every reveal", lambda: dev.registry.round_info(0).reveal_count == NODES, nodes)
        anvil_chain.mine(info.reveal_deadline + 1)
        done = net.orchestrator.finalize_round(0)
        anvil_chain.mine(dev.registry.round_info(0).claimable_at)
        _wait("the nodes to claim and exit",
              lambda: all(n.process.poll() is not None for n in nodes), nodes)
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.process.kill()
                node.process.wait()

    # Assert: every update accepted, every reward claimed into the right balance
    codes = {n.index: n.process.returncode for n in nodes}
    assert codes == dict.fromkeys(range(NODES), 0), "\n".join(n.output() for n in nodes)
    report = done.report
    assert dev.registry.round_info(0).status is RoundStatus.FINALIZED
    assert sorted(s.participant for s in report.submissions) == sorted(addresses)
    assert all(s.accepted for s in report.submissions)
    rewards = {s.participant: s.reward for s in report.submissions}
    assert sum(rewards.values()) == dev.params.reward_per_round
    assert all(reward > 0 for reward in rewards.values())
    for address in addresses:
        assert dev.token.balance_of(address) - before[address] == rewards[address]
    claimed = {e.account: e.amount for e in dev.registry.events_reward_claimed(round=0)}
    assert claimed == rewards
    for node in nodes:
        assert "1 round(s) done" in node.output()
    committed = dev.registry.events_update_committed(round=0, participant=addresses[0])
    assert len(committed) == 1  # the restart did not commit again
    assert "round 0: committed" in killed_log
    restarted = nodes[0].output()
    assert "round 0: revealed" in restarted and "round 0: opened" not in restarted

    # Assert: `node status` reads the same story back from journal and chain
    status = CliRunner().invoke(app, ["status", "--config", str(configs[0])])
    assert status.exit_code == 0, status.output
    text = " ".join(status.stdout.split())
    assert "rounds joined: 1" in text
    assert "pending claims: none; next round on chain: 1" in text
    assert f"claimed on chain: {rewards[addresses[0]] / 10**18:,.4f}" in text
