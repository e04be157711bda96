"""Plain FedAvg on the offline digits: the calibration run for the participant's ML stack.

10 clients with Dirichlet(0.5) label skew, 20 rounds, 1 local epoch, SGD lr 0.05
momentum 0.9, the small CNN. The server step here is the textbook sample-weighted
float mean of the client deltas (McMahan et al., AISTATS 2017): this measures
learning and local-training speed, not the audited integer aggregation, which
lives in `aggregator/`.

Writes `benchmarks/results/fedavg_digits.json` and `.md` (or `fedavg_digits.smoke.*`
with `--smoke`: 3 clients, 2 rounds).

    python benchmarks/fedavg_digits.py [--smoke] [--rounds 20] [--clients 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from node.data import load_digits, partition_labels
from node.models import ModelSpec
from node.training import (
    TrainConfig,
    deterministic_scope,
    evaluate,
    resolve_device,
    train_local,
)

RESULTS = REPO_ROOT / "benchmarks" / "results"


def fedavg_round(
    spec: ModelSpec,
    global_state: dict[str, torch.Tensor],
    clients: list[tuple[torch.Tensor, torch.Tensor]],
    config: TrainConfig,
    device: torch.device,
) -> tuple[dict[str, torch.Tensor], float, float]:
    """One round: every client trains; the new model adds the sample-weighted mean delta.

    Returns the new state, the clients' wall seconds and this process's CPU seconds
    spent training (CPU time stays meaningful when other jobs share the cores).
    """
    kwargs = spec.build_kwargs()
    results = []
    train_seconds = 0.0
    cpu_started = time.process_time()
    for x, y in clients:
        result = train_local(spec.name, kwargs, global_state, x, y, config, device, progress=False)
        train_seconds += result.metrics.wall_time_s
        results.append(result)
    cpu_seconds = time.process_time() - cpu_started
    total = sum(r.num_samples for r in results)
    new_state = {}
    for name, tensor in global_state.items():
        if not tensor.is_floating_point():
            new_state[name] = tensor
            continue
        step = sum(r.delta[name].double() * (r.num_samples / total) for r in results)
        new_state[name] = (tensor.double() + step).to(torch.float32)
    return new_state, train_seconds, cpu_seconds


def _load_average() -> float | None:
    """The 1-minute load average (None where the OS does not report one)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its result record."""
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dataset = load_digits(seed=args.seed)
    partition = partition_labels(
        "dirichlet",
        dataset.y_train,
        args.clients,
        seed=args.seed,
        alpha=args.alpha,
        min_samples=10,
    )
    clients = [(dataset.x_train[idx], dataset.y_train[idx]) for idx in partition.client_indices]
    spec = ModelSpec.create(args.model, dataset.input_shape, dataset.num_classes)
    state = spec.initial_state(args.seed)
    kwargs = spec.build_kwargs()
    # The first deterministic scope imports torch's inductor config (seconds, once per
    # process); time it apart so the rounds measure training itself.
    warmup_started = time.perf_counter()
    with deterministic_scope(args.seed, device):
        pass
    warmup_seconds = time.perf_counter() - warmup_started
    history = []
    train_seconds = cpu_seconds = 0.0
    started = time.perf_counter()
    with Progress(transient=True) as bar:
        task = bar.add_task("FedAvg rounds", total=args.rounds)
        for round_number in range(1, args.rounds + 1):
            config = TrainConfig(
                epochs=args.epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                momentum=args.momentum,
                seed=args.seed * 100_003 + round_number,
                holdout_fraction=0.0,
            )
            state, seconds, cpu = fedavg_round(spec, state, clients, config, device)
            train_seconds += seconds
            cpu_seconds += cpu
            loss, accuracy = evaluate(spec.name, kwargs, state, dataset.x_test, dataset.y_test)
            history.append({"round": round_number, "test_loss": loss, "test_accuracy": accuracy})
            bar.update(
                task, advance=1, description=f"FedAvg round {round_number} acc {accuracy:.3f}"
            )
    total_seconds = time.perf_counter() - started
    return {
        "benchmark": "fedavg_digits",
        "smoke": args.smoke,
        "config": {
            "dataset": "digits",
            "train_samples": dataset.num_train,
            "test_samples": dataset.num_test,
            "model": spec.to_dict(),
            "parameters": sum(t.numel() for t in state.values()),
            "clients": args.clients,
            "partition": f"dirichlet(alpha={args.alpha})",
            "client_sizes": list(partition.sizes),
            "rounds": args.rounds,
            "local_epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "momentum": args.momentum,
            "seed": args.seed,
        },
        "environment": {
            "device": str(device),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "final_test_accuracy": history[-1]["test_accuracy"],
        "best_test_accuracy": max(h["test_accuracy"] for h in history),
        "first_call_warmup_seconds": warmup_seconds,
        "local_training_seconds": train_seconds,
        "local_training_cpu_seconds": cpu_seconds,
        "load_average_1min_at_end": _load_average(),
        "total_seconds": total_seconds,
        "history": history,
    }


def markdown(result: dict[str, Any]) -> str:
    """A short table of the run."""
    cfg, env = result["config"], result["environment"]
    lines = [
        "# FedAvg on digits",
        "",
        (
            f"{cfg['clients']} clients, {cfg['partition']}, {cfg['rounds']} rounds, "
            f"{cfg['local_epochs']} local epoch, SGD lr {cfg['lr']} momentum {cfg['momentum']}, "
            f"{cfg['model']['name']} ({cfg['parameters']} parameters), device {env['device']}, "
            f"{env['torch_threads']} torch thread(s)."
        ),
        "",
        "| metric | value |",
        "|---|---|",
        f"| final test accuracy | {result['final_test_accuracy']:.4f} |",
        f"| best test accuracy | {result['best_test_accuracy']:.4f} |",
        f"| local training time (s) | {result['local_training_seconds']:.2f} |",
        f"| local training CPU time (s) | {result['local_training_cpu_seconds']:.2f} |",
        f"| 1-min load average at end | {result['load_average_1min_at_end']} |",
        f"| total time incl. evaluation (s) | {result['total_seconds']:.2f} |",
        f"| one-time warm-up, not in totals (s) | {result['first_call_warmup_seconds']:.2f} |",
        "",
        "| round | test accuracy | test loss |",
        "|---|---|---|",
    ]
    lines += [
        f"| {h['round']} | {h['test_accuracy']:.4f} | {h['test_loss']:.4f} |"
        for h in result["history"]
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; `--smoke` shrinks the run to 3 clients x 2 rounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (3 clients, 2 rounds)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (1 avoids oversubscription)"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default: results/)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.clients = 2, 3
    return args


def main(argv: list[str] | None = None) -> Path:
    """Run, write JSON and Markdown, print the headline; return the JSON path."""
    args = parse_args(argv)
    result = run(args)
    out = args.out or RESULTS / ("fedavg_digits.smoke.json" if args.smoke else "fedavg_digits.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(
        f"final test accuracy {result['final_test_accuracy']:.4f}, local training "
        f"{result['local_training_seconds']:.2f} s, total {result['total_seconds']:.2f} s -> {out}"
    )
    return out


if __name__ == "__main__":
    main()
