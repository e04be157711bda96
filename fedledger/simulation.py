"""An in-process federated network: the engine behind `fedledger demo`.

Real components throughout: contracts deployed on a real EVM (py-evm in process, or
anvil), a content store computing Kubo's CIDs, participants that train, sign proofs
and commit/reveal through their own keys, an aggregator that only trusts what it
fetched and checked. What a simulation adds is the schedule: it runs every
participant's step in turn and, on a test chain, moves chain time past each deadline
instead of waiting for wall-clock time (the service and `fedledger node run` wait).
Colluding attackers (ALIE, IPM, copy free-riders) are handed the round's benign deltas,
which is the strongest threat model those attacks assume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import torch
from eth_account import Account
from rich.console import Console

from aggregator.orchestrator import FinalizedRound, RoundOrchestrator
from fedledger.engines import TrainingEngine, open_engine
from ledger.chain.base import ChainBackend, TestChainBackend
from ledger.contracts.deploy import (
    Network,
    deploy_governance,
    deploy_network,
    enroll_participants,
    hand_over,
)
from ledger.contracts.governance import GovernanceParams
from ledger.contracts.registry import RegistryParams
from ledger.formats.layout import ParameterLayout
from ledger.formats.task import TaskSpec, TrainingConfig
from ledger.keys import Signer
from ledger.store.base import ContentStore
from ledger.weights import weights_hash
from node.attacks import AttackConfig, AttackContext
from node.data.catalog import load_dataset
from node.data.partition import partition_labels
from node.journal import Journal
from node.models import initial_state
from node.participant import LocalData, Participant
from node.training.evaluation import evaluate

TOKEN = 10**18
#: Attacks the demo cycles through, in order, for its malicious participants.
DEFAULT_ATTACKS = ("sign-flip", "gaussian", "free-rider", "no-reveal", "scale")


#: Parameters that make each attack bite on the demo's model (deltas have norm ~1).
DEMO_ATTACK_PARAMS: dict[str, dict[str, object]] = {
    "scale": {"factor": -4.0},
    "gaussian": {"sigma": 0.5},
}


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that shapes a simulated network run."""

    participants: int = 10
    attacker_share: float = 0.3
    attacks: tuple[str, ...] = DEFAULT_ATTACKS
    rounds: int = 8
    rule: str = "multikrum"
    rule_params: tuple[tuple[str, object], ...] = ()
    dataset: str = "digits"
    model: str = "cnn"
    partition: str = "dirichlet"
    alpha: float = 0.5
    epochs: int = 1
    batch_size: int = 16
    lr: str = "0.05"
    momentum: str = "0.9"
    seed: int = 0
    reward_per_round: int = 1000 * TOKEN
    norm_bound: str = "100"
    fixed_point_bits: int = 26
    device: str = "cpu"
    #: Where local training runs: "local" (in process) or "ray" (Ray tasks); the chain,
    #: the store and all signing stay in the driver either way.
    engine: str = "local"
    workers: int = 1

    @property
    def num_attackers(self) -> int:
        return int(round(self.participants * self.attacker_share))

    def attack_for(self, index: int) -> AttackConfig:
        """Participants 0..f-1 are the attackers, each with the next attack in the cycle."""
        if index >= self.num_attackers or not self.attacks:
            return AttackConfig()
        name = self.attacks[index % len(self.attacks)]
        if name == "no-reveal":
            return AttackConfig.create(no_reveal=True)
        if name == "free-rider-copy":
            return AttackConfig.create("free-rider", mode="copy")
        return AttackConfig.create(name, **DEMO_ATTACK_PARAMS.get(name, {}))


@dataclass
class Member:
    """A simulated participant and what the run did for it."""

    index: int
    participant: Participant
    attack: AttackConfig
    earned: int = 0
    history: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        what = "honest" if self.attack.is_honest else (
            "no-reveal" if self.attack.no_reveal else str(self.attack.name))
        return f"p{self.index:02d} ({what})"


@dataclass
class SimulationResult:
    """What a run produced: rounds, members, and the network to audit."""

    network: Network
    task: TaskSpec
    task_cid: str
    rounds: list[FinalizedRound]
    members: list[Member]
    accuracy: list[float]
    loss: list[float]


def build_task(cfg: SimulationConfig, input_shape: tuple[int, ...], num_classes: int
               ) -> tuple[TaskSpec, torch.Tensor]:
    """The task spec and the seeded initial weights it pins."""
    state = initial_state(cfg.model, input_shape, num_classes, seed=cfg.seed)
    layout = ParameterLayout.from_state_dict(state)
    vector = layout.flatten(state)
    task = TaskSpec(
        task_id=f"{cfg.dataset}-{cfg.model}",
        name=f"{cfg.model} on {cfg.dataset}, {cfg.participants} participants",
        dataset=cfg.dataset,
        model=cfg.model,
        model_kwargs={"input_shape": list(input_shape), "num_classes": num_classes},
        layout=layout,
        initial_model_hash=weights_hash(vector),
        aggregation_rule=cfg.rule,
        aggregation_params=dict(cfg.rule_params),
        fixed_point_bits=cfg.fixed_point_bits,
        update_norm_bound=Decimal(cfg.norm_bound),
        training=TrainingConfig(epochs=cfg.epochs, batch_size=cfg.batch_size,
                                lr=Decimal(cfg.lr), momentum=Decimal(cfg.momentum),
                                proximal_mu=Decimal(0), seed_policy="participant_round",
                                seed=cfg.seed),
        rounds=cfg.rounds,
        reward_per_round=cfg.reward_per_round,
        commit_seconds=600,
        reveal_seconds=600,
        score_method="cosine",
        software_version="fedledger-0.1.0",
    )
    return task, vector


