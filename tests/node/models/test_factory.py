"""Model registry and seeded initial state, including identity across processes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import torch

from ledger.errors import ConfigError
from ledger.formats.layout import ParameterLayout
from node.models.factory import MODELS, ModelSpec, build_model, initial_state, model_options


def _flat(state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The state as one float32 vector in layout order (the task's `ParameterLayout`)."""
    return ParameterLayout.from_state_dict(state).flatten(state)


def state_bytes(state: Mapping[str, torch.Tensor]) -> bytes:
    """The state's float32 bytes in layout order."""
    return _flat(state).numpy().tobytes()


REPO_ROOT = Path(__file__).resolve().parents[3]


def test_registry_and_options() -> None:
    assert sorted(MODELS) == ["cnn", "mlp"]
    assert model_options("cnn") == ("channels", "hidden", "dropout")
    assert model_options("mlp") == ("hidden", "dropout")


def test_build_model_rejects_unknown_model_and_option() -> None:
    with pytest.raises(ConfigError) as unknown:
        build_model("resnet", (1, 8, 8), 10)
    with pytest.raises(ConfigError) as option:
        build_model("mlp", (1, 8, 8), 10, width=3)

    assert str(unknown.value) == "unknown model 'resnet'; known models: cnn, mlp"
    assert str(option.value) == "model 'mlp' has no option width; its options: hidden, dropout"


def test_initial_state_is_seeded_and_leaves_global_rng_alone() -> None:
    # Prepare
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)

    # Execute
    first = initial_state("cnn", (1, 8, 8), 10, seed=5)
    after = torch.rand(1)
    again = initial_state("cnn", (1, 8, 8), 10, seed=5)
    other = initial_state("cnn", (1, 8, 8), 10, seed=6)

    # Assert
    assert torch.equal(after, expected_next)
    assert state_bytes(first) == state_bytes(again)
    assert state_bytes(first) != state_bytes(other)
    assert all(t.dtype == torch.float32 and t.device.type == "cpu" for t in first.values())
    assert list(first) == list(build_model("cnn", (1, 8, 8), 10).state_dict())


def test_initial_state_is_identical_in_another_process() -> None:
    # Prepare
    digest = hashlib.sha256(state_bytes(initial_state("cnn", (1, 8, 8), 10, seed=42))).hexdigest()
    script = (
        "import hashlib;"
        "from ledger.formats.layout import ParameterLayout;"
        "from node.models import initial_state;"
        "s = initial_state('cnn', (1, 8, 8), 10, seed=42);"
        "print(hashlib.sha256(ParameterLayout.from_state_dict(s).flatten(s).numpy().tobytes()).hexdigest())"
    )

    # Execute
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    # Assert
    assert result.stdout.strip() == digest


def test_model_spec_round_trips_and_builds() -> None:
    # Prepare
    spec = ModelSpec.create("mlp", [1, 8, 8], 10, hidden=[32, 16])

    # Execute
    restored = ModelSpec.from_dict(spec.to_dict())

    # Assert
    assert restored == spec
    assert spec.to_dict() == {
        "name": "mlp",
        "input_shape": [1, 8, 8],
        "num_classes": 10,
        "options": {"hidden": [32, 16]},
    }
    assert spec.build_kwargs() == {"input_shape": (1, 8, 8), "num_classes": 10, "hidden": (32, 16)}
    assert state_bytes(spec.initial_state(3)) == state_bytes(
        initial_state("mlp", (1, 8, 8), 10, seed=3, hidden=(32, 16))
    )


def test_model_spec_rejects_malformed_mapping() -> None:
    with pytest.raises(ConfigError, match="malformed model spec"):
        ModelSpec.from_dict({"name": "cnn", "input_shape": [1, 8, 8]})
    with pytest.raises(ConfigError, match="needs input_shape"):
        ModelSpec.create("cnn", (64,), 10)
