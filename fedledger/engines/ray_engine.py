"""Training as Ray tasks: participants spread over processes and machines.

Ray (https://docs.ray.io) is an existing scheduler; the engine only submits each
`TrainingJob` as a task reserving one CPU, with one torch thread per task so two
workers do not fight over a core. With `address=None` it starts a local Ray runtime
of `workers` CPUs (no dashboard) and stops it on `close`; with an address it joins a
running cluster (``ray start --head`` on one machine, ``ray start --address`` on the
others) and leaves it running.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ledger.errors import ConfigError
from node.participant import TrainingJob
from node.training.local import LocalResult


def _warm(seconds: float) -> int:
    import os
    import time

    import node.participant  # noqa: F401 - the import is the warm-up

    time.sleep(seconds)  # keep this worker busy so the next warm-up lands on another
    return os.getpid()


def _run_job(job: TrainingJob) -> LocalResult:
    import torch

    torch.set_num_threads(1)
    return job.run()


class RayEngine:
    """Runs each job as a Ray task (1 CPU each); results come back in the jobs' order."""

    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "the ray engine needs Ray: pip install -c constraints.txt ray==2.60.0"
            ) from None
        if workers < 1:
            raise ConfigError(f"ray engine workers must be >= 1, got {workers}")
        self._ray: Any = ray
        self.workers = workers
        self._owns_runtime = not ray.is_initialized() and address is None
        if self._owns_runtime:
            # Ray starts its workers at niceness 15 to keep its own daemons responsive;
            # training is the work here, so run it at the driver's priority.
            os.environ.setdefault("RAY_worker_niceness", "0")
        if not ray.is_initialized():
            ray.init(
                address=address,
                num_cpus=None if address else workers,
                include_dashboard=False,
                configure_logging=False,
                log_to_driver=False,
            )
        self._task = ray.remote(num_cpus=1)(_run_job)

    def warm_up(self) -> int:
        """Start every worker and import the training stack there; returns the workers seen.

        A worker's first task pays for importing torch and the node package (seconds);
        a benchmark calls this first so that it times training, not imports.
        """
        warm = self._ray.remote(num_cpus=1)(_warm)
        pids: list[int] = self._ray.get([warm.remote(1.0) for _ in range(self.workers)])
        return len(set(pids))

    def train_all(self, jobs: Sequence[TrainingJob]) -> list[LocalResult]:
        refs = [self._task.remote(job) for job in jobs]
        results: list[LocalResult] = self._ray.get(refs)
        return results

    def close(self) -> None:
        if self._owns_runtime and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns_runtime = False
