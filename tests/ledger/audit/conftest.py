"""Round 0 of a tamper-test network, built once per worker on its own embedded chain.

The package keeps a chain of its own rather than the session-wide one: the tests revert it
to snapshots all the time, and under xdist's file scheduling other packages' modules that
snapshot and revert the shared chain can run in between on the same worker (CI once saw an
audit here read no events at all).

`history` gives each test that round at the end of its reveal window (chain reverted after
the test), for `LyingAggregator` to finalize honestly or with a lie.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.chain.embedded import EmbeddedChain
from ledger.store.disk import DiskStore
from tests.conftest import EMBEDDED_ACCOUNTS
from tests.ledger.audit.lying_aggregator import History, build_history


@pytest.fixture(scope="package")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, list[int]]]:
    chain = EmbeddedChain(accounts=EMBEDDED_ACCOUNTS)
    store = DiskStore(tmp_path_factory.mktemp("audit-store"))
    history = build_history(chain, store)
    yield history, [chain.snapshot()]
    chain.close()


@pytest.fixture
def history(_built: tuple[History, list[int]]) -> Iterator[History]:
    """Round 0 after its reveal window, isolated per test by a chain snapshot."""
    h, holder = _built
    yield h
    h.backend.revert(holder[0])
    holder[0] = h.backend.snapshot()
