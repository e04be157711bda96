"""Attacks on updates and data: EVALUATION TOOLS ONLY, off by default.

They let tests and simulations show how robust aggregation, scoring, commit-reveal
and slashing respond to the misbehaviours described in the literature (each
module cites its paper). An honest node uses `AttackConfig()`, which does nothing.
ALIE, IPM and copying free-riders need the round's benign deltas: a simulation
passes them explicitly in `AttackContext`.
"""

from __future__ import annotations

from node.attacks.alie import ALittleIsEnough, alie_z
from node.attacks.attack_base import AttackContext, DataAttack, Delta, UpdateAttack
from node.attacks.free_rider import FreeRider
from node.attacks.gaussian_noise import GaussianNoise
from node.attacks.ipm import InnerProductManipulation
from node.attacks.label_flip import LabelFlip, derangement
from node.attacks.registry import ATTACKS, Attack, AttackConfig, attack_parameters
from node.attacks.scaled_update import ScaledUpdate
from node.attacks.sign_flip import SignFlip

__all__ = [
    "ATTACKS",
    "ALittleIsEnough",
    "Attack",
    "AttackConfig",
    "AttackContext",
    "DataAttack",
    "Delta",
    "FreeRider",
    "GaussianNoise",
    "InnerProductManipulation",
    "LabelFlip",
    "ScaledUpdate",
    "SignFlip",
    "UpdateAttack",
    "alie_z",
    "attack_parameters",
    "derangement",
]
