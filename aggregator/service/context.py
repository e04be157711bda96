"""Everything one running service holds, built once and handed to the app factory.

The routes reach these through `request.app.state.context` (see `deps.py`); nothing
is a module-level singleton, so a test builds a context on the embedded chain and a
production start builds one on a JSON-RPC node, and the same routes serve both.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from aggregator.service.ledger_view import LedgerView
from aggregator.service.loop import RoundLoop
from aggregator.service.metrics import ServiceMetrics
from aggregator.service.settings import ServiceSettings
from ledger.contracts.deploy import Network
from ledger.store.base import ContentStore


@dataclass(frozen=True)
class ServiceContext:
    """The network, the store, the round loop and the read side of one aggregator service.

    `gate` serialises every use of the chain and store connections (the loop's steps,
    the routes' reads); `owns_connections` says whether `close` should close them.
    """

    settings: ServiceSettings
    network: Network
    store: ContentStore
    aggregator: str
    loop: RoundLoop
    view: LedgerView
    metrics: ServiceMetrics
    gate: threading.RLock
    owns_connections: bool = field(default=False)

    def close(self) -> None:
        """Stop the loop; close the chain and store when this context opened them."""
        self.loop.stop()
        if self.owns_connections:
            self.store.close()
            self.network.backend.close()
