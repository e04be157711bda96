"""Small, deterministic inputs shared by the ledger.formats tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
import torch
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.formats.layout import ParameterLayout
from ledger.formats.task import TaskSpec, TrainingConfig

BASE_HASH = bytes.fromhex("ab" * 32)
TASK_HASH = bytes.fromhex("cd" * 32)
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337


def small_state() -> dict[str, torch.Tensor]:
    """A state dict with weights, a bias, a scalar and a non-floating buffer."""
    generator = torch.Generator().manual_seed(1234)
    return {
        "conv.weight": torch.randn(2, 1, 3, 3, generator=generator),
        "conv.bias": torch.randn(2, generator=generator),
        "bn.num_batches_tracked": torch.tensor(5, dtype=torch.long),
        "fc.weight": torch.randn(3, 4, generator=generator),
        "fc.scale": torch.tensor(0.5),
    }


@pytest.fixture
def state() -> dict[str, torch.Tensor]:
    return small_state()


@pytest.fixture
def layout() -> ParameterLayout:
    return ParameterLayout.from_state_dict(small_state())


@pytest.fixture
def delta() -> dict[str, torch.Tensor]:
    """Floating tensors only, small values (norm about 1)."""
    return {k: v * 0.1 for k, v in small_state().items() if v.is_floating_point()}


@pytest.fixture
def participant() -> LocalAccount:
    account: LocalAccount = Account.from_key(bytes.fromhex("01" * 32))
    return account


@pytest.fixture
def other_account() -> LocalAccount:
    account: LocalAccount = Account.from_key(bytes.fromhex("02" * 32))
    return account


def make_training() -> TrainingConfig:
    return TrainingConfig(epochs=1, batch_size=32, lr=Decimal("0.05"), momentum=Decimal("0.9"),
                          proximal_mu=Decimal(0), seed_policy="participant_round", seed=7)


def make_spec(**overrides: object) -> TaskSpec:
    fields: dict[str, object] = {
        "task_id": "digits-cnn-v1", "name": "Digits CNN", "dataset": "digits", "model": "cnn",
        "model_kwargs": {"channels": [8, 16], "dropout": "0.25"},
        "layout": ParameterLayout.from_state_dict(small_state()), "initial_model_hash": BASE_HASH,
        "aggregation_rule": "multikrum", "aggregation_params": {"f": 1, "m": 3},
        "fixed_point_bits": 24, "update_norm_bound": Decimal(10), "training": make_training(),
        "rounds": 20, "reward_per_round": 10**21, "commit_seconds": 120, "reveal_seconds": 60,
        "score_method": "leave_one_out", "software_version": "0.1.0",
    }
    fields.update(overrides)
    return TaskSpec(**fields)  # type: ignore[arg-type]
