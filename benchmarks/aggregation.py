"""Aggregation speed: the audited deterministic path against Flower and machine floors.

For every rule and size (N updates of d float32 coordinates) this times
``rule.aggregate`` (quantisation, exact integer statistics, float decisions: the path
an auditor re-runs) against Flower 1.41's legacy functions
(``flwr.server.strategy.aggregate``) and the math of its newer strategies
(``flwr.serverapp.strategy``), run on the same in-memory arrays (no serialisation, which
favours Flower). It measures the machine floors in the same run: the time to read the
stacked updates once (read bandwidth) and, for the Krum family, N*N*d multiply-adds at
the measured float32 matrix-multiply rate; and the peak extra resident memory of our
call. The Gram floor is ``max(2 N^2 d / matmul rate, read floor)``: for small N the
product is memory-bound. Results go to ``benchmarks/results/aggregation.json`` and
``.md``.

Flower calls predicted (from the same N at a smaller d) to take longer than
``--flower-budget`` seconds are skipped and reported as such.

    python benchmarks/aggregation.py --smoke            # seconds, tiny sizes
    python benchmarks/aggregation.py --max-d 1000000    # N in {10, 50, 100}
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aggregator.rules import (
    build_rule,
    native,
)

RULES = [
    "fedavg",
    "fedmedian",
    "trimmed_mean",
    "krum",
    "multikrum",
    "bulyan",
    "geometric_median",
    "fltrust",
]
GRAM_RULES = {"krum", "multikrum"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def rule_params(name: str, n: int) -> dict[str, Any]:
    f = max(1, n // 10)
    return {
        "trimmed_mean": {"beta": 0.1},
        "krum": {"num_malicious": f},
        "multikrum": {"num_malicious": f, "num_selected": n // 2},
        "bulyan": {"num_malicious": min(f, (n - 3) // 4)},
    }.get(name, {})


# ------------------------------------------------------------------ measuring
def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time over ``repeats`` calls (nothing else running in this process)."""
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        del out
    return statistics.median(times)


