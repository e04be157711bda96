"""Hands out transaction nonces so many accounts (and threads) can send at once.

Asking the node for `eth_getTransactionCount` before every transaction is slow and races when
two threads send from one account. The manager fetches an account's nonce once, then counts
locally; each reservation holds that account's lock until the signed transaction is handed to
the node, so one account's transactions reach the node in nonce order while different accounts
proceed in parallel. Any failure inside a reservation forgets the account's count, so the next
reservation asks the node again instead of repeating a wrong guess.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class NonceManager:
    """Per-account nonce counters backed by a `fetch(address) -> pending nonce` function."""

    def __init__(self, fetch: Callable[[str], int]) -> None:
        self._fetch = fetch
        self._next: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, address: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(address)
            if lock is None:
                lock = self._locks[address] = threading.Lock()
            return lock

    @contextmanager
    def reserve(self, address: str) -> Iterator[int]:
        """Yield the next nonce of `address`; it is used up only if the block exits cleanly."""
        with self._lock_for(address):
            nonce = self._next.get(address)
            if nonce is None:
                nonce = self._fetch(address)
            try:
                yield nonce
            except BaseException:
                self._next.pop(address, None)
                raise
            self._next[address] = nonce + 1

    def forget(self, address: str | None = None) -> None:
        """Drop the count of `address` (or of every account, after a chain revert)."""
        with self._guard:
            if address is None:
                self._next.clear()
            else:
                self._next.pop(address, None)
