"""Models by name, and seeded initial weights every process derives identically.

A round-0 task spec names its architecture as (name, input shape, classes,
options); each participant, the aggregator and any auditor must build the same
module from it. `initial_state` draws the initial weights under a private, seeded
torch RNG so the same spec and seed give byte-identical tensors in any process,
without disturbing the caller's global random state.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ledger.errors import ConfigError
from node.models.cnn import SmallCNN
from node.models.mlp import MLP

MODELS: dict[str, type[nn.Module]] = {
    "cnn": SmallCNN,
    "mlp": MLP,
}


def _model_class(name: str) -> type[nn.Module]:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        ) from None


def model_options(name: str) -> tuple[str, ...]:
    """Architecture options the model accepts besides input_shape and num_classes."""
    parameters = inspect.signature(_model_class(name)).parameters
    return tuple(p for p in parameters if p not in ("input_shape", "num_classes"))


def build_model(
    name: str, input_shape: Sequence[int], num_classes: int, **options: Any
) -> nn.Module:
    """Build the model registered as `name` (weights from torch's global RNG).

    Parameters
    ----------
    name:
        A key of `MODELS`.
    input_shape:
        Shape of one sample.
    num_classes:
        Number of output logits.
    **options:
        Architecture options (see `model_options(name)`).
    """
    cls = _model_class(name)
    unknown = sorted(set(options) - set(model_options(name)))
    if unknown:
        raise ConfigError(
            f"model {name!r} has no option {', '.join(unknown)}; "
            f"its options: {', '.join(model_options(name))}"
        )
    return cls(tuple(int(d) for d in input_shape), int(num_classes), **options)


def build_model_from(name: str, model_kwargs: Mapping[str, Any]) -> nn.Module:
    """Build from one mapping holding `input_shape`, `num_classes` and any options.

    This is the `model_kwargs` form that training and evaluation take (see
    `ModelSpec.build_kwargs`).
    """
    missing = [key for key in ("input_shape", "num_classes") if key not in model_kwargs]
    if missing:
        raise ConfigError(
            f"model_kwargs for {name!r} lack {', '.join(missing)}; "
            "pass input_shape and num_classes with the architecture options"
        )
    return build_model(name, **dict(model_kwargs))


def initial_state(
    name: str, input_shape: Sequence[int], num_classes: int, seed: int, **options: Any
) -> dict[str, torch.Tensor]:
    """Seeded initial `state_dict` (CPU, floating tensors float32), identical across processes."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name, input_shape, num_classes, **options)
    return {
        key: (t.detach().to(torch.float32) if t.is_floating_point() else t.detach()).clone()
        for key, t in model.state_dict().items()
    }


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model: what a task spec publishes.

    `build_kwargs()` gives the keyword arguments of `build_model` (and the
    `model_kwargs` that training and evaluation take).
    """

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    options: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def create(
        cls, name: str, input_shape: Sequence[int], num_classes: int, **options: Any
    ) -> ModelSpec:
        """Validate and normalise a spec (options sorted by name, lists as tuples)."""
        spec = cls(
            name=name,
            input_shape=tuple(int(d) for d in input_shape),
            num_classes=int(num_classes),
            options=tuple(sorted((k, _freeze(v)) for k, v in options.items())),
        )
        spec.build()  # fail now, with the model's own message, if the spec cannot be built
        return spec

    def build_kwargs(self) -> dict[str, Any]:
        """`input_shape`, `num_classes` and the options, as `build_model` keywords."""
        return {
            "input_shape": self.input_shape,
            "num_classes": self.num_classes,
            **dict(self.options),
        }

    def build(self) -> nn.Module:
        """A fresh module (weights from torch's global RNG)."""
        return build_model(self.name, **self.build_kwargs())

    def initial_state(self, seed: int) -> dict[str, torch.Tensor]:
        """The seeded initial state for this spec."""
        return initial_state(self.name, seed=seed, **self.build_kwargs())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in self.options},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Inverse of `to_dict`; a malformed mapping is a `ConfigError`."""
        try:
            return cls.create(
                data["name"],
                data["input_shape"],
                data["num_classes"],
                **dict(data.get("options", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed model spec {dict(data)!r}: {exc}") from exc