def peak_extra_memory(fn: Callable[[], object]) -> int:
    """Peak resident memory above the starting point during one call (sampled every 2 ms,
    in a separate run so the sampling thread does not disturb the timings)."""
    base = _rss()
    top = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            top[0] = max(top[0], _rss())
            stop.wait(0.002)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out = fn()
    stop.set()
    watcher.join()
    top[0] = max(top[0], _rss())
    del out
    return top[0] - base


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` calls: floors are best cases, so noise cannot flatter us."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def read_rate(x: torch.Tensor, repeats: int) -> float:
    """Bytes per second reading ``x`` once (a full reduction over it), best of runs."""
    return x.numel() * 4 / best_time(lambda: x.sum(), max(7, repeats))


def matmul_rate(repeats: int, size: int = 2048) -> float:
    """float32 FLOP/s of a square matrix product, best of runs."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    a @ b
    return 2 * size**3 / best_time(lambda: a @ b, max(10, repeats))


# ------------------------------------------------------------------- Flower
class _Array:
    def __init__(self, x: np.ndarray) -> None:
        self._x = x

    def numpy(self) -> np.ndarray:
        return self._x


class _ArrayRecord:
    """Duck-typed ``ArrayRecord`` holding a view: Flower's math without serialisation."""

    def __init__(self, x: np.ndarray) -> None:
        self._x = x

    def to_numpy_ndarrays(self, keep_input: bool = True) -> list[np.ndarray]:
        return [self._x]

    def items(self) -> list[tuple[str, _Array]]:
        return [("w", _Array(self._x))]

    def keys(self) -> list[str]:
        return ["w"]


class _RecordDict:
    def __init__(self, x: np.ndarray, samples: int) -> None:
        self.array_records = {"arrays": _ArrayRecord(x)}
        self.metric_records = {"metrics": {"num-examples": samples}}

    def __getitem__(self, key: str) -> _ArrayRecord:
        return self.array_records[key]


def flower_functions(
    name: str, x: np.ndarray, samples: list[int], params: dict[str, Any]
) -> dict[str, Callable[[], object]]:
    """The legacy and newer Flower computations of ``name`` on ``x``, where they exist."""
    try:
        from flwr.server.strategy import aggregate as legacy
        from flwr.serverapp.strategy import bulyan as new_bulyan
        from flwr.serverapp.strategy import fedtrimmedavg, multikrum, strategy_utils
    except ImportError:
        return {}
    results = [([x[i]], samples[i]) for i in range(x.shape[0])]
    records = [_RecordDict(x[i], samples[i]) for i in range(x.shape[0])]
    f = params.get("num_malicious", 0)
    if name == "fedavg":
        return {
            "legacy": lambda: legacy.aggregate(results),
            "new": lambda: strategy_utils.aggregate_arrayrecords(records, "num-examples"),
        }
    if name == "fedmedian":  # the newer FedMedian runs np.median on the stacked layer
        return {
            "legacy": lambda: legacy.aggregate_median(results),
            "new": lambda: np.median(np.stack([x[i] for i in range(x.shape[0])]), axis=0),
        }
    if name == "trimmed_mean":
        beta = params["beta"]
        return {
            "legacy": lambda: legacy.aggregate_trimmed_avg(results, beta),
            "new": lambda: fedtrimmedavg.trim_mean(
                np.stack([x[i] for i in range(x.shape[0])]), beta
            ),
        }
    if name in ("krum", "multikrum"):
        m = params.get("num_selected", 1)
        keep = 0 if name == "krum" else m
        return {
            "legacy": lambda: legacy.aggregate_krum(results, f, keep),
            "new": lambda: strategy_utils.aggregate_arrayrecords(
                multikrum.select_multikrum(records, f, m),
                "num-examples",  # type: ignore[arg-type]
            ),
        }
    if name == "bulyan":
        theta = x.shape[0] - 2 * f
        beta = theta - 2 * f

        def newer() -> object:
            chosen = multikrum.select_multikrum(records, f, theta)  # type: ignore[arg-type]
            layers = [c["arrays"].to_numpy_ndarrays() for c in chosen]
            median = [np.median(np.stack([w[0] for w in layers]), axis=0)]
            return new_bulyan.aggregate_n_closest_weights(median, layers, beta)

        return {
            "legacy": lambda: legacy.aggregate_bulyan(
                list(results), f, legacy.aggregate_krum, to_keep=0
            ),
            "new": newer,
        }
    return {}


# ------------------------------------------------------------------ the run
@dataclass
class Row:
    rule: str
    n: int
    d: int
    params: dict[str, Any]
    ours_s: float
    ours_peak_extra_bytes: int
    stacked_bytes: int
    read_floor_s: float
    gram_floor_s: float | None
    flower_s: dict[str, float | None] = field(default_factory=dict)
    flower_skipped: dict[str, str] = field(default_factory=dict)

    @property
    def flower_best_s(self) -> float | None:
        times = [t for t in self.flower_s.values() if t is not None]
        return min(times) if times else None


def targets(row: Row) -> dict[str, bool]:
    """The issue's targets for this row (only those that apply)."""
    out: dict[str, bool] = {
        "peak_memory_below_one_copy": row.ours_peak_extra_bytes < row.stacked_bytes
    }
    best = row.flower_best_s
    if best is not None:
        out["ahead_of_fastest_flower"] = row.ours_s < best
        speedup = best / row.ours_s
        if row.rule in ("fedmedian", "trimmed_mean"):
            out["10x_flower_to_n50_5x_at_n100"] = speedup >= (10 if row.n <= 50 else 5)
        if row.rule == "bulyan":
            out["5x_flower"] = speedup >= 5
    if row.rule in GRAM_RULES and row.gram_floor_s:
        out["within_1.3x_gram_floor"] = row.ours_s <= 1.3 * row.gram_floor_s
    if row.rule == "fedavg":
        out["within_2x_read_floor"] = row.ours_s <= 2 * row.read_floor_s
    return out


def make_updates(n: int, d: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = torch.empty((n, d), dtype=torch.float32)
    for i in range(n):
        x[i] = torch.randn(d, generator=gen) * 0.01
    return x


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.progress import Progress

    torch.set_num_threads(args.threads)
    sizes = [
        (n, d) for n in args.n for d in args.d if d <= args.max_d and n * d <= args.max_elements
    ]
    matmul = matmul_rate(args.repeats)
    native_status = native.status()
    rows: list[Row] = []
    flower_rate: dict[tuple[str, str, int], float] = {}  # seconds per element
    with Progress(transient=False) as progress:
        task = progress.add_task("aggregation benchmark", total=len(sizes) * len(args.rules))
        for n, d in sizes:
            x = make_updates(n, d, seed=n * 7 + d)
            reference = x[: max(1, n // 2)].mean(0)
            samples = [100 + 37 * i for i in range(n)]
            read_s = x.numel() * 4 / read_rate(x, args.repeats)
            for name in args.rules:
                progress.update(task, description=f"{name} N={n} d={d:.0e}")
                params = rule_params(name, n)
                rule = build_rule(name, params)
                ref = reference if rule.needs_reference() else None
                rule.aggregate(
                    x[:, :64].contiguous(), samples, reference=None if ref is None else ref[:64]
                )
                call = partial(rule.aggregate, x, samples, reference=ref)
                ours_s = timed(call, args.repeats)
                peak = peak_extra_memory(call)
                row = Row(
                    rule=name, n=n, d=d, params=params, ours_s=ours_s, ours_peak_extra_bytes=peak,
                    stacked_bytes=x.numel() * 4, read_floor_s=read_s,
                    # a Gram pass cannot beat reading the data once either
                    gram_floor_s=max(2 * n * n * d / matmul, read_s)
                    if name in GRAM_RULES | {"bulyan"}
                    else None,
                )  # fmt: skip
                xn = x.numpy()
                for variant, fn in flower_functions(name, xn, samples, params).items():
                    key = (name, variant, n)
                    predicted = flower_rate.get(key, 0.0) * n * d
                    if predicted > args.flower_budget:
                        row.flower_s[variant] = None
                        row.flower_skipped[variant] = f"predicted {predicted:.0f} s > budget"
                        continue
                    first = timed(fn, 1)
                    flower_rate[key] = first / (n * d)
                    reps = 1 if first > args.flower_budget / 3 else args.repeats
                    row.flower_s[variant] = first if reps == 1 else timed(fn, reps)
                rows.append(row)
                progress.advance(task)
            del x
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "torch_threads": args.threads,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "flwr": _flwr_version(),
        },
        "native_kernels": native_status,
        "floors": {"matmul_gflops": matmul / 1e9},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": [
            asdict(r)
            | {
                "flower_best_s": r.flower_best_s,
                "speedup_vs_fastest_flower": (r.flower_best_s / r.ours_s)
                if r.flower_best_s
                else None,
                "ours_over_gram_floor": (r.ours_s / r.gram_floor_s) if r.gram_floor_s else None,
                "ours_over_read_floor": r.ours_s / r.read_floor_s,
                "peak_extra_fraction_of_stacked": r.ours_peak_extra_bytes / r.stacked_bytes,
                "targets": targets(r),
            }
            for r in rows
        ],
    }


def _flwr_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("flwr")
    except Exception:  # noqa: BLE001 - absent or broken metadata both mean "not here"
        return None


def _fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    return f"{value:.3g}{unit}" if unit else f"{value:.3g}"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Aggregation benchmark",
        "",
        (
            f"Machine: {report['machine']['cpu_count']} CPUs, "
            f"{report['machine']['torch_threads']} torch threads, torch "
            f"{report['machine']['torch']}, flwr {report['machine']['flwr']}; native kernels: "
            f"{report['native_kernels']}; float32 matmul "
            f"{report['floors']['matmul_gflops']:.0f} GFLOP/s."
        ),
        "Times are medians; 'ours' is the audited deterministic path (quantisation included).",
        "",
        "| rule | N | d | ours | Flower legacy | Flower new | speedup vs fastest Flower | floor | ours/floor | peak extra mem | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        floor = r["gram_floor_s"] if r["gram_floor_s"] else r["read_floor_s"]
        kind = "gram" if r["gram_floor_s"] else "read"
        flower = {k: _fmt(v) for k, v in r["flower_s"].items()}
        for k, why in r["flower_skipped"].items():
            flower[k] = f"skipped ({why})"
        verdicts = ", ".join(f"{k}: {'PASS' if ok else 'FAIL'}" for k, ok in r["targets"].items())
        lines.append(
            f"| {r['rule']} | {r['n']} | {r['d']:.0e} | {_fmt(r['ours_s'])} | {flower.get('legacy', '-')} | "
            f"{flower.get('new', '-')} | {_fmt(r['speedup_vs_fastest_flower'], 'x')} | "
            f"{kind} {_fmt(floor)} | {_fmt(r['ours_s'] / floor, 'x')} | "
            f"{r['peak_extra_fraction_of_stacked']:.2f} copy | {verdicts} |"
        )
    return "\n".join(lines) + "\n"


def merged(previous_path: Path, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` plus the rows of ``previous_path`` for (rule, N, d) it did not measure.

    A long size (N=100, d=1e7) can then be run on its own without re-running the rest;
    the machine and floors are this run's, and each row keeps its own floors.
    """
    if not previous_path.exists():
        return report
    previous = json.loads(previous_path.read_text())
    fresh = {(r["rule"], r["n"], r["d"]) for r in report["results"]}
    kept = [r for r in previous["results"] if (r["rule"], r["n"], r["d"]) not in fresh]
    order = {name: i for i, name in enumerate(RULES)}
    rows = sorted(kept + report["results"], key=lambda r: (r["n"], r["d"], order[r["rule"]]))
    return report | {"results": rows, "merged_from": str(previous_path.name)}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat (seconds)")
    parser.add_argument("--n", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--d", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    parser.add_argument("--max-d", type=float, default=1e7, help="skip sizes with a larger d")
    parser.add_argument(
        "--max-elements", type=float, default=1e10, help="skip sizes with N*d above this"
    )
    parser.add_argument("--rules", nargs="+", default=RULES, choices=RULES)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--flower-budget", type=float, default=60.0, help="seconds per Flower call")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the rows of an existing aggregation.json for sizes this run does not measure",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        explicit = argv or []
        if "--n" not in explicit:
            args.n = [5, 12]
        if "--d" not in explicit:
            args.d = [2000.0, 5000.0]
        args.repeats = 1
    args.d = [int(d) for d in args.d]
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    report = run(args)
    if args.merge:
        report = merged(args.out / "aggregation.json", report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "aggregation.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "aggregation.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
