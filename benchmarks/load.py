"""Sustained load: 1,000 participants commit, reveal and claim over several rounds on anvil.

A network that pays for updates has to take a whole population's transactions every round,
and its aggregator has to check and aggregate every reveal, without losing any. This script
deploys the real contracts on a managed anvil (prague, automine), registers N participants
with their own keys, and for each round measures, end to end:

* participant side (serial here, one process; in a real network N machines do it at once):
  encode a synthetic update, store it and a signed contribution proof, compute the commitment;
* commit, reveal and claim: N raw signed transactions each, nonces counted locally, sent with
  `ChainBackend.transact_many` (JSON-RPC batches of sends and receipt polls): tx/s per phase;
* events read in bulk: every commit, reveal and claim event of the round in one log query each;
* the aggregator's `finalize_round`: fetch and verify every reveal from the store (CID, keccak,
  format, norm bound, EIP-712 signature), aggregate (FedAvg on the fixed-point grid by
  default), score, publish model and report, finalize with a Merkle root; its wall time and
  peak memory (the process's RSS high-water mark reset just before, and tracemalloc's peak of
  Python allocations, in a separate pass so tracing does not slow the timed one);
* errors: outcomes that failed, and events missing, both must be 0.

Updates are small synthetic tensors (an MLP layout of a few hundred float32 parameters): the
benchmark measures the ledger and the aggregator's per-submission work, not training or
bandwidth (benchmarks/store.py and benchmarks/aggregation.py measure those). Chain time is
moved past each deadline with anvil's `evm_mine`, so no phase waits on a wall clock.

    python benchmarks/load.py --smoke          # seconds: 6 participants, 2 rounds
    python benchmarks/load.py                  # 1,000 participants, 3 rounds

Results: benchmarks/results/load.json and .md (load.smoke.* with --smoke).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch
from eth_utils.crypto import keccak
from rich.progress import Progress

from aggregator.orchestrator import FinalizedRound, RoundOrchestrator
from ledger.chain.anvil import AnvilChain
from ledger.chain.base import TxOutcome, TxRequest
from ledger.contracts.deploy import Network, deploy_network, enroll_participants
from ledger.contracts.registry import RegistryParams, commitment
from ledger.formats.layout import ParameterLayout
from ledger.formats.proof import ProofFields, data_commitment, sign_proof
from ledger.formats.report import parse_report, rewards_tree
from ledger.formats.task import TaskSpec, TrainingConfig
from ledger.formats.update import encode_update
from ledger.keys import Signer
from ledger.store.disk import DiskStore
from ledger.weights import weights_hash
from node.models import initial_state

TOKEN = 10**18
# Gas limits given explicitly (no estimate round trip per transaction); the measured costs
# are 40.9k (commit), 45.9k (reveal) and 67-79k (claim), see benchmarks/results/gas.md.
COMMIT_GAS = 80_000
REVEAL_GAS = 200_000
CLAIM_GAS = 200_000
GAS_MONEY_WEI = 10 * TOKEN
SOFTWARE_VERSION = "fedledger-0.1.0"
MODEL_KWARGS: dict[str, object] = {"input_shape": [16], "num_classes": 4, "hidden": [16]}
EXAMPLES_PER_PARTICIPANT = 8

T = TypeVar("T")


@dataclass(frozen=True)
class LoadConfig:
    """Size of one run."""

    participants: int
    rounds: int
    rule: str = "fedavg"
    seed: int = 0


@dataclass
class PhaseResult:
    """One bulk phase of one round."""

    transactions: int
    seconds: float
    errors: int
    events: int

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.seconds if self.seconds > 0 else float("inf")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "tx_per_s": round(self.tx_per_s, 1)}


@dataclass
class RoundResult:
    """Everything measured in one round."""

    round: int
    prepare_s: float
    commit: PhaseResult
    reveal: PhaseResult
    finalize_s: float
    accepted: int
    claim: PhaseResult
    events_read_s: float
    end_to_end_s: float
    finalize_peak_rss_mb: float
    finalize_rss_growth_mb: float
    errors: int = field(init=False)

    def __post_init__(self) -> None:
        self.errors = (
            self.commit.errors
            + self.reveal.errors
            + self.claim.errors
            + (self.commit.transactions - self.commit.events)
            + (self.reveal.transactions - self.reveal.events)
            + (self.claim.transactions - self.claim.events)
        )

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("commit", "reveal", "claim")}
        out.update(
            commit=self.commit.as_json(), reveal=self.reveal.as_json(), claim=self.claim.as_json()
        )
        return out


def build_task(cfg: LoadConfig) -> tuple[TaskSpec, torch.Tensor]:
    """A task over a small MLP layout, so updates are a few hundred float32 parameters."""
    state = initial_state("mlp", (16,), 4, seed=cfg.seed, hidden=[16])
    layout = ParameterLayout.from_state_dict(state)
    vector = layout.flatten(state)
    task = TaskSpec(
        task_id="load-mlp",
        name=f"load benchmark, {cfg.participants} participants",
        dataset="synthetic",
        model="mlp",
        model_kwargs=MODEL_KWARGS,
        layout=layout,
        initial_model_hash=weights_hash(vector),
        aggregation_rule=cfg.rule,
        aggregation_params={},
        fixed_point_bits=26,
        update_norm_bound=Decimal(100),
        training=TrainingConfig(epochs=1, batch_size=8, lr=Decimal("0.05"), momentum=Decimal(0),
                                proximal_mu=Decimal(0), seed_policy="participant_round",
                                seed=cfg.seed),
        rounds=cfg.rounds,
        reward_per_round=1_000 * TOKEN,
        commit_seconds=600,
        reveal_seconds=600,
        score_method="cosine",
        software_version=SOFTWARE_VERSION,
    )
    return task, vector


@dataclass(frozen=True)
class Prepared:
    """A synthetic participant's submission for one round, ready to commit and reveal."""

    signer: Signer
    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int
    salt: bytes
    commitment: bytes


