"""Local training: FedAvg/FedProx client steps, evaluation and device choice.

`train_local` is what a participant runs each round; `evaluate` is shared with the
aggregator's validation; `resolve_device` turns a `--device` flag into a device.
"""

from __future__ import annotations

from node.training.determinism import deterministic_scope
from node.training.device import resolve_device
from node.training.errors import DeviceUnavailableError, TrainingDivergedError
from node.training.evaluation import Evaluation, check_samples, evaluate, evaluate_module
from node.training.local import LocalMetrics, LocalResult, split_holdout, train_local
from node.training.train_config import TrainConfig

__all__ = [
    "DeviceUnavailableError",
    "Evaluation",
    "LocalMetrics",
    "LocalResult",
    "TrainConfig",
    "TrainingDivergedError",
    "check_samples",
    "deterministic_scope",
    "evaluate",
    "evaluate_module",
    "resolve_device",
    "split_holdout",
    "train_local",
]
