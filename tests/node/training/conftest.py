"""Shared fixtures for training tests: one torch thread, a small digits problem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from node.data.dataset import Dataset
from node.data.digits import load_digits
from node.models.factory import ModelSpec


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Two shared cores: one intra-op thread avoids oversubscription stalls."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_digits()


@pytest.fixture(scope="session")
def cnn_spec(digits: Dataset) -> ModelSpec:
    return ModelSpec.create("cnn", digits.input_shape, digits.num_classes)


@pytest.fixture
def cnn_kwargs(cnn_spec: ModelSpec) -> dict[str, Any]:
    return cnn_spec.build_kwargs()