def prepare(signer: Signer, round_: int, base_hash: bytes, task: TaskSpec, network: Network,
            store: DiskStore, generator: torch.Generator) -> Prepared:
    """What a node does before committing, with a random small delta instead of training."""
    delta = {
        name: 0.01 * torch.randn(tuple(shape), generator=generator, dtype=torch.float32)
        for name, shape in task.layout
    }
    update = encode_update(delta, round_, base_hash, signer.address, layout=task.layout)
    update_hash = keccak(update)
    update_cid = store.put_bytes(update)
    salt = secrets.token_bytes(32)
    examples = [secrets.token_bytes(64) for _ in range(EXAMPLES_PER_PARTICIPANT)]
    fields = ProofFields(
        round=round_,
        participant=signer.address,
        base_model_hash=base_hash,
        update_hash=update_hash,
        num_samples=EXAMPLES_PER_PARTICIPANT,
        data_commitment=data_commitment(examples, salt),
        training_config_hash=task.training.config_hash(),
        metrics={"accuracy_after": 500_000, "accuracy_before": 250_000,
                 "loss_after": 900_000, "loss_before": 1_300_000},
        software_version=SOFTWARE_VERSION,
    )
    proof = sign_proof(fields, signer, network.info.chain_id,  # type: ignore[arg-type]
                       network.registry.address)
    proof_bytes = proof.canonical_bytes()
    proof_hash = keccak(proof_bytes)
    proof_cid = store.put_bytes(proof_bytes)
    return Prepared(signer, update_cid, update_hash, proof_cid, proof_hash,
                    EXAMPLES_PER_PARTICIPANT, salt,
                    commitment(round_, signer.address, update_hash, proof_hash, salt))


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def failures(outcomes: Sequence[TxOutcome]) -> list[str]:
    return [f"{o.request.sender.address}: {o.error}" for o in outcomes if not o.ok]


