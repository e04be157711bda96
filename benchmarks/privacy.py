"""What privacy costs: accuracy against epsilon, and encryption time per megabyte.

Accuracy vs epsilon: DP-FedAvg with client-level DP on the offline digits, non-IID
(Dirichlet label skew), through the audited round path (`aggregator.privacy.private_round`:
client-side clipping, the task's fixed-point unweighted mean, server-side Gaussian noise
from a sealed-seed stream, Opacus RDP accounting). For each target epsilon the noise
multiplier is calibrated with Opacus for the run's number of rounds at sampling rate 1
(every client takes part in every round and participation is public, so no subsampling
amplification). epsilon = inf keeps the clipping and adds no noise. Client-level DP needs
many clients (the noise on the mean shrinks as 1/n), so the run uses many small clients
and a linear softmax model (650 parameters).

Encryption overhead: sealing an update to a reader set (AES-256-GCM body + one ECIES
key wrap per reader) and opening it, in milliseconds per MB, best of a few runs.

Writes `benchmarks/results/privacy.json`, `.md` and `.png` (or `privacy.smoke.*` with
`--smoke`: 4 clients, 1 round, epsilon in {1, inf}, 1 MB, 2 readers).

    python benchmarks/privacy.py [--smoke] [--clients 60] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aggregator.privacy.server_dp import private_round
from ledger.formats.layout import ParameterLayout
from ledger.formats.task import TaskSpec, TrainingConfig
from ledger.privacy.accountant import epsilon_for, noise_multiplier_for
from ledger.privacy.envelope import open_envelope, seal
from ledger.privacy.mechanism import clipping_norm_for
from ledger.privacy.params import DpParams
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.record import PrivacyRecord
from ledger.submissions import RevealedSubmission, SubmissionCheck
from ledger.weights import weights_hash
from node.data import load_digits, partition_labels
from node.models import ModelSpec
from node.privacy.client_dp import privatize_update
from node.training import TrainConfig, evaluate, resolve_device, train_local

RESULTS = REPO_ROOT / "benchmarks" / "results"
INFINITE = math.inf


def _task(layout: ParameterLayout, initial: torch.Tensor, params: DpParams,
          rounds: int) -> TaskSpec:
    return TaskSpec(
        task_id="privacy-bench", name="DP-FedAvg digits", dataset="digits", model="mlp",
        model_kwargs={}, layout=layout, initial_model_hash=weights_hash(initial),
        aggregation_rule="fedavg", aggregation_params={"weighted": False}, fixed_point_bits=24,
        update_norm_bound=Decimal(1000),
        training=TrainingConfig(epochs=1, batch_size=16, lr=Decimal("0.1"),
                                momentum=Decimal(0), proximal_mu=Decimal(0),
                                seed_policy="round", seed=0),
        rounds=rounds, reward_per_round=0, commit_seconds=60, reveal_seconds=60,
        score_method="cosine", software_version="0.1.0", privacy=params)


def _address(i: int) -> str:
    return f"0x{i + 1:040x}"


def run_dp(args: argparse.Namespace, epsilon: float, bar: Progress) -> dict[str, Any]:
    """Train `args.rounds` DP rounds at `epsilon`; return accuracy and the accounted budget."""
    device = resolve_device("cpu")
    dataset = load_digits(seed=args.seed)
    partition = partition_labels("dirichlet", dataset.y_train, args.clients, seed=args.seed,
                                 alpha=args.alpha, min_samples=5)
    clients = [(dataset.x_train[idx], dataset.y_train[idx]) for idx in partition.client_indices]
    spec = ModelSpec.create("mlp", dataset.input_shape, dataset.num_classes, hidden=())
    kwargs = spec.build_kwargs()
    state = spec.initial_state(args.seed)
    layout = ParameterLayout.from_state_dict(state)
    z = 0.0 if math.isinf(epsilon) else noise_multiplier_for(epsilon, args.delta, args.rounds)
    params = DpParams(clip_side="client", noise_side="server", clipping="fixed",
                      clipping_norm=Decimal(str(args.clip)),
                      noise_multiplier=Decimal(str(z)), delta=Decimal(str(args.delta)))
    task = _task(layout, layout.flatten(state), params, args.rounds)
    previous: PrivacyRecord | None = None
    history = []
    label = "inf" if math.isinf(epsilon) else f"{epsilon:g}"
    job = bar.add_task(f"epsilon {label}", total=args.rounds)
    for r in range(args.rounds):
        clip = clipping_norm_for(params, previous)
        config = TrainConfig(epochs=args.epochs, batch_size=16, lr=args.lr, momentum=0.0,
                             seed=args.seed * 100_003 + r, holdout_fraction=0.0)
        checks = []
        for i, (x, y) in enumerate(clients):
            result = train_local(spec.name, kwargs, state, x, y, config, device, progress=False)
            private = privatize_update(result.delta, layout, params, clip)
            sub = RevealedSubmission(r, _address(i), "", bytes(32), "", bytes(32),
                                     result.num_samples)
            checks.append(SubmissionCheck(sub, "ok", "", layout.flatten(private.delta)))
        base = layout.flatten(state)
        seed = torch.randint(0, 256, (32,), generator=torch.Generator().manual_seed(
            args.seed * 1_000 + r), dtype=torch.uint8).numpy().tobytes()
        outcome = private_round(task, base, checks, 0, previous=previous,
                                publish_seed=lambda s: "sealed-seed", noise_seed=seed)
        previous = outcome.record
        state = {**state, **layout.unflatten(outcome.outcome.new_vector)}
        accuracy = evaluate(spec.name, kwargs, state, dataset.x_test, dataset.y_test).accuracy
        history.append({"round": r + 1, "test_accuracy": accuracy,
                        "total_epsilon": previous.total_epsilon})
        bar.update(job, advance=1, description=f"epsilon {label}: round {r + 1} acc "
                                               f"{accuracy:.3f}")
    assert previous is not None
    return {
        "target_epsilon": label,
        "noise_multiplier": z,
        "accounted_epsilon": previous.total_epsilon,
        "opacus_rdp_epsilon": "inf" if z == 0 else epsilon_for(z, args.rounds, args.delta),
        "final_test_accuracy": history[-1]["test_accuracy"],
        "history": history,
    }


def run_encryption(sizes_mb: list[int], readers_counts: list[int], repeats: int) -> list[dict[str, Any]]:
    """Seal and open times per MB for each size and reader count (best of `repeats`)."""
    secrets_ = [ReaderSecret(bytes([0] * 31 + [0x40 + i])) for i in range(max(readers_counts))]
    rows = []
    generator = torch.Generator().manual_seed(0)
    for size in sizes_mb:
        payload = torch.randn(size * 262_144, generator=generator).numpy().tobytes()
        for count in readers_counts:
            keys = [s.reader for s in secrets_[:count]]
            seal_s = open_s = math.inf
            envelope = b""
            for _ in range(repeats):
                started = time.perf_counter()
                envelope = seal(payload, keys)
                seal_s = min(seal_s, time.perf_counter() - started)
                started = time.perf_counter()
                opened = open_envelope(envelope, secrets_[0])
                open_s = min(open_s, time.perf_counter() - started)
                assert opened == payload
            rows.append({"size_mb": size, "readers": count,
                         "seal_ms_per_mb": 1000 * seal_s / size,
                         "open_ms_per_mb": 1000 * open_s / size,
                         "overhead_bytes": len(envelope) - len(payload)})
    return rows


def markdown(result: dict[str, Any]) -> str:
    """Short tables of both measurements."""
    cfg = result["config"]
    lines = [
        "# Privacy cost",
        "",
        (f"DP-FedAvg (client-level DP, client-side clipping C={cfg['clip']}, server noise) on "
         f"digits: {cfg['clients']} clients, Dirichlet(alpha={cfg['alpha']}), {cfg['rounds']} "
         f"rounds, linear softmax model, delta={cfg['delta']}, Opacus RDP accounting at "
         f"sampling rate 1. epsilon=inf: same clipping, no noise."),
        "",
        "| target epsilon | noise multiplier | accounted epsilon | final test accuracy |",
        "|---|---|---|---|",
    ]
    for row in result["accuracy_vs_epsilon"]:
        lines.append(f"| {row['target_epsilon']} | {row['noise_multiplier']:.3f} | "
                     f"{row['accounted_epsilon']} | {row['final_test_accuracy']:.4f} |")
    lines += ["", ("Encryption (AES-256-GCM body, ECIES key wrap per reader), best of "
                   f"{cfg['repeats']}:"), "",
              "| size (MB) | readers | seal (ms/MB) | open (ms/MB) | size overhead (bytes) |",
              "|---|---|---|---|---|"]
    for row in result["encryption"]:
        lines.append(f"| {row['size_mb']} | {row['readers']} | {row['seal_ms_per_mb']:.2f} | "
                     f"{row['open_ms_per_mb']:.2f} | {row['overhead_bytes']} |")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """Accuracy per round for each epsilon, and final accuracy against epsilon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for row in result["accuracy_vs_epsilon"]:
        rounds = [h["round"] for h in row["history"]]
        left.plot(rounds, [h["test_accuracy"] for h in row["history"]], marker="o",
                  label=f"epsilon = {row['target_epsilon']}")
    left.set_xlabel("round")
    left.set_ylabel("test accuracy")
    left.legend()
    labels = [row["target_epsilon"] for row in result["accuracy_vs_epsilon"]]
    right.bar(labels, [row["final_test_accuracy"] for row in result["accuracy_vs_epsilon"]])
    right.set_xlabel(f"epsilon (delta = {result['config']['delta']:g})")
    right.set_ylabel("final test accuracy")
    fig.suptitle("DP-FedAvg on non-IID digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse flags, run both measurements, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (for tests)")
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    epsilons = [1.0, 4.0, 8.0, INFINITE]
    sizes, readers, repeats = [1, 4, 16], [2, 8], 3
    if args.smoke:
        args.clients, args.rounds = 4, 1
        epsilons, sizes, readers, repeats = [1.0, INFINITE], [1], [2], 1
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    with Progress(transient=True) as bar:
        accuracy = [run_dp(args, eps, bar) for eps in epsilons]
    encryption = run_encryption(sizes, readers, repeats)
    result = {
        "benchmark": "privacy",
        "smoke": args.smoke,
        "config": {"clients": args.clients, "rounds": args.rounds, "epochs": args.epochs,
                   "lr": args.lr, "clip": args.clip, "alpha": args.alpha, "delta": args.delta,
                   "seed": args.seed, "repeats": repeats},
        "environment": {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                        "python": platform.python_version(), "machine": platform.machine(),
                        "cpus": os.cpu_count()},
        "accuracy_vs_epsilon": accuracy,
        "encryption": encryption,
        "total_seconds": time.perf_counter() - started,
    }
    stem = "privacy.smoke" if args.smoke else "privacy"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(result))
    plot(result, args.out / f"{stem}.png")
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
