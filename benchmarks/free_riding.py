"""Free-riding and data quality: who gets paid in a real simulated network.

A `fedledger.simulation` run on a real chain and store (demo model: CNN on digits,
IID shards so that data quality is the only difference between honest participants):

* free-riders: one copies a colluding peer's update of the same round (the strongest
  copier: it is handed the round's benign deltas, which commit-reveal denies a real
  outsider), one submits an all-zero update, one commits and never reveals;
* honest participants whose labels carry increasing noise (a seeded fraction of each
  one's labels replaced by a different, uniformly drawn class).

It reports every participant's total reward, checks that the three free-riders earn
nothing, and the Spearman and Pearson correlations between honest participants'
label-noise level and their rewards (negative: cleaner data, larger reward).

    python benchmarks/free_riding.py --smoke    # 1 round, 6 participants
    nice python benchmarks/free_riding.py       # 4 rounds, 9 participants
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):  # the project's packages, and results_io beside this file
    if path not in sys.path:
        sys.path.insert(0, path)

from results_io import write_results

from fedledger.simulation import TOKEN, Simulation, SimulationConfig
from ledger.chain.factory import open_chain
from ledger.store.factory import open_store
from node.participant import LocalData, Participant

FREE_RIDERS = ("free-rider-copy", "free-rider", "no-reveal")


def noisy_labels(y: torch.Tensor, level: float, num_classes: int, seed: int) -> torch.Tensor:
    """``y`` with a seeded fraction ``level`` of labels moved to another class (uniform)."""
    gen = torch.Generator().manual_seed(seed)
    labels = y.to(torch.int64).clone()
    count = round(level * labels.numel())
    chosen = torch.randperm(labels.numel(), generator=gen)[:count]
    shift = torch.randint(1, num_classes, (count,), generator=gen)
    labels[chosen] = (labels[chosen] + shift) % num_classes
    return labels


class NoisyParticipants:
    """Participant factory: the i-th participant built gets label noise ``levels[i]``."""

    def __init__(self, levels: Sequence[float], num_classes: int, seed: int) -> None:
        self.levels = list(levels)
        self.num_classes = num_classes
        self.seed = seed
        self.built = 0

    def __call__(self, network, key, store, task, data: LocalData, journal, **kw):  # type: ignore[no-untyped-def]
        level = self.levels[self.built]
        y = noisy_labels(data.y, level, self.num_classes, self.seed * 1000 + self.built)
        self.built += 1
        return Participant(network, key, store, task, LocalData(data.x, y), journal, **kw)


def correlate(members: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Spearman and Pearson correlation of label noise with tokens earned (None if flat)."""
    noise = np.array([m["label_noise"] for m in members], dtype=float)
    earned = np.array([m["earned_tokens"] for m in members], dtype=float)
    if len(members) < 3 or earned.std() == 0 or noise.std() == 0:
        return {"spearman": None, "pearson": None, "participants": len(members)}
    from scipy.stats import pearsonr, spearmanr

    return {"spearman": float(spearmanr(noise, earned).statistic),
            "pearson": float(pearsonr(noise, earned).statistic),
            "participants": len(members)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    f = len(FREE_RIDERS)
    participants = f + len(args.noise)
    # The defender's Multi-Krum: the registry's checks reject the copy, the zero update and
    # the missing reveal before any rule runs, so it sees the honest updates; it assumes one
    # bad (Krum needs n >= 2 f + 3) and keeps all but two of the honest ones.
    honest = len(args.noise)
    cfg = SimulationConfig(
        participants=participants, attacker_share=f / participants, attacks=FREE_RIDERS,
        rounds=args.rounds, rule=args.rule,
        rule_params=(("num_malicious", 1), ("num_selected", honest - 2))
        if args.rule == "multikrum" else (),
        partition="iid", epochs=args.epochs, lr=str(args.lr), seed=args.seed,
    )  # fmt: skip
    levels = [0.0] * f + list(args.noise)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        backend = open_chain(args.chain)
        try:
            store = open_store(str(Path(tmp) / "store"))
            factory = NoisyParticipants(levels, num_classes=10, seed=args.seed)
            sim = Simulation(cfg, backend, store, Path(tmp), participant_factory=factory)
            result = sim.run()
        finally:
            backend.close()

    def rounds_of(address: str) -> list[dict[str, Any]]:
        """What each round's report says about `address` (absent: never revealed)."""
        out = []
        for done in result.rounds:
            sub = next((s for s in done.report.submissions if s.participant == address), None)
            out.append({"round": done.round, "revealed": False} if sub is None else {
                "round": done.round, "revealed": True, "verification": sub.verification,
                "accepted": sub.accepted, "reason": sub.reason, "score": sub.score,
                "reward_tokens": sub.reward / TOKEN})  # fmt: skip
        return out

    members = [
        {"index": m.index, "role": m.label.split(" ", 1)[1].strip("()"),
         "label_noise": levels[m.index] if m.attack.is_honest else None,
         "earned_tokens": m.earned / TOKEN,
         "rounds": rounds_of(m.participant.address)}
        for m in result.members
    ]  # fmt: skip
    honest = [m for m in members if m["label_noise"] is not None]
    # The copier's victim is rejected with it (identical updates): its reward says nothing
    # about its data, so the correlation is also reported without it.
    unaffected = [m for m in honest
                  if not any(str(r.get("reason", "")).startswith("identical to the update")
                             for r in m["rounds"])]  # fmt: skip
    riders = [m for m in members if m["label_noise"] is None]
    return {
        "benchmark": "free_riding",
        "smoke": args.smoke,
        "config": {"chain": args.chain, "participants": participants, "rounds": args.rounds,
                   "rule": args.rule, "rule_params": dict(cfg.rule_params), "model": cfg.model,
                   "dataset": cfg.dataset, "partition": cfg.partition, "epochs": cfg.epochs,
                   "lr": cfg.lr, "reward_per_round_tokens": cfg.reward_per_round / TOKEN,
                   "label_noise_levels": list(args.noise), "seed": args.seed},
        "environment": {"torch": torch.__version__, "cpu_count": os.cpu_count(),
                        "platform": platform.platform()},
        "wall_seconds": time.perf_counter() - started,
        "accuracy": result.accuracy,
        "members": members,
        "correlation_noise_vs_reward": correlate(honest),
        "correlation_without_copy_victims": correlate(unaffected),
        "targets": {
            "free_riders_earn_nothing": all(m["earned_tokens"] == 0 for m in riders),
            "rewards_fall_with_label_noise": (correlate(unaffected)["spearman"] or 0.0) < 0,
        },
    }  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    c = report["config"]
    lines = [
        "# Free-riding and data quality",
        "",
        (
            f"{c['participants']} participants on the {c['chain']} chain, {c['rounds']} rounds, rule "
            f"{c['rule']} {c['rule_params']}, {c['model']} on {c['dataset']} ({c['partition']} shards), "
            f"{c['epochs']} local epochs, lr {c['lr']}, {c['reward_per_round_tokens']:g} tokens per "
            "round."
        ),
        "",
        "| participant | role | label noise | tokens earned | accepted rounds | reasons when rejected |",
        "|---|---|---|---|---|---|",
    ]
    for m in report["members"]:
        noise = "-" if m["label_noise"] is None else f"{m['label_noise']:.0%}"
        accepted = sum(bool(r.get("accepted")) for r in m["rounds"])
        reasons = sorted(
            {
                r.get("reason") or r.get("verification", "") if r["revealed"] else "not revealed"
                for r in m["rounds"]
                if not r.get("accepted")
            }
        )
        lines.append(f"| p{m['index']:02d} | {m['role']} | {noise} | {m['earned_tokens']:.2f} | "
                     f"{accepted}/{len(m['rounds'])} | {'; '.join(reasons) or '-'} |")  # fmt: skip
    corr = report["correlation_noise_vs_reward"]
    clean = report["correlation_without_copy_victims"]

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    lines += [
        "",
        (
            f"Correlation of label noise with reward, all {corr['participants']} honest "
            f"participants: Spearman {fmt(corr['spearman'])}, Pearson {fmt(corr['pearson'])}; "
            f"without the copier's victim ({clean['participants']}): Spearman "
            f"{fmt(clean['spearman'])}, Pearson {fmt(clean['pearson'])}."
        ),
        "",
        "Targets: " + json.dumps(report["targets"]),
    ]
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 round, 3 honest, 1 epoch")
    parser.add_argument("--chain", default="embedded", choices=["embedded", "anvil"])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.0, 0.2, 0.4, 0.6, 0.8],
                        help="label-noise level of each honest participant")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rule", default="multikrum")
    parser.add_argument("--epochs", type=int, default=5, help="the demo's default")
    parser.add_argument("--lr", type=float, default=0.02, help="the demo's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="free_riding")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if any(not 0.0 <= n < 1.0 for n in args.noise):
        parser.error(f"--noise levels must be in [0, 1), got {args.noise}")
    if args.smoke:
        explicit = set(argv or [])
        if "--noise" not in explicit:
            args.noise = [0.0, 0.3, 0.6, 0.9]
        if "--rounds" not in explicit:
            args.rounds = 1
        if "--rule" not in explicit:  # 4 honest updates are too few for Krum's n >= 2f + 3
            args.rule = "fedavg"
        args.epochs = 1
        args.name = "free_riding.smoke" if args.name == "free_riding" else args.name
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    report = run(args)
    write_results(args.out, args.name, report, markdown(report))
    return report


if __name__ == "__main__":
    main()
