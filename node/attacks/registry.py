"""The attack registry and the one record that switches an attack on.

EVALUATION TOOLS ONLY. `AttackConfig()` is the honest default; a simulation or
a test names an attack from `ATTACKS` with its parameters, plus the independent
`no_reveal` behaviour (commit in a round, then never reveal: the slashable case).
The config is frozen and validated up front so a misspelt attack never degrades
silently into honest behaviour.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ledger.errors import ConfigError
from node.attacks.alie import ALittleIsEnough
from node.attacks.attack_base import AttackContext, DataAttack, Delta, UpdateAttack
from node.attacks.free_rider import FreeRider
from node.attacks.gaussian_noise import GaussianNoise
from node.attacks.ipm import InnerProductManipulation
from node.attacks.label_flip import LabelFlip
from node.attacks.scaled_update import ScaledUpdate
from node.attacks.sign_flip import SignFlip

Attack = UpdateAttack | DataAttack

ATTACKS: dict[str, type[UpdateAttack | DataAttack]] = {
    cls.name: cls
    for cls in (
        SignFlip,
        ScaledUpdate,
        GaussianNoise,
        ALittleIsEnough,
        InnerProductManipulation,
        FreeRider,
        LabelFlip,
    )
}


def attack_parameters(name: str) -> tuple[str, ...]:
    """Parameter names the attack `name` accepts."""
    return tuple(field.name for field in dataclasses.fields(_attack_class(name)))  # type: ignore[arg-type]


def _attack_class(name: str) -> type[UpdateAttack | DataAttack]:
    try:
        return ATTACKS[name]
    except KeyError:
        raise ConfigError(
            f"unknown attack {name!r}; known attacks: {', '.join(sorted(ATTACKS))}"
        ) from None


@dataclass(frozen=True)
class AttackConfig:
    """Which misbehaviour a simulated participant shows. The default is honest.

    Attributes
    ----------
    name:
        A key of `ATTACKS`, or None for no attack on data or update.
    params:
        The attack's parameters as sorted ``(name, value)`` pairs (use `create`).
    no_reveal:
        Commit to an update, then withhold the reveal.
    """

    name: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    no_reveal: bool = False

    def __post_init__(self) -> None:
        if self.name is None:
            if self.params:
                raise ConfigError("attack parameters given without an attack name")
            return
        self.build()  # validates the name and parameters now

    @classmethod
    def create(
        cls, name: str | None = None, no_reveal: bool = False, **params: Any
    ) -> AttackConfig:
        """`AttackConfig.create("scale", factor=5.0)`."""
        return cls(name=name, params=tuple(sorted(params.items())), no_reveal=no_reveal)

    @property
    def is_honest(self) -> bool:
        """True when no attack and no withheld reveal are configured."""
        return self.name is None and not self.no_reveal

    def build(self) -> Attack | None:
        """The attack object, or None when no attack is named."""
        if self.name is None:
            return None
        cls = _attack_class(self.name)
        allowed = attack_parameters(self.name)
        unknown = sorted(set(dict(self.params)) - set(allowed))
        if unknown:
            raise ConfigError(
                f"attack {self.name!r} has no parameter {', '.join(unknown)}; "
                f"its parameters: {', '.join(allowed) or 'none'}"
            )
        return cls(**dict(self.params))

    def poison_data(
        self, x: torch.Tensor, y: torch.Tensor, num_classes: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply a data attack if one is configured; otherwise return the data unchanged."""
        attack = self.build()
        return attack.poison(x, y, num_classes) if isinstance(attack, DataAttack) else (x, y)

    def tamper_update(self, delta: Delta, context: AttackContext) -> Delta:
        """Apply an update attack if one is configured; otherwise return `delta` unchanged."""
        attack = self.build()
        return attack.apply(delta, context) if isinstance(attack, UpdateAttack) else delta

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary form (for logs and simulation manifests)."""
        return {"name": self.name, "params": dict(self.params), "no_reveal": self.no_reveal}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttackConfig:
        """Inverse of `to_dict`."""
        unknown = sorted(set(data) - {"name", "params", "no_reveal"})
        if unknown:
            raise ConfigError(f"AttackConfig has no field {', '.join(unknown)}")
        return cls.create(
            data.get("name"), bool(data.get("no_reveal", False)), **dict(data.get("params", {}))
        )
