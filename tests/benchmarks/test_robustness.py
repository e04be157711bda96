"""The robustness benchmark runs end to end at its smoke size; its batched trainer is train_local.

No timing is asserted: the benchmark's numbers live in benchmarks/results/.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def robustness():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("robustness")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_batched_trainer_matches_train_local(robustness) -> None:  # type: ignore[no-untyped-def]
    # Prepare
    from batched_training import BatchedTrainer, ClientStep

    from node.models import ModelSpec
    from node.training import TrainConfig, train_local

    spec = ModelSpec.create("mlp", (1, 8, 8), 10)
    state = spec.initial_state(3)
    gen = torch.Generator().manual_seed(0)
    clients = [(torch.rand(n, 1, 8, 8, generator=gen), torch.randint(0, 10, (n,), generator=gen))
               for n in (5, 19, 11)]  # fmt: skip
    trainer = BatchedTrainer(spec.name, spec.build_kwargs(),
                             ClientStep(epochs=2, batch_size=4, lr=0.1, momentum=0.9))  # fmt: skip

    # Execute
    deltas = trainer.train(trainer.flatten(state), clients, seeds=[7, 8, 9])

    # Assert
    for c, (x, y) in enumerate(clients):
        config = TrainConfig(epochs=2, batch_size=4, lr=0.1, momentum=0.9, seed=7 + c,
                             holdout_fraction=0.0)  # fmt: skip
        reference = train_local(spec.name, spec.build_kwargs(), state, x, y, config, progress=False)
        torch.testing.assert_close(deltas[c], trainer.flatten(reference.delta), rtol=0, atol=1e-6)


def test_smoke_run_writes_results(robustness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Prepare
    argv = ["--smoke", "--out", str(tmp_path), "--rounds", "1"]
    if robustness._flwr_version() is None:
        argv += ["--flower"]

    # Execute
    report = robustness.main(argv)

    # Assert
    saved = json.loads((tmp_path / "robustness.smoke.json").read_text())
    scenarios = {(r["attack"], r["fraction"], r["impl"], r["rule"]) for r in saved["runs"]}
    expected = {(a, f, "ours", r) for a, f in (("none", 0.0), ("sign-flip", 0.3))
                for r in ("fedavg", "multikrum")}  # fmt: skip
    assert expected <= scenarios
    assert all(len(r["accuracy"]) == 1 and 0.0 <= r["final_accuracy"] <= 1.0 for r in saved["runs"])
    sign_flip = next(r for r in saved["runs"] if r["attack"] == "sign-flip")
    assert len(sign_flip["attackers"]) == 3  # 30% of the 10 smoke participants
    assert set(saved["summary"]["digits"]["scenarios"]) == {"none", "sign-flip@30%"}
    assert (tmp_path / "robustness.smoke.png").stat().st_size > 0
    assert (tmp_path / "robustness.smoke.md").read_text().startswith("# Robustness benchmark")
    assert json.loads(json.dumps(report["summary"])) == saved["summary"]
