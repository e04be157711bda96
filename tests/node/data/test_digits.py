"""The offline default dataset: scaling, shape and a split fixed by its seed."""

from __future__ import annotations

import torch

from node.data.digits import load_digits


def test_load_digits_scales_to_unit_range_with_fixed_split() -> None:
    # Execute
    first = load_digits()
    again = load_digits()
    other = load_digits(seed=1)

    # Assert
    assert first.input_shape == (1, 8, 8)
    assert first.num_train + first.num_test == 1797
    assert first.num_test == 359
    assert float(first.x_train.min()) == 0.0 and float(first.x_train.max()) == 1.0
    assert torch.equal(first.x_test, again.x_test)
    assert torch.equal(first.y_train, again.y_train)
    assert not torch.equal(first.y_test, other.y_test)
    assert torch.bincount(first.y_test).min() >= 35  # stratified: every class in the test set
