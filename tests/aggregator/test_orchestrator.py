"""Restartability: the aggregator killed after any side effect loses nothing and pays once.

The aggregator's externally visible effects are store writes (`put_bytes`) and
transactions (`openRound`, `finalizeRound`). A reference run counts them; then, for each
k, a fresh copy of the same starting point (chain snapshot + a copy of the store) runs
an aggregator that dies right after its k-th effect (`SimulatedCrash` is a
BaseException, so like SIGKILL nothing in the aggregator can catch it). A new
aggregator, built from nothing but the chain and the store, carries on. Every scenario
must end exactly like the reference: one RoundOpened and one RoundFinalized per round,
the same report and model hashes (every revealed update in it), and claims that pay each
participant its reward once, the second claim reverting.

Phase A covers opening round 0; phase B, from a state where round 0's reveals are in,
covers finalizing round 0, opening round 1 and finalizing round 1 (an empty round).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from aggregator.service.bootstrap import assemble
from aggregator.service.loop import RoundLoop, StepResult
from aggregator.service.settings import ServiceSettings
from ledger.chain.embedded import EmbeddedChain
from ledger.contracts.registry import RoundStatus
from ledger.errors import ContractRevert
from ledger.formats.report import parse_report, rewards_tree
from ledger.store.disk import DiskStore
from tests.aggregator.network_harness import REWARD, NetworkHarness


class SimulatedCrash(BaseException):
    """The aggregator process dies here."""


class CrashPlan:
    """Counts the aggregator's side effects and dies right after the `crash_after`-th."""

    def __init__(self, crash_after: int | None) -> None:
        self.crash_after = crash_after
        self.effects: list[str] = []
        self.suspended = False  # while participants act, their transactions do not count

    def after(self, label: str) -> None:
        if self.suspended:
            return
        self.effects.append(label)
        if self.crash_after is not None and len(self.effects) == self.crash_after:
            raise SimulatedCrash(f"killed after effect {len(self.effects)}: {label}")


@dataclass(frozen=True)
class Outcome:
    """What a finished history looks like on chain."""

    opened: dict[int, int]
    finalized: dict[int, int]
    report_hashes: tuple[bytes, ...]
    model_hashes: tuple[bytes, ...]


@dataclass
class World:
    chain: EmbeddedChain
    harness: NetworkHarness
    store_dir: Path
    workdir: Path
    base: int
    played: int
    last_store: Path = Path()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    workdir = tmp_path_factory.mktemp("restart")
    chain = EmbeddedChain()
    store = DiskStore(workdir / "store")
    harness = NetworkHarness(chain, store, workdir)
    base = chain.snapshot()
    shutil.copytree(workdir / "store", workdir / "store-base")
    # Round 0 opened once (phase B's starting point), played by every participant
    loop = _loop(harness, store, CrashPlan(None))
    assert loop.step() is StepResult.OPENED
    harness.play(0)
    played = chain.snapshot()
    shutil.copytree(workdir / "store", workdir / "store-played")
    yield World(chain, harness, workdir / "store", workdir, base, played)
    torch.set_num_threads(threads)
    chain.close()


def _loop(harness: NetworkHarness, store: DiskStore, plan: CrashPlan) -> RoundLoop:
    """A freshly started aggregator (its own orchestrator and loop) wired to `plan`."""
    real_put = store.put_bytes

    def put_bytes(data: Any, *, pin: bool = True) -> str:
        cid = real_put(data, pin=pin)
        plan.after(f"put {cid[:12]}")
        return cid

    store.put_bytes = put_bytes  # type: ignore[method-assign]
    context = assemble(ServiceSettings(run_loop=False, rounds=2), harness.network, store,
                       harness.aggregator, evaluator=harness.evaluator, initial=harness.initial,
                       task=harness.task)
    registry = context.loop.orchestrator.registry
    real_transact = type(registry)._transact

    def transact(name: str, *args: Any, sender: Any, gas: int | None) -> Any:
        receipt = real_transact(registry, name, *args, sender=sender, gas=gas)
        plan.after(f"tx {name}")
        return receipt

    registry._transact = transact  # type: ignore[method-assign]
    return context.loop


def _restore(world: World, phase: str) -> Path:
    """Return the chain to a phase's starting point and give the scenario its own store copy."""
    snapshot = world.base if phase == "base" else world.played
    world.chain.revert(snapshot)
    fresh = world.chain.snapshot()  # a revert may use the snapshot up
    if phase == "base":
        world.base = fresh
    else:
        world.played = fresh
    scenario_dir = world.workdir / f"scenario-{len(list(world.workdir.iterdir()))}"
    shutil.copytree(world.workdir / f"store-{phase}", scenario_dir)
    world.last_store = scenario_dir
    return scenario_dir


def _run_with_restarts(world: World, phase: str, plan: CrashPlan,
                       on_waiting: Callable[[int], bool]) -> int:
    """Drive the loop from `phase`, restarting after every crash, until it is IDLE or
    `on_waiting(round)` says to stop; return how many times the aggregator was killed."""
    store_dir = _restore(world, phase)
    registry = world.harness.network.registry
    crashes = 0
    while True:
        loop = _loop(world.harness, DiskStore(store_dir), plan)  # a restart opens all afresh
        try:
            while (result := loop.step()) is not StepResult.IDLE:
                if result is StepResult.WAITING:
                    plan.suspended = True
                    try:
                        if on_waiting(registry.next_round() - 1):
                            return crashes
                    finally:
                        plan.suspended = False
            return crashes
        except SimulatedCrash:
            crashes += 1
        finally:
            registry.__dict__.pop("_transact", None)


