"""Device resolution: auto picks CUDA only when present; asking for absent CUDA fails."""

from __future__ import annotations

import pytest
import torch

from ledger.errors import ConfigError
from node.training.device import resolve_device
from node.training.errors import DeviceUnavailableError


def test_auto_and_cpu_resolve_to_cpu_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("CPU") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_auto_prefers_cuda_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)

    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)


def test_cuda_without_cuda_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    # Execute / Assert
    with pytest.raises(DeviceUnavailableError) as info:
        resolve_device("cuda")
    assert str(info.value) == (
        f"device 'cuda' requested but CUDA is not available (torch {torch.__version__}); "
        "use --device cpu or auto"
    )
    assert isinstance(info.value, ConfigError)


def test_cuda_index_beyond_device_count_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)

    with pytest.raises(DeviceUnavailableError, match=r"'cuda:1' requested but this machine has 1"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "gpu", ""])
def test_unknown_device_strings_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device(spec)
