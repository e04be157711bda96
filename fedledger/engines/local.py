"""Training in the driver process, one participant after another (the default)."""

from __future__ import annotations

from collections.abc import Sequence

from node.participant import TrainingJob
from node.training.local import LocalResult


class LocalEngine:
    """Runs every job in this process, in order."""

    name = "local"

    def train_all(self, jobs: Sequence[TrainingJob]) -> list[LocalResult]:
        return [job.run() for job in jobs]

    def close(self) -> None:
        return None
