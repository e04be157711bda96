"""Model architectures by name, seeded initial weights and the parameter layout.

`build_model`/`initial_state` turn a published model spec into a module and its
round-0 weights. How a state becomes one flat float32 vector is the task's
`ledger.formats.layout.ParameterLayout` (shared with the aggregator and auditor).
"""

from __future__ import annotations

from node.models.cnn import SmallCNN
from node.models.factory import (
    MODELS,
    ModelSpec,
    build_model,
    build_model_from,
    initial_state,
    model_options,
)
from node.models.mlp import MLP

__all__ = [
    "MLP",
    "MODELS",
    "ModelSpec",
    "SmallCNN",
    "build_model",
    "build_model_from",
    "initial_state",
    "model_options",
]
