"""Ray engine scaling: the same simulation with local training on 1 and on 2 Ray workers.

Runs `fedledger.simulation` (embedded chain and store in the driver, local training as
Ray tasks through `fedledger.engines.RayEngine`) once per worker count and reports the
wall time of the training phase (every round's `train_all`) and of the whole run, and
the speed-up over one worker. Each run funds fresh participant keys and training seeds
derive from the participant's address, so two runs are not bitwise comparable; that the
engine leaves results unchanged is tested on identical jobs in
`tests/fedledger/engines/test_engines.py`.

    python benchmarks/ray_scaling.py --smoke   # 3 participants, 1 round, 1 epoch
    nice python benchmarks/ray_scaling.py      # 6 participants, 2 rounds, demo epochs
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):  # the project's packages, and results_io beside this file
    if path not in sys.path:
        sys.path.insert(0, path)

from results_io import write_results

from fedledger.engines import RayEngine
from fedledger.simulation import Simulation, SimulationConfig
from ledger.chain.factory import open_chain
from ledger.store.factory import open_store
from node.participant import TrainingJob
from node.training.local import LocalResult


class TimedRay(RayEngine):
    """The Ray engine, adding up the wall time of each round's training phase."""

    training_seconds = 0.0

    def train_all(self, jobs: Sequence[TrainingJob]) -> list[LocalResult]:
        start = time.perf_counter()
        try:
            return super().train_all(jobs)
        finally:
            self.training_seconds += time.perf_counter() - start


def start_ray(workers: int, attempts: int = 3) -> TimedRay:
    """A local Ray runtime; retried because Ray gives its raylet a fixed 30 s to register
    with the GCS, which a heavily loaded machine can miss (the error says so)."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            return TimedRay(workers=workers)
        except Exception as exc:
            ray.shutdown()
            if attempt == attempts or "timed out during startup" not in str(exc):
                raise
    raise AssertionError("unreachable")


def one_run(workers: int, cfg: SimulationConfig) -> dict[str, Any]:
    started = time.perf_counter()
    engine = start_ray(workers)
    warmed = engine.warm_up()
    startup = time.perf_counter() - started
    try:
        with tempfile.TemporaryDirectory() as tmp:
            backend = open_chain("embedded")
            try:
                store = open_store(str(Path(tmp) / "store"))
                began = time.perf_counter()
                result = Simulation(cfg, backend, store, Path(tmp), engine=engine).run()
                run_s = time.perf_counter() - began
            finally:
                backend.close()
    finally:
        engine.close()
    return {
        "workers": workers,
        "workers_warmed": warmed,
        "ray_startup_s": startup,
        "training_s": engine.training_seconds,
        "run_s": run_s,
        "accuracy": result.accuracy,
        "earned": [m.earned for m in result.members],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    cfg = SimulationConfig(participants=args.participants, attacker_share=0.0, attacks=(),
                           rounds=args.rounds, epochs=args.epochs, lr=str(args.lr),
                           rule="fedavg", seed=args.seed)  # fmt: skip
    runs = [one_run(w, cfg) for w in args.workers]
    base = runs[0]
    for r in runs:
        r["training_speedup"] = base["training_s"] / r["training_s"]
        r["run_speedup"] = base["run_s"] / r["run_s"]
    import ray

    return {
        "benchmark": "ray_scaling",
        "smoke": args.smoke,
        "config": {"participants": cfg.participants, "rounds": cfg.rounds, "model": cfg.model,
                   "dataset": cfg.dataset, "epochs": cfg.epochs, "lr": cfg.lr,
                   "chain": "embedded"},
        "environment": {"ray": ray.__version__, "torch": torch.__version__,
                        "cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "load_average_1min": os.getloadavg()[0]},
        "runs": runs,
    }  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    c, e = report["config"], report["environment"]
    lines = [
        "# Ray engine scaling",
        "",
        (
            f"{c['participants']} participants x {c['rounds']} rounds, {c['model']} on {c['dataset']}, "
            f"{c['epochs']} local epochs; chain {c['chain']} in the driver; Ray {e['ray']} on "
            f"{e['cpu_count']} CPUs (1-min load average {e['load_average_1min']:.1f}: shared machine)."
        ),
        "",
        "| workers | Ray start + worker warm-up | training phase | whole run | training speed-up | run speed-up | final accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['workers']} | {r['ray_startup_s']:.1f}s | {r['training_s']:.1f}s | "
            f"{r['run_s']:.1f}s | {r['training_speedup']:.2f}x | {r['run_speedup']:.2f}x | "
            f"{r['accuracy'][-1]:.3f} |"
        )
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="2 participants, 1 round, 1 epoch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--participants", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5, help="the demo's default")
    parser.add_argument("--lr", type=float, default=0.02, help="the demo's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="ray_scaling")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.participants, args.rounds, args.epochs = 3, 1, 1
        args.name = "ray_scaling.smoke" if args.name == "ray_scaling" else args.name
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    report = run(args)
    write_results(args.out, args.name, report, markdown(report))
    return report


if __name__ == "__main__":
    main()
