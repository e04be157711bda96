"""The aggregator's HTTP face: `fedledger aggregator serve`.

One process runs the round loop (`RoundLoop`, a background thread driving the
`RoundOrchestrator`) and serves a read-only view of the network it aggregates:
rounds and their verified reports, participants, the leaderboard, the global
models, health, Prometheus metrics and a dashboard. Every artifact it serves is
re-checked against the hash on chain first, so the service can be pointed at an
untrusted store and still never show a forged report or model. Mutating actions
(pause, resume, open the next round now) need the operator's bearer token.

`create_app(context)` builds the FastAPI app from a `ServiceContext`;
`build_context(settings)` opens the chain, store and network a `ServiceSettings`
names.
"""

from __future__ import annotations

from aggregator.service.app import create_app
from aggregator.service.context import ServiceContext
from aggregator.service.loop import LoopState, RoundLoop
from aggregator.service.settings import ServiceSettings, load_settings

__all__ = [
    "LoopState",
    "RoundLoop",
    "ServiceContext",
    "ServiceSettings",
    "create_app",
    "load_settings",
]
