"""Model architectures by name, seeded initial weights and the parameter layout.

`build_model`/`initial_state` turn a published model spec into a module and its
round-0 weights; the layout helpers fix how a state becomes one flat float32 vector.
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
from node.models.param_layout import (
    ParamLayout,
    ParamSpec,
    StateDict,
    check_state,
    flatten_state,
    layout_size,
    parameter_layout,
    state_bytes,
    unflatten_state,
)

__all__ = [
    "MLP",
    "MODELS",
    "ModelSpec",
    "ParamLayout",
    "ParamSpec",
    "SmallCNN",
    "StateDict",
    "build_model",
    "build_model_from",
    "check_state",
    "flatten_state",
    "initial_state",
    "layout_size",
    "model_options",
    "parameter_layout",
    "state_bytes",
    "unflatten_state",
]
