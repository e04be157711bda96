"""Training engines: the factory's errors, and local vs Ray giving identical results."""

from __future__ import annotations

import pytest
import torch

from fedledger.engines import LocalEngine, open_engine
from ledger.errors import ConfigError
from node.models import ModelSpec
from node.participant import TrainingJob
from node.training import TrainConfig, train_local


def tiny_jobs() -> list[TrainingJob]:
    spec = ModelSpec.create("mlp", (1, 8, 8), 10)
    state = spec.initial_state(0)
    gen = torch.Generator().manual_seed(1)
    jobs = []
    for i, n in enumerate((12, 7)):
        x = torch.rand(n, 1, 8, 8, generator=gen)
        y = torch.randint(0, 10, (n,), generator=gen)
        config = TrainConfig(epochs=1, batch_size=4, seed=10 + i, holdout_fraction=0.0)
        jobs.append(TrainingJob("mlp", spec.build_kwargs(), state, x, y, config, "cpu"))
    return jobs


def test_unknown_engine_is_refused_with_the_known_names() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match=r"unknown engine 'spark'; known engines: local, ray"):
        open_engine("spark")


def test_zero_workers_is_refused() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match=r"engine workers must be >= 1, got 0"):
        open_engine("local", workers=0)


def test_local_engine_returns_train_local_results_in_job_order() -> None:
    # Prepare
    jobs = tiny_jobs()

    # Execute
    results = open_engine("local").train_all(jobs)

    # Assert
    assert [r.num_samples for r in results] == [12, 7]
    for job, result in zip(jobs, results, strict=True):
        expected = train_local(job.model, job.model_kwargs, job.base_state, job.x, job.y,
                               job.config, progress=False)  # fmt: skip
        for name, tensor in expected.delta.items():
            assert torch.equal(result.delta[name], tensor)


@pytest.mark.slow
def test_ray_engine_gives_bitwise_the_local_results() -> None:
    # Prepare
    pytest.importorskip(
        "ray", reason="the ray engine needs Ray: pip install -c constraints.txt ray==2.60.0"
    )
    from fedledger.engines import RayEngine

    jobs = tiny_jobs()
    local = LocalEngine().train_all(jobs)
    engine = RayEngine(workers=2)

    # Execute
    try:
        remote = engine.train_all(jobs)
    finally:
        engine.close()

    # Assert
    assert [r.num_samples for r in remote] == [12, 7]
    for a, b in zip(local, remote, strict=True):
        assert a.delta.keys() == b.delta.keys()
        assert all(torch.equal(a.delta[k], b.delta[k]) for k in a.delta)
