"""Round 0 of a tamper-test network, built once per worker on the embedded chain.

`history` gives each test that round at the end of its reveal window (chain reverted after
the test), for `LyingAggregator` to finalize honestly or with a lie.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.chain.base import TestChainBackend
from ledger.store.disk import DiskStore
from tests.ledger.audit.lying_aggregator import History, build_history


@pytest.fixture(scope="package")
def _built(embedded_chain: TestChainBackend,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, list[int]]]:
    before = embedded_chain.snapshot()
    store = DiskStore(tmp_path_factory.mktemp("audit-store"))
    history = build_history(embedded_chain, store)
    yield history, [embedded_chain.snapshot()]
    embedded_chain.revert(before)


@pytest.fixture
def history(_built: tuple[History, list[int]]) -> Iterator[History]:
    """Round 0 after its reveal window, isolated per test by a chain snapshot."""
    h, holder = _built
    yield h
    h.backend.revert(holder[0])
    holder[0] = h.backend.snapshot()