def _outcome(world: World) -> Outcome:
    registry = world.harness.network.registry
    opened: dict[int, int] = {}
    for op in registry.events_round_opened():
        opened[op.round] = opened.get(op.round, 0) + 1
    finalized: dict[int, int] = {}
    for fin in registry.events_round_finalized():
        finalized[fin.round] = finalized.get(fin.round, 0) + 1
    infos = [registry.round_info(r) for r in range(registry.next_round())]
    return Outcome(opened, finalized, tuple(i.report_hash for i in infos),
                   tuple(i.new_model_hash for i in infos))


def _phase_b_waiting(world: World) -> Callable[[int], bool]:
    def on_waiting(round_: int) -> bool:
        info = world.harness.network.registry.round_info(round_)
        if info.status is RoundStatus.OPEN:
            assert round_ == 1, f"phase B must never wait for reveals in round {round_}"
            world.chain.mine(info.reveal_deadline + 1)  # nobody reveals in round 1
        else:  # finalized: its challenge window must pass before the next round opens
            assert (round_, info.status) == (0, RoundStatus.FINALIZED)
            world.chain.mine(info.claimable_at)
        return False
    return on_waiting


def _phase_a_waiting(round_: int) -> bool:
    assert round_ == 0
    return True


def _claim_everything(world: World, store: DiskStore) -> dict[str, int]:
    """Each paid participant claims round 0 with its Merkle proof, then tries a second time."""
    registry, token = world.harness.network.registry, world.harness.network.token
    report = parse_report(store.get_bytes(registry.events_round_finalized(round=0)[-1].report_cid))
    tree = rewards_tree(report)
    assert tree is not None
    if world.chain.now() < registry.round_info(0).claimable_at:
        world.chain.mine(registry.round_info(0).claimable_at)
    paid: dict[str, int] = {}
    for p in world.harness.participants:
        amount = next(s.reward for s in report.submissions if s.participant == p.address)
        if amount == 0:
            continue
        proof = [bytes.fromhex(node.removeprefix("0x"))
                 for node in tree.get_proof([p.address, 0, amount])]
        before = token.balance_of(p.address)
        registry.claim(0, p.address, amount, proof, sender=p.signer)
        with pytest.raises(ContractRevert):
            registry.claim(0, p.address, amount, proof, sender=p.signer)
        paid[p.address] = token.balance_of(p.address) - before
    return paid


@pytest.fixture(scope="module")
def reference(world: World) -> tuple[Outcome, list[str], dict[str, int], int]:
    """The uninterrupted phase-B run: outcome, effects, claims, token supply after claims."""
    plan = CrashPlan(None)
    assert _run_with_restarts(world, "played", plan, _phase_b_waiting(world)) == 0
    outcome = _outcome(world)
    paid = _claim_everything(world, DiskStore(world.last_store))
    return outcome, plan.effects, paid, world.harness.network.token.total_supply()


def test_the_reference_history_has_seven_effects_and_pays_the_pool_once(
        world: World, reference: tuple[Outcome, list[str], dict[str, int], int]) -> None:
    # Prepare
    outcome, effects, paid, _ = reference

    # Assert
    assert [e if e.startswith("tx") else "put" for e in effects] == ["put", "put", "tx finalizeRound", "tx openRound",
                                  "put", "put", "tx finalizeRound"]
    assert outcome.opened == {0: 1, 1: 1} and outcome.finalized == {0: 1, 1: 1}
    assert sum(paid.values()) == REWARD
    assert world.harness.free_rider.address not in paid


@pytest.mark.parametrize("crash_after", range(1, 8))
def test_killed_after_any_finalize_or_open_effect_the_restart_loses_and_repeats_nothing(
        world: World, reference: tuple[Outcome, list[str], dict[str, int], int],
        crash_after: int) -> None:
    # Prepare
    expected, effects, expected_paid, expected_supply = reference
    plan = CrashPlan(crash_after)

    # Execute
    crashes = _run_with_restarts(world, "played", plan, _phase_b_waiting(world))
    outcome = _outcome(world)
    report = parse_report(DiskStore(world.last_store).get_bytes(
        world.harness.network.registry.events_round_finalized(round=0)[-1].report_cid))
    paid = _claim_everything(world, DiskStore(world.last_store))

    # Assert: it really died once, then the chain says exactly what the reference says
    assert crashes == 1
    assert plan.effects[crash_after - 1] == effects[crash_after - 1]
    assert outcome == expected
    assert {s.participant for s in report.submissions} == {
        p.address for p in world.harness.participants}
    assert paid == expected_paid
    assert world.harness.network.token.total_supply() == expected_supply
    claims = world.harness.network.registry.events_reward_claimed(round=0)
    assert sorted(c.account for c in claims) == sorted(expected_paid)


@pytest.mark.parametrize(("crash_after", "expected_effects"), [
    (1, ["put", "put", "tx openRound"]),  # the restart re-stores the same bytes (same CID)
    (2, ["put", "tx openRound"]),         # the restart finds round 0 open: nothing to redo
])
def test_killed_while_opening_round_0_the_restart_opens_it_once(
        world: World, crash_after: int, expected_effects: list[str]) -> None:
    # Prepare: this phase starts before round 0 exists (it runs after phase B's tests,
    # since the chain can only revert backwards)
    plan = CrashPlan(crash_after)

    # Execute
    crashes = _run_with_restarts(world, "base", plan, _phase_a_waiting)

    # Assert
    registry = world.harness.network.registry
    assert crashes == 1
    assert [e if e.startswith("tx") else "put" for e in plan.effects] == expected_effects
    assert len({e for e in plan.effects if e.startswith("put")}) == 1
    assert [ev.round for ev in registry.events_round_opened()] == [0]
    info = registry.round_info(0)
    assert info.status is RoundStatus.OPEN
    assert DiskStore(world.last_store).get_bytes(info.model_cid)
