"""Choosing the training device: CUDA when the machine has it, CPU otherwise, never a guess.

A participant with a GPU should use it without configuration ("auto"), but asking
for CUDA on a machine without one must fail loudly rather than train on the CPU
behind the user's back.
"""

from __future__ import annotations

import re

import torch

from ledger.errors import ConfigError
from node.training.errors import DeviceUnavailableError

_CUDA_INDEX = re.compile(r"^cuda:(\d+)$")


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` (or a `torch.device`) into a device.

    Raises
    ------
    DeviceUnavailableError
        CUDA (or GPU number N) was requested but this machine has none.
    ConfigError
        The string names no supported device.
    """
    text = str(spec).strip().lower()
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    match = _CUDA_INDEX.match(text)
    if text == "cuda" or match:
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {text!r} requested but CUDA is not available "
                f"(torch {torch.__version__}); use --device cpu or auto"
            )
        if match:
            index, count = int(match.group(1)), torch.cuda.device_count()
            if index >= count:
                raise DeviceUnavailableError(
                    f"device {text!r} requested but this machine has {count} CUDA device(s)"
                )
        return torch.device(text)
    raise ConfigError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:N")