class Simulation:
    """Builds a network on `backend` + `store` and runs `cfg.rounds` rounds."""

    def __init__(self, cfg: SimulationConfig, backend: ChainBackend, store: ContentStore,
                 workdir: Path, console: Console | None = None, *,
                 engine: TrainingEngine | None = None,
                 participant_factory: Callable[..., Participant] = Participant) -> None:
        if not isinstance(backend, TestChainBackend):
            raise TypeError("a simulation moves chain time: it needs a test chain (embedded/anvil)")
        self.cfg = cfg
        self.backend: TestChainBackend = backend
        self.store = store
        self.workdir = Path(workdir)
        self.console = console or Console(quiet=True)
        self.engine = engine
        self.participant_factory = participant_factory

    def _fund(self, funder: object, n: int) -> list[Signer]:
        signers = [Signer.from_key(Account.create().key) for _ in range(n)]
        for s in signers:
            self.backend.send_value(funder, s.address, 10 * TOKEN)  # type: ignore[arg-type]
        return signers

    def run(self, on_round: Callable[[FinalizedRound, list[Member]], None] | None = None
            ) -> SimulationResult:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        dataset = load_dataset(cfg.dataset)
        task, initial = build_task(cfg, tuple(dataset.input_shape), dataset.num_classes)
        dev = self.backend.dev_accounts()
        admin, aggregator_key = Signer(dev[0]), Signer(dev[1])
        keys = self._fund(dev[2], cfg.participants)

        params = RegistryParams(min_stake=0, reward_per_round=cfg.reward_per_round,
                                challenge_window=3600, challenge_bond=10 * TOKEN)
        network = deploy_network(self.backend, admin, params)
        network.registry.appoint_aggregator(aggregator_key.address, sender=admin)
        task_bytes = task.canonical_bytes()
        task_cid = self.store.put_bytes(task_bytes)
        network.registry.set_task(task.task_hash(), task_cid, sender=admin)
        enroll_participants(network, admin, keys, stake=0)
        # Configured: from here on only the consortium (admin as its one member) governs.
        governance = deploy_governance(self.backend, admin, [admin.address],
                                       GovernanceParams.dev())
        network = hand_over(network, governance, admin)

        split = partition_labels(cfg.partition, dataset.y_train, cfg.participants,
                                 seed=cfg.seed, **({"alpha": cfg.alpha} if cfg.partition == "dirichlet" else {}))
        members: list[Member] = []
        for i, key in enumerate(keys):
            idx = torch.as_tensor(split.client_indices[i], dtype=torch.long)
            data = LocalData(dataset.x_train[idx], dataset.y_train[idx])
            journal = Journal(self.workdir / "journals" / f"{key.address}.json", key.address,
                              network.registry.address)
            attack = cfg.attack_for(i)
            members.append(Member(i, self.participant_factory(
                network, key, self.store, task, data, journal, device=cfg.device, attack=attack),
                attack))

        def evaluator(state: dict[str, torch.Tensor]) -> tuple[float, float]:
            ev = evaluate(task.model, dict(task.model_kwargs), state, dataset.x_test,
                          dataset.y_test)
            return ev.loss, ev.accuracy

        orchestrator = RoundOrchestrator(network, aggregator_key, self.store, task,
                                         evaluator=evaluator, console=self.console)
        finalized: list[FinalizedRound] = []
        accuracy: list[float] = []
        loss: list[float] = []
        engine = self.engine or open_engine(cfg.engine, cfg.workers)
        try:
            for _ in range(cfg.rounds):
                r = orchestrator.open_next_round(initial)
                self._play_round(r, members, engine)
                info = network.registry.round_info(r)
                self.backend.mine(info.reveal_deadline + 1)
                done = orchestrator.finalize_round(r)
                finalized.append(done)
                metrics = done.report.validation_metrics
                accuracy.append(metrics.get("accuracy", 0) / 1e6)
                loss.append(metrics.get("loss", 0) / 1e6)
                self.backend.mine(network.registry.round_info(r).claimable_at + 1)
                for m in members:
                    if m.participant.journal.get(r) is None:
                        continue
                    amount = m.participant.claim(r)
                    m.earned += amount
                if on_round is not None:
                    on_round(done, members)
        finally:
            if self.engine is None:
                engine.close()
        return SimulationResult(network, task, task_cid, finalized, members, accuracy, loss)

    def _play_round(self, r: int, members: list[Member], engine: TrainingEngine) -> None:
        jobs = [m.participant.training_job(r) for m in members]
        results = dict(zip((m.index for m in members), engine.train_all(jobs), strict=True))
        benign = tuple(results[m.index].delta for m in members if m.attack.is_honest)
        n, f = len(members), sum(not m.attack.is_honest for m in members)
        for m in members:
            context = AttackContext(benign_deltas=benign, num_participants=n, num_attackers=f,
                                    round=r)
            delta = m.participant.tampered(results[m.index].delta, context)
            m.participant.package(r, results[m.index], delta)
            m.participant.commit(r)
        info = members[0].participant.registry.round_info(r)
        self.backend.mine(info.commit_deadline + 1)
        for m in members:
            m.participant.reveal(r)
