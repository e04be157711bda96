"""Ledger overhead: what the record costs a participant per round, next to training.

Per participant per round a node hashes its update (keccak256), computes its CID,
puts it in the content store, sends `commit`, then `reveal`, and after the round
`claim`. This measures each step:

* hashing, CID and store put on update bytes of 1, 10 and 100 MB (and of the demo
  model's real update), on the embedded disk store;
* commit, reveal and claim as the participants of a real simulated round send them
  (`fedledger.simulation`, the demo's model and hyper-parameters: CNN on non-IID
  digits, 5 local epochs, lr 0.02), on the embedded chain (py-evm in process) and on
  anvil. Their cost does not depend on the update's size: only hashes and CIDs go on
  chain. The same round measures each participant's local training time.

The overhead share is (hash + CID + put + commit + reveal + claim) / local training
time of the demo model; the target is <= 5% on anvil for the demo model's update.

    python benchmarks/ledger_overhead.py --smoke     # seconds: 1 MB, embedded only
    nice python benchmarks/ledger_overhead.py        # 1/10/100 MB, embedded and anvil
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from eth_utils import keccak

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):  # the project's packages, and results_io beside this file
    if path not in sys.path:
        sys.path.insert(0, path)

from results_io import write_results

from fedledger.engines import LocalEngine
from fedledger.simulation import Simulation, SimulationConfig
from ledger.chain.factory import open_chain
from ledger.store.builder import compute_cid
from ledger.store.factory import open_store
from node.participant import Participant, TrainingJob
from node.training.local import LocalResult

MB = 1_000_000
CHAIN_STEPS = ("commit", "reveal", "claim")


class Stopwatch:
    """Seconds per named step, one entry per call."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def timed(self, step: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.times.setdefault(step, []).append(time.perf_counter() - start)

    def median(self, step: str) -> float:
        return statistics.median(self.times[step])


def timed_participant(watch: Stopwatch) -> type[Participant]:
    """A `Participant` whose chain steps report their wall time to ``watch``."""

    class TimedParticipant(Participant):
        def commit(self, round_: int):  # type: ignore[no-untyped-def]
            return watch.timed("commit", lambda: super(TimedParticipant, self).commit(round_))

        def reveal(self, round_: int):  # type: ignore[no-untyped-def]
            return watch.timed("reveal", lambda: super(TimedParticipant, self).reveal(round_))

        def claim(self, round_: int) -> int:
            amount: int = watch.timed("claim", lambda: super(TimedParticipant, self).claim(round_))
            return amount

    return TimedParticipant


class TimedEngine(LocalEngine):
    """The in-process engine, timing each participant's local training."""

    def __init__(self, watch: Stopwatch) -> None:
        self.watch = watch

    def train_all(self, jobs: Sequence[TrainingJob]) -> list[LocalResult]:
        return [self.watch.timed("train", job.run) for job in jobs]


def chain_round(chain: str, cfg: SimulationConfig, workdir: Path) -> dict[str, Any]:
    """Run the simulated rounds on ``chain``; medians of each participant step."""
    watch = Stopwatch()
    backend = open_chain(chain)
    try:
        store = open_store(str(workdir / f"store-{chain}"))
        sim = Simulation(cfg, backend, store, workdir / chain, engine=TimedEngine(watch),
                         participant_factory=timed_participant(watch))  # fmt: skip
        result = sim.run()
    finally:
        backend.close()
    update_bytes = result.task.layout.numel * 4
    return {
        "chain": chain,
        "participants": cfg.participants,
        "rounds": cfg.rounds,
        "median_s": {step: watch.median(step) for step in ("train", *CHAIN_STEPS)},
        "calls": {step: len(watch.times[step]) for step in ("train", *CHAIN_STEPS)},
        "demo_update_bytes": update_bytes,
        "earned": [m.earned for m in result.members],
    }


