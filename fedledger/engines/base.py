"""The training-engine interface and the factory that picks one by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger.errors import ConfigError
from node.participant import TrainingJob
from node.training.local import LocalResult

ENGINES = ("local", "ray")


class TrainingEngine(Protocol):
    """Runs a round's training jobs and returns their results in the jobs' order."""

    name: str

    def train_all(self, jobs: Sequence[TrainingJob]) -> list[LocalResult]:
        """Train every job; results in the order of `jobs`."""

    def close(self) -> None:
        """Release workers (idempotent)."""


def open_engine(name: str, workers: int = 1, address: str | None = None) -> TrainingEngine:
    """The engine called `name` ("local" or "ray") with `workers` parallel trainers.

    Raises
    ------
    ConfigError
        Unknown name, workers < 1, or Ray asked for but not installed.
    """
    if workers < 1:
        raise ConfigError(f"engine workers must be >= 1, got {workers}")
    if name == "local":
        from fedledger.engines.local import LocalEngine

        return LocalEngine()
    if name == "ray":
        from fedledger.engines.ray_engine import RayEngine

        return RayEngine(workers=workers, address=address)
    raise ConfigError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
