"""RetryPolicy and call_with_retry: bounded exponential backoff, reported waits, a clear end.

No real time passes: a fake `sleep` records each wait.
"""

from __future__ import annotations

import logging

import pytest

from ledger.errors import ConfigError
from ledger.store.errors import ContentNotFound, IntegrityError, StoreUnavailable
from ledger.store.retry import NO_RETRY, RetryPolicy, RetryStatus, call_with_retry

STORE = "the IPFS daemon at http://127.0.0.1:5001"


class Flaky:
    """An operation that fails `failures` times with `error`, then returns `value`."""

    def __init__(self, failures: int, value: str = "content",
                 error: Exception | None = None) -> None:
        self.failures = failures
        self.value = value
        self.error = error or StoreUnavailable("connection refused")
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.value


def test_delays_double_up_to_the_cap() -> None:
    # Prepare
    policy = RetryPolicy(attempts=7, initial_delay=0.5, multiplier=2.0, max_delay=4.0)

    # Execute / Assert
    assert policy.delays() == (0.5, 1.0, 2.0, 4.0, 4.0, 4.0)
    assert policy.budget == 15.5


def test_defaults_give_up_after_six_attempts_and_15_5_seconds() -> None:
    # Execute / Assert
    assert RetryPolicy().delays() == (0.5, 1.0, 2.0, 4.0, 8.0)
    assert RetryPolicy().budget == 15.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "retry attempts must be at least 1, got 0"),
        ({"attempts": 2.5}, "retry attempts must be an integer, got 2.5"),
        ({"attempts": True}, "retry attempts must be an integer, got True"),
        ({"initial_delay": -1.0}, "retry initial_delay must be >= 0 s, got -1.0"),
        ({"initial_delay": float("nan")}, "retry initial_delay must be >= 0 s, got nan"),
        ({"multiplier": 0.5}, "retry multiplier must be >= 1, got 0.5"),
        ({"initial_delay": 2.0, "max_delay": 1.0},
         "retry max_delay (1.0 s) must be >= initial_delay (2.0 s)"),
    ],
)
def test_invalid_policies_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError) as caught:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_recovers_after_failures_reporting_each_wait() -> None:
    # Prepare
    operation = Flaky(failures=2)
    statuses: list[RetryStatus] = []
    slept: list[float] = []

    # Execute
    value = call_with_retry("fetching bafy", operation, RetryPolicy(initial_delay=0.25),
                            store=STORE, on_retry=statuses.append, sleep=slept.append)

    # Assert
    assert value == "content"
    assert operation.calls == 3
    assert slept == [0.25, 0.5]
    assert [(s.attempt, s.attempts, s.delay) for s in statuses] == [(1, 6, 0.25), (2, 6, 0.5)]
    assert statuses[0].message() == (
        "the IPFS daemon at http://127.0.0.1:5001 is unreachable while fetching bafy "
        "(attempt 1 of 6 failed: connection refused); retrying in 0.25 s"
    )


def test_gives_up_with_a_store_unavailable_naming_store_time_and_remedy() -> None:
    # Prepare
    operation = Flaky(failures=100)
    slept: list[float] = []
    policy = RetryPolicy(attempts=4, initial_delay=1.0, multiplier=3.0, max_delay=5.0)

    # Execute
    with pytest.raises(StoreUnavailable) as caught:
        call_with_retry("fetching bafy", operation, policy, store=STORE,
                        on_retry=lambda status: None, sleep=slept.append)

    # Assert
    assert operation.calls == 4
    assert slept == [1.0, 3.0, 5.0]
    assert str(caught.value) == (
        "the IPFS daemon at http://127.0.0.1:5001 stayed unreachable while fetching bafy "
        "after 4 attempts over 9 s; last error: connection refused. Check that the daemon is "
        "running (restart it: `ipfs daemon`, or `python -m ledger.store.jsipfs`) and run the "
        "step again: nothing was lost"
    )
    assert caught.value.__cause__ is operation.error


def test_no_retry_fails_at_once() -> None:
    # Prepare
    operation = Flaky(failures=1)
    slept: list[float] = []

    # Execute
    with pytest.raises(StoreUnavailable, match=r"while adding \(retrying is off\)"):
        call_with_retry("adding", operation, NO_RETRY, store=STORE, sleep=slept.append)

    # Assert
    assert operation.calls == 1 and slept == []


@pytest.mark.parametrize(
    "error",
    [ContentNotFound("bafy is not in the daemon"), IntegrityError("block does not match")],
)
def test_answers_from_a_reachable_store_are_not_retried(error: Exception) -> None:
    # Prepare
    operation = Flaky(failures=1, error=error)
    slept: list[float] = []

    # Execute
    with pytest.raises(type(error)) as caught:
        call_with_retry("fetching bafy", operation, RetryPolicy(), store=STORE,
                        sleep=slept.append)

    # Assert
    assert caught.value is error
    assert operation.calls == 1 and slept == []


def test_default_listener_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # Prepare
    operation = Flaky(failures=1)

    # Execute
    with caplog.at_level(logging.WARNING, logger="fedledger.store"):
        call_with_retry("pinning bafy", operation, RetryPolicy(initial_delay=0.0), store=STORE,
                        sleep=lambda seconds: None)

    # Assert
    expected = (
        "the IPFS daemon at http://127.0.0.1:5001 is unreachable while pinning bafy "
        "(attempt 1 of 6 failed: connection refused); retrying in 0 s"
    )
    assert [r.getMessage() for r in caplog.records] == [expected]