def content_steps(size: int, store_dir: Path, repeats: int) -> dict[str, float]:
    """Median seconds to keccak, CID and store-put ``size`` bytes of float32 noise."""
    data = torch.randn(size // 4, generator=torch.Generator().manual_seed(size)).numpy().tobytes()
    store = open_store(str(store_dir))
    watch = Stopwatch()
    for _ in range(repeats):
        watch.timed("hash", lambda: keccak(data))
        watch.timed("cid", lambda: compute_cid(data))
        watch.timed("put", lambda: store.put_bytes(data))
    return {step: watch.median(step) for step in ("hash", "cid", "put")}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.progress import Progress

    torch.set_num_threads(1)
    cfg = SimulationConfig(participants=args.participants, attacker_share=0.0, attacks=(),
                           rounds=args.rounds, epochs=args.epochs, lr=str(args.lr),
                           rule="fedavg", seed=args.seed)  # fmt: skip
    chains: list[dict[str, Any]] = []
    sizes: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        work = Path(tmp)
        bar = progress.add_task("ledger overhead", total=len(args.chains) + len(args.sizes) + 1)
        for chain in args.chains:
            progress.update(bar, description=f"a round on {chain}")
            chains.append(chain_round(chain, cfg, work))
            progress.advance(bar)
        demo_bytes = chains[0]["demo_update_bytes"]
        labelled = [("demo", demo_bytes)] + [(f"{s:g} MB", int(s * MB)) for s in args.sizes]
        for label, size in labelled:
            progress.update(bar, description=f"hash, CID, put {label}")
            sizes[label] = content_steps(size, work / f"content-{size}", args.repeats) | {
                "bytes": size
            }
            progress.advance(bar)
    rows = []
    for chain in chains:
        train = chain["median_s"]["train"]
        on_chain = sum(chain["median_s"][s] for s in CHAIN_STEPS)
        for label, content in sizes.items():
            total = content["hash"] + content["cid"] + content["put"] + on_chain
            rows.append({
                "chain": chain["chain"], "update": label, "bytes": content["bytes"],
                "hash_s": content["hash"], "cid_s": content["cid"], "put_s": content["put"],
                **{f"{s}_s": chain["median_s"][s] for s in CHAIN_STEPS},
                "total_s": total, "train_s": train, "share_of_training": total / train,
            })  # fmt: skip
    demo_anvil = [r for r in rows if r["chain"] == "anvil" and r["update"] == "demo"]
    return {
        "benchmark": "ledger_overhead",
        "smoke": args.smoke,
        "config": {"participants": cfg.participants, "rounds": cfg.rounds,
                   "model": cfg.model, "dataset": cfg.dataset, "epochs": cfg.epochs,
                   "lr": cfg.lr, "batch_size": cfg.batch_size, "repeats": args.repeats},
        "environment": {"torch": torch.__version__, "cpu_count": os.cpu_count(),
                        "platform": platform.platform(),
                        "load_average_1min": os.getloadavg()[0]},
        "chains": chains,
        "content": sizes,
        "rows": rows,
        "targets": {"demo_share_on_anvil_le_5pct": demo_anvil[0]["share_of_training"] <= 0.05}
        if demo_anvil else {},
    }  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    c = report["config"]
    lines = [
        "# Ledger overhead per participant per round",
        "",
        (
            f"Demo model {c['model']} on {c['dataset']}, {c['epochs']} local epochs, lr {c['lr']}, "
            f"batch {c['batch_size']}; {c['participants']} participants x {c['rounds']} round(s) "
            f"per chain; content steps on the embedded disk store, median of {c['repeats']}. "
            f"1-min load average at the end: {report['environment']['load_average_1min']:.1f} "
            "(the machine is shared)."
        ),
        "",
        "| chain | update | hash | CID | put | commit | reveal | claim | total | local training | share |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['chain']} | {r['update']} ({r['bytes'] / MB:.3g} MB) | {r['hash_s']:.4f}s | "
            f"{r['cid_s']:.4f}s | {r['put_s']:.4f}s | {r['commit_s']:.4f}s | "
            f"{r['reveal_s']:.4f}s | {r['claim_s']:.4f}s | {r['total_s']:.3f}s | "
            f"{r['train_s']:.3f}s | {100 * r['share_of_training']:.1f}% |"
        )
    lines += ["", "Targets: " + json.dumps(report["targets"])]
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 MB, embedded chain, 2 participants")
    parser.add_argument("--chains", nargs="+", default=["embedded", "anvil"],
                        choices=["embedded", "anvil"])  # fmt: skip
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 100], help="MB")
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5, help="the demo's default")
    parser.add_argument("--lr", type=float, default=0.02, help="the demo's default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="ledger_overhead")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        explicit = set(argv or [])
        if "--chains" not in explicit:
            args.chains = ["embedded"]
        if "--sizes" not in explicit:
            args.sizes = [1]
        args.participants, args.epochs, args.repeats = 2, 1, 1
        args.name = "ledger_overhead.smoke" if args.name == "ledger_overhead" else args.name
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    report = run(args)
    write_results(args.out, args.name, report, markdown(report))
    return report


if __name__ == "__main__":
    main()
