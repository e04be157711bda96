"""Shared inputs for the rule tests: honest batches and Flower adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from aggregator.fixedpoint import FixedPointGrid


@pytest.fixture
def grid() -> FixedPointGrid:
    return FixedPointGrid()


@pytest.fixture(params=["1", "0"], ids=["native", "portable"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the compiled kernels and again with the portable torch code."""
    from aggregator.rules import native

    if request.param == "1":
        monkeypatch.setenv("FEDLEDGER_NATIVE", "auto")
        if not native.available():
            pytest.skip(f"compiled kernels {native.status()}")
    monkeypatch.setenv("FEDLEDGER_NATIVE", request.param)
    return str(request.param)


@pytest.fixture
def flower_new() -> Iterator[Callable[[object, np.ndarray, list[int]], np.ndarray]]:
    """Run a newer-API Flower strategy's ``aggregate_train`` on rows of a matrix."""
    pytest.importorskip("flwr", reason="flwr is not installed (pip install flwr==1.41.0)")
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.supercore.task_identity import TaskIdentity

    saved = (TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id)
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1

    def run(strategy: object, rows: np.ndarray, samples: list[int]) -> np.ndarray:
        replies = [
            Message(
                content=RecordDict(
                    {
                        "arrays": ArrayRecord([np.array(rows[i])]),
                        "metrics": MetricRecord({"num-examples": samples[i]}),
                    }
                ),
                dst_node_id=0,
                message_type="train",
            )
            for i in range(rows.shape[0])
        ]
        arrays, _ = strategy.aggregate_train(1, replies)  # type: ignore[attr-defined]
        return np.asarray(arrays.to_numpy_ndarrays()[0])

    yield run
    TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id = saved
