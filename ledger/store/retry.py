"""Bounded exponential backoff for a content store whose daemon may go away for a while.

An IPFS daemon is a separate process: operators restart it for upgrades, it is OOM-killed, its
host reboots. An aggregator fetching a thousand updates, or a node publishing its own, should
ride out such a gap instead of failing the round, but must not hang forever: it retries only
when the daemon cannot be reached at all (`StoreUnavailable`), waits longer after each failure
up to a cap, says what it is doing before every wait, and after the last attempt raises a
`StoreUnavailable` that names the daemon, how long it tried and what to do. Content that is
missing, corrupt or refused is never retried: a daemon that answers has given its answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ledger.errors import ConfigError
from ledger.store.errors import StoreUnavailable

T = TypeVar("T")

LOGGER = logging.getLogger("fedledger.store")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry an unreachable store.

    Attributes
    ----------
    attempts
        Tries in all, the first included; 1 disables retrying.
    initial_delay
        Seconds to wait after the first failure.
    multiplier
        Each further wait is this many times the previous one...
    max_delay
        ...but never longer than this many seconds.
    """

    attempts: int = 6
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ConfigError(f"retry attempts must be an integer, got {self.attempts!r}")
        if self.attempts < 1:
            raise ConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        if not self.initial_delay >= 0:  # also refuses NaN
            raise ConfigError(f"retry initial_delay must be >= 0 s, got {self.initial_delay}")
        if not self.multiplier >= 1:
            raise ConfigError(f"retry multiplier must be >= 1, got {self.multiplier}")
        if not self.max_delay >= self.initial_delay:
            raise ConfigError(
                f"retry max_delay ({self.max_delay} s) must be >= initial_delay "
                f"({self.initial_delay} s)"
            )

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th consecutive failure (1-based)."""
        if failures < 1:
            raise ValueError(f"failures counts from 1, got {failures}")
        return float(min(self.initial_delay * self.multiplier ** (failures - 1), self.max_delay))

    def delays(self) -> tuple[float, ...]:
        """Every wait a fully failing call goes through, in order (`attempts - 1` of them)."""
        return tuple(self.delay(n) for n in range(1, self.attempts))

    @property
    def budget(self) -> float:
        """The longest time a call spends waiting before giving up."""
        return sum(self.delays())


NO_RETRY = RetryPolicy(attempts=1, initial_delay=0.0, max_delay=0.0)
"""Fail at the first unreachable answer (tests of error paths, interactive one-off commands)."""


@dataclass(frozen=True, slots=True)
class RetryStatus:
    """What a store reports before each wait: which call, which attempt, why, how long."""

    store: str
    action: str
    attempt: int
    attempts: int
    delay: float
    error: str

    def message(self) -> str:
        """One line for an operator's log."""
        return (
            f"{self.store} is unreachable while {self.action} (attempt {self.attempt} of "
            f"{self.attempts} failed: {self.error}); retrying in {self.delay:g} s"
        )


RetryListener = Callable[[RetryStatus], None]


def log_retry(status: RetryStatus) -> None:
    """The default listener: a warning on the `fedledger.store` logger."""
    LOGGER.warning(status.message())


def call_with_retry(
    action: str,
    operation: Callable[[], T],
    policy: RetryPolicy,
    *,
    store: str,
    on_retry: RetryListener = log_retry,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, retrying it after `StoreUnavailable` as `policy` says.

    `operation` must be safe to repeat from scratch (every read is; adds are content-addressed,
    so adding the same bytes twice stores them once). Other errors pass through at once.

    Raises
    ------
    StoreUnavailable
        The store stayed unreachable for every attempt; chained to the last failure.
    """
    waited = 0.0
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except StoreUnavailable as exc:
            if attempt == policy.attempts:
                tried = (
                    f"after {attempt} attempts over {waited:g} s"
                    if attempt > 1
                    else "(retrying is off)"
                )
                raise StoreUnavailable(
                    f"{store} stayed unreachable while {action} {tried}; last error: {exc}. "
                    "Check that the daemon is running (restart it: `ipfs daemon`, or `python -m "
                    "ledger.store.jsipfs`) and run the step again: nothing was lost"
                ) from exc
            delay = policy.delay(attempt)
            on_retry(RetryStatus(store, action, attempt, policy.attempts, delay, str(exc)))
            sleep(delay)
            waited += delay
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
