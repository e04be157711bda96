"""Where a simulation runs its participants' local training.

The chain, the store and every signature stay in the driver process; only
`TrainingJob.run` (pure `train_local` on plain data) moves. `LocalEngine` runs the
jobs one after another in process; `RayEngine` runs them as Ray tasks, spread over
the processes (and machines) of a Ray cluster. Results are identical either way:
training is seeded and deterministic on CPU, and the driver consumes the results in
participant order.
"""

from __future__ import annotations

from fedledger.engines.base import ENGINES, TrainingEngine, open_engine
from fedledger.engines.local import LocalEngine
from fedledger.engines.ray_engine import RayEngine

__all__ = ["ENGINES", "LocalEngine", "RayEngine", "TrainingEngine", "open_engine"]
