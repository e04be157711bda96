"""TrainConfig: defaults, validation of every field and the canonical dict form."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import ConfigError
from node.training.train_config import TrainConfig


def test_defaults_and_dict_round_trip() -> None:
    # Prepare
    config = TrainConfig(epochs=2, prox_mu=0.01)

    # Execute
    data = config.to_dict()

    # Assert
    assert data == {
        "epochs": 2,
        "batch_size": 32,
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "prox_mu": 0.01,
        "seed": 0,
        "holdout_fraction": 0.1,
    }
    assert TrainConfig.from_dict(data) == config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "TrainConfig.epochs must be >= 1, got 0"),
        ({"batch_size": 0}, "TrainConfig.batch_size must be >= 1, got 0"),
        ({"lr": 0.0}, "TrainConfig.lr must be > 0, got 0.0"),
        ({"lr": float("nan")}, "TrainConfig.lr must be a finite number, got nan"),
        ({"momentum": 1.0}, r"TrainConfig.momentum must be in \[0, 1\), got 1.0"),
        ({"weight_decay": -1e-4}, "TrainConfig.weight_decay must be >= 0"),
        ({"prox_mu": -0.1}, "TrainConfig.prox_mu must be >= 0"),
        ({"seed": -1}, "TrainConfig.seed must be >= 0"),
        ({"holdout_fraction": 1.0}, r"TrainConfig.holdout_fraction must be in \[0, 1\)"),
        ({"epochs": 1.5}, "TrainConfig.epochs must be an integer, got 1.5"),
        ({"epochs": True}, "TrainConfig.epochs must be an integer, got True"),
        ({"lr": "0.1"}, "TrainConfig.lr must be a finite number, got '0.1'"),
    ],
)
def test_invalid_values_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_from_dict_rejects_unknown_field() -> None:
    with pytest.raises(ConfigError, match="TrainConfig has no field epoch"):
        TrainConfig.from_dict({"epoch": 3})