def reset_peak_rss() -> bool:
    """Reset this process's RSS high-water mark (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def rss_kib(field_name: str) -> int:
    """VmRSS / VmHWM of this process in KiB, from /proc (0 where unavailable)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class LoadRun:
    """One benchmark run: a network on a managed anvil, N participants, R rounds."""

    def __init__(self, cfg: LoadConfig, workdir: Path, progress: Progress) -> None:
        self.cfg = cfg
        self.progress = progress
        self.chain = AnvilChain(accounts=3, receipt_timeout=300.0)
        self.store = DiskStore(workdir / "store")
        self.task, self.initial = build_task(cfg)
        dev = self.chain.dev_accounts()
        self.admin, self.aggregator = Signer(dev[0]), Signer(dev[1])
        self.participants = [
            Signer.from_key(keccak(f"fedledger-load-{cfg.seed}-{i}".encode()))
            for i in range(cfg.participants)
        ]
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.setup_s = 0.0
        self.network: Network | None = None
        self.orchestrator: RoundOrchestrator | None = None

    def close(self) -> None:
        self.chain.close()

    def setup(self) -> None:
        """Deploy, fund every participant with gas money, register them all, set the task."""
        start = time.perf_counter()
        calls = [("anvil_setBalance", [p.address, hex(GAS_MONEY_WEI)]) for p in self.participants]
        for begin in range(0, len(calls), 500):
            answers = self.chain.w3.provider.make_batch_request(calls[begin:begin + 500])  # type: ignore[attr-defined]
            refused = [a for a in answers if a.get("error")]
            if refused:
                raise RuntimeError(f"anvil refused to fund participants: {refused[0]}")
        params = RegistryParams(min_stake=0, reward_per_round=self.task.reward_per_round,
                                challenge_window=3_600, challenge_bond=10 * TOKEN)
        network = deploy_network(self.chain, self.admin, params)
        network.registry.appoint_aggregator(self.aggregator.address, sender=self.admin)
        task_bytes = self.task.canonical_bytes()
        network.registry.set_task(self.task.task_hash(), self.store.put_bytes(task_bytes),
                                  sender=self.admin)
        enroll_participants(network, self.admin, self.participants, stake=0)
        self.network = network
        self.orchestrator = RoundOrchestrator(network, self.aggregator, self.store, self.task)
        self.setup_s = time.perf_counter() - start

    def bulk(self, requests: list[TxRequest], label: str) -> tuple[list[TxOutcome], float, int]:
        outcomes, seconds = timed(lambda: self.chain.transact_many(requests))
        bad = failures(outcomes)
        for line in bad[:5]:
            self.progress.console.print(f"[red]{label} failed[/] {line}")
        return outcomes, seconds, len(bad)

    def run_round(self, task_id: Any) -> RoundResult:
        assert self.network is not None and self.orchestrator is not None
        registry, chain = self.network.registry, self.chain
        begin = time.perf_counter()
        r = self.orchestrator.open_next_round(self.initial)
        info = registry.round_info(r)
        first_block = chain.block_number() + 1

        def prepare_all() -> list[Prepared]:
            done = []
            for signer in self.participants:
                done.append(prepare(signer, r, info.model_hash, self.task, self.network,  # type: ignore[arg-type]
                                    self.store, self.generator))
                self.progress.advance(task_id)
            return done

        prepared, prepare_s = timed(prepare_all)

        commits = [TxRequest(registry.function("commit", r, p.commitment), p.signer,
                             gas=COMMIT_GAS) for p in prepared]
        _, commit_s, commit_errors = self.bulk(commits, "commit")
        self.progress.advance(task_id, len(prepared))
        chain.mine(info.commit_deadline + 1)

        reveals = [
            TxRequest(registry.function("reveal", r, p.update_cid, p.update_hash, p.proof_cid,
                                        p.proof_hash, p.num_samples, p.salt), p.signer,
                      gas=REVEAL_GAS)
            for p in prepared
        ]
        _, reveal_s, reveal_errors = self.bulk(reveals, "reveal")
        self.progress.advance(task_id, len(prepared))
        chain.mine(info.reveal_deadline + 1)

        gc.collect()
        rss_before = rss_kib("VmRSS")
        reset = reset_peak_rss()
        finalized, finalize_s = timed(lambda: self.orchestrator.finalize_round(r))  # type: ignore[union-attr]
        peak = rss_kib("VmHWM") if reset else 0
        self.progress.advance(task_id, len(prepared))

        chain.mine(registry.round_info(r).claimable_at + 1)
        claims = self.claim_requests(finalized)
        _, claim_s, claim_errors = self.bulk(claims, "claim")
        self.progress.advance(task_id, len(prepared))
        end_to_end = time.perf_counter() - begin

        def read_events() -> tuple[int, int, int]:
            return (len(registry.events_update_committed(round=r, from_block=first_block)),
                    len(registry.events_update_revealed(round=r, from_block=first_block)),
                    len(registry.events_reward_claimed(round=r, from_block=first_block)))

        (n_commit, n_reveal, n_claim), events_s = timed(read_events)
        accepted = sum(s.accepted for s in finalized.report.submissions)
        return RoundResult(
            round=r,
            prepare_s=prepare_s,
            commit=PhaseResult(len(commits), commit_s, commit_errors, n_commit),
            reveal=PhaseResult(len(reveals), reveal_s, reveal_errors, n_reveal),
            finalize_s=finalize_s,
            accepted=accepted,
            claim=PhaseResult(len(claims), claim_s, claim_errors, n_claim),
            events_read_s=events_s,
            end_to_end_s=end_to_end,
            finalize_peak_rss_mb=peak / 1024,
            finalize_rss_growth_mb=max(0, peak - rss_before) / 1024 if reset else 0.0,
        )

    def claim_requests(self, finalized: FinalizedRound) -> list[TxRequest]:
        """Each paid participant's claim, with its Merkle proof from the published report."""
        assert self.network is not None
        report = parse_report(self.store.get_bytes(finalized.report_cid))
        tree = rewards_tree(report)
        if tree is None:
            return []
        index = {value[0]: i for i, value in tree.entries()}
        by_address = {p.address: p for p in self.participants}
        requests = []
        for sub in report.submissions:
            if sub.reward <= 0:
                continue
            proof = tree.get_proof(index[sub.participant])
            requests.append(TxRequest(
                self.network.registry.function("claim", report.round, sub.participant,
                                               sub.reward, [bytes.fromhex(p[2:]) for p in proof]),
                by_address[sub.participant], gas=CLAIM_GAS))
        return requests

    def traced_finalize_peak(self) -> dict[str, float]:
        """One more round, finalized under tracemalloc: Python-allocation peak of the aggregator.

        A separate round because tracing slows allocation-heavy code several times over; the
        timed rounds run untraced. Torch's CPU allocator bypasses tracemalloc, so tensors show
        in the RSS figures, not here.
        """
        assert self.network is not None and self.orchestrator is not None
        registry, chain = self.network.registry, self.chain
        r = self.orchestrator.open_next_round(self.initial)
        info = registry.round_info(r)
        prepared = [prepare(s, r, info.model_hash, self.task, self.network, self.store,
                            self.generator) for s in self.participants]
        self.bulk([TxRequest(registry.function("commit", r, p.commitment), p.signer,
                             gas=COMMIT_GAS) for p in prepared], "commit")
        chain.mine(info.commit_deadline + 1)
        self.bulk([TxRequest(registry.function("reveal", r, p.update_cid, p.update_hash,
                                               p.proof_cid, p.proof_hash, p.num_samples, p.salt),
                             p.signer, gas=REVEAL_GAS) for p in prepared], "reveal")
        chain.mine(info.reveal_deadline + 1)
        gc.collect()
        tracemalloc.start()
        try:
            self.orchestrator.finalize_round(r)
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return {"round": r, "tracemalloc_peak_mb": peak / 2**20,
                "tracemalloc_retained_mb": current / 2**20}


