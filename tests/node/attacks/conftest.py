"""Small hand-made deltas with a two-tensor layout, for exact attack arithmetic."""

from __future__ import annotations

import pytest
import torch

Delta = dict[str, torch.Tensor]


def make_delta(w: list[float], b: float) -> Delta:
    return {"w": torch.tensor(w, dtype=torch.float32).reshape(2, 2), "b": torch.tensor([b])}


@pytest.fixture
def own_delta() -> Delta:
    return make_delta([1.0, -2.0, 0.5, 0.0], 3.0)


@pytest.fixture
def benign_deltas() -> tuple[Delta, ...]:
    return (
        make_delta([1.0, 2.0, 3.0, 4.0], 1.0),
        make_delta([3.0, 2.0, 1.0, 0.0], 3.0),
        make_delta([2.0, 2.0, 2.0, 2.0], 2.0),
    )
