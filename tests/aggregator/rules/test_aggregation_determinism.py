"""The audit contract: identical aggregate bytes across thread counts, participant
orders and processes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rule_inputs import honest_updates

from aggregator.rules import build_rule

CASES = {
    "fedavg": {},
    "fedmedian": {},
    "trimmed_mean": {"beta": 0.2},
    "krum": {"num_malicious": 2},
    "multikrum": {"num_malicious": 2, "num_selected": 4},
    "bulyan": {"num_malicious": 2},
    "geometric_median": {},
    "fltrust": {},
    "norm_clipping": {"max_norm": 0.8, "inner": "trimmed_mean", "inner.beta": 0.2},
}
N, D = 11, 3001


def inputs() -> tuple[torch.Tensor, list[int], torch.Tensor]:
    updates = honest_updates(N, D, seed=20)
    updates[0] = 25.0 * torch.sign(updates[0])
    updates[1] = -updates[3]
    return updates, [5 + 3 * i for i in range(N)], updates[4:].mean(0)


def digest(name: str, updates: torch.Tensor, samples: list[int], ref: torch.Tensor) -> str:
    rule = build_rule(name, CASES[name])
    result = rule.aggregate(updates, samples, reference=ref if rule.needs_reference() else None)
    return hashlib.sha256(result.aggregate_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_bytes_with_one_or_two_threads_and_any_participant_order(
    name: str, backend: str
) -> None:
    # Prepare
    updates, samples, ref = inputs()
    order = torch.randperm(N, generator=torch.Generator().manual_seed(21)).tolist()
    threads = torch.get_num_threads()

    # Execute
    torch.set_num_threads(2)
    try:
        two = digest(name, updates, samples, ref)
        permuted = digest(name, updates[order].contiguous(), [samples[i] for i in order], ref)
        torch.set_num_threads(1)
        one = digest(name, updates, samples, ref)
    finally:
        torch.set_num_threads(threads)

    # Assert
    assert one == two
    assert permuted == two


def test_a_fresh_single_thread_process_reproduces_the_bytes(tmp_path: Path) -> None:
    # Prepare: the child gets the inputs permuted and one thread
    updates, samples, ref = inputs()
    order = list(reversed(range(N)))
    torch.save(
        {
            "updates": updates[order].contiguous(),
            "samples": [samples[i] for i in order],
            "ref": ref,
        },
        tmp_path / "inputs.pt",
    )
    script = (
        "import hashlib, json, sys, torch\n"
        "torch.set_num_threads(1)\n"
        "from aggregator.rules import build_rule\n"
        "cases = json.loads(sys.argv[2])\n"
        "data = torch.load(sys.argv[1])\n"
        "out = {}\n"
        "for name, params in cases.items():\n"
        "    rule = build_rule(name, params)\n"
        "    ref = data['ref'] if rule.needs_reference() else None\n"
        "    res = rule.aggregate(data['updates'], data['samples'], reference=ref)\n"
        "    out[name] = hashlib.sha256(res.aggregate_bytes()).hexdigest()\n"
        "print(json.dumps(out))\n"
    )
    here = {name: digest(name, updates, samples, ref) for name in CASES}

    # Execute
    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "inputs.pt"), json.dumps(CASES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )

    # Assert
    assert json.loads(child.stdout) == here