def run(cfg: LoadConfig, *, trace_memory: bool = True, quiet: bool = False) -> dict[str, Any]:
    """Run the benchmark; return the results as a JSON-ready dict."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="fedledger-load-") as tmp, \
            Progress(disable=quiet, transient=True) as progress:
        bench = LoadRun(cfg, Path(tmp), progress)
        try:
            bench.setup()
            rounds: list[RoundResult] = []
            # per round: prepare N, commit N, reveal N, finalize N, claim N steps
            for _ in range(cfg.rounds):
                task_id = progress.add_task(f"round {len(rounds)}", total=5 * cfg.participants)
                rounds.append(bench.run_round(task_id))
                progress.remove_task(task_id)
            traced = bench.traced_finalize_peak() if trace_memory else None
            max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            bench.close()
    total = {
        phase: {
            "transactions": sum(getattr(r, phase).transactions for r in rounds),
            "seconds": sum(getattr(r, phase).seconds for r in rounds),
        }
        for phase in ("commit", "reveal", "claim")
    }
    for entry in total.values():
        entry["tx_per_s"] = round(entry["transactions"] / entry["seconds"], 1) \
            if entry["seconds"] > 0 else None
    return {
        "benchmark": "load",
        "config": asdict(cfg),
        "update": {"parameters": bench.task.layout.numel,
                   "note": "synthetic random float32 deltas of a small MLP layout (no training)"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "chain": "anvil 1.7.1, prague, automine",
                    # other jobs share the machine: wall times are upper bounds when this is high
                    "load_average_1min_before_after": [round(load_before[0], 1),
                                                       round(os.getloadavg()[0], 1)]},
        "setup_s": bench.setup_s,
        "rounds": [r.as_json() for r in rounds],
        "totals": total,
        "errors": sum(r.errors for r in rounds),
        "process_max_rss_mb": max_rss_mb,
        "finalize_traced": traced,
    }


def markdown(result: dict[str, Any]) -> str:
    """The results as a short Markdown page."""
    cfg = result["config"]
    header = (
        f"Command: `{result['command']}` ({result['machine']['cpus']} CPUs, 1-minute load "
        f"average {' -> '.join(map(str, result['machine']['load_average_1min_before_after']))}, "
        f"{result['machine']['chain']}). Updates: {result['update']['note']}, "
        f"{result['update']['parameters']} parameters. Rule: {cfg['rule']}. Setup (deploy, fund, "
        f"register {cfg['participants']:,}): {result['setup_s']:.1f} s. Errors (failed "
        f"transactions + missing events): **{result['errors']}**."
    )
    lines = [
        f"# Load: {cfg['participants']:,} participants x {cfg['rounds']} rounds on anvil",
        "",
        header,
        "",
        (
            "| round | prepare (serial) s | commit tx/s | reveal tx/s | finalize s | accepted "
            "| claim tx/s | events read s | end to end s | finalize peak RSS MB (growth) |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rounds"]:
        lines.append(
            f"| {r['round']} | {r['prepare_s']:.1f} | {r['commit']['tx_per_s']:.0f} "
            f"| {r['reveal']['tx_per_s']:.0f} | {r['finalize_s']:.1f} | {r['accepted']} "
            f"| {r['claim']['tx_per_s']:.0f} | {r['events_read_s']:.2f} | {r['end_to_end_s']:.1f} "
            f"| {r['finalize_peak_rss_mb']:.0f} (+{r['finalize_rss_growth_mb']:.0f}) |"
        )
    totals = result["totals"]
    sustained = ", ".join(
        f"{phase} {totals[phase]['transactions']:,} tx at {totals[phase]['tx_per_s']} tx/s"
        for phase in ("commit", "reveal", "claim")
    )
    lines += [
        "",
        f"Sustained: {sustained}.",
        (
            "Process peak RSS (everything: participants' side too): "
            f"{result['process_max_rss_mb']:.0f} MB."
        ),
    ]
    traced = result.get("finalize_traced")
    if traced:
        lines.append(
            "Aggregator finalize, tracemalloc peak of Python allocations (extra round "
            f"{traced['round']}): {traced['tracemalloc_peak_mb']:.1f} MB."
        )
    lines += [
        "",
        (
            "Prepare = encoding, storing and signing every participant's update and proof in "
            "this one process (N machines do it in parallel in a real network); end to end = "
            "open round to the last claim receipt, including prepare and the aggregator's "
            "finalize. Chain time is moved past each deadline (evm_mine), so no phase waits on "
            "a clock. Finalize peak RSS: the process's high-water mark, reset just before "
            "finalize (growth: above the RSS at that moment)."
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="6 participants, 2 rounds")
    parser.add_argument("--participants", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rule", default="fedavg")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the extra tracemalloc round")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        cfg = LoadConfig(participants=6, rounds=2, rule=args.rule)
    else:
        cfg = LoadConfig(participants=args.participants, rounds=args.rounds, rule=args.rule)
    result = run(cfg, trace_memory=not args.no_trace, quiet=args.quiet or args.smoke)
    result["command"] = " ".join(["python benchmarks/load.py", *(argv if argv is not None
                                                                   else sys.argv[1:])])
    stem = "load.smoke" if args.smoke else "load"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(result))
    if not args.quiet:
        print(markdown(result))
    return result


if __name__ == "__main__":
    main()
