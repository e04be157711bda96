"""DaemonStore rides out a daemon restart: bounded backoff, a status per wait, a clear end.

The first half uses `FakeDaemon` taken down and brought back on the same port, with a fake
`sleep` that records every wait (and brings the daemon back when the test says): no real time
passes. The second half (marker `ipfs_daemon`) stops the session's real js-ipfs daemon while
content is being fetched and restarts it on its repository and ports.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.store.daemon import DaemonStore
from ledger.store.disk import DiskStore
from ledger.store.errors import StoreError, StoreUnavailable
from ledger.store.jsipfs import JsIpfsDaemon
from ledger.store.retry import RetryPolicy, RetryStatus

from .content import content
from .fake_daemon import FakeDaemon

pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")

POLICY = RetryPolicy(attempts=4, initial_delay=0.1, multiplier=2.0, max_delay=0.3)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeDaemon]:
    with FakeDaemon(DiskStore(tmp_path / "daemon-blocks")) as daemon:
        yield daemon


class Clock:
    """A fake `sleep`: records waits; brings the fake daemon back at the `revive_at`-th wait."""

    def __init__(self, revive: Callable[[], None] | None = None, revive_at: int = 0) -> None:
        self.slept: list[float] = []
        self._revive = revive
        self._revive_at = revive_at

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self._revive is not None and len(self.slept) == self._revive_at:
            self._revive()


_OPENED: list[DaemonStore] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Close every store a test opened (their HTTP sessions hold sockets)."""
    yield
    while _OPENED:
        _OPENED.pop().close()


def _store(fake: FakeDaemon, clock: Clock, statuses: list[RetryStatus]) -> DaemonStore:
    store = DaemonStore(fake.url, fetch_timeout=0.5, probe_timeout=0.3, retry=POLICY,
                        on_retry=statuses.append, sleep=clock)
    _OPENED.append(store)
    return store


def test_fetch_waits_for_the_daemon_to_come_back(fake: FakeDaemon) -> None:
    # Prepare: three-leaf content on the daemon, which then goes down
    data = content(600_000)
    cid = fake.backing.put_bytes(data)
    statuses: list[RetryStatus] = []
    clock = Clock(revive=fake.come_back, revive_at=2)
    store = _store(fake, clock, statuses)
    fake.go_down()

    # Execute
    fetched = store.get_bytes(cid)

    # Assert
    assert fetched == data
    assert clock.slept == [0.1, 0.2]
    assert [(s.action, s.attempt, s.attempts) for s in statuses] == [
        (f"fetching {cid}", 1, 4), (f"fetching {cid}", 2, 4)]
    assert all(s.error.startswith(f"lost the IPFS daemon at {fake.url} while reading block {cid}")
               for s in statuses)
    assert statuses[0].message().startswith(
        f"the IPFS daemon at {fake.url} is unreachable while fetching {cid} (attempt 1 of 4 "
        "failed: lost the IPFS daemon")
    assert statuses[0].message().endswith("; retrying in 0.1 s")


def test_a_daemon_that_stays_down_is_a_clear_store_unavailable(fake: FakeDaemon) -> None:
    # Prepare
    cid = fake.backing.put_bytes(b"never fetched")
    statuses: list[RetryStatus] = []
    clock = Clock()
    store = _store(fake, clock, statuses)
    fake.go_down()

    # Execute
    with pytest.raises(StoreUnavailable) as caught:
        store.get_bytes(cid)

    # Assert: waits doubled up to the cap, then gave up naming daemon, time and remedy
    assert clock.slept == [0.1, 0.2, 0.3]
    assert len(statuses) == 3
    message = str(caught.value)
    assert message.startswith(
        f"the IPFS daemon at {fake.url} stayed unreachable while fetching {cid} after 4 "
        f"attempts over 0.6 s; last error: lost the IPFS daemon at {fake.url}")
    assert message.endswith("and run the step again: nothing was lost")


def test_stream_cut_by_a_dying_daemon_is_fetched_again_after_restart(fake: FakeDaemon) -> None:
    # Prepare: the daemon cuts its `cat` answer in half and goes down right after
    data = content(600_000)
    cid = fake.backing.put_bytes(data)
    fake.faults.cat = "truncate"
    serve_cat = fake._cat

    def cat_then_die(request: object, arg: str) -> None:
        serve_cat(request, arg)  # type: ignore[arg-type]
        fake.faults.cat = None
        threading.Thread(target=fake.go_down).start()  # not from the handler's own thread

    fake._cat = cat_then_die  # type: ignore[method-assign]
    statuses: list[RetryStatus] = []
    clock = Clock(revive=fake.come_back, revive_at=1)
    store = _store(fake, clock, statuses)

    # Execute
    fetched = store.get_bytes(cid)

    # Assert
    assert fetched == data
    assert clock.slept == [0.1]
    assert statuses[0].error.startswith(
        f"the daemon at {fake.url} broke off its stream of {cid}: ")
    assert "and no longer answers" in statuses[0].error


def test_stream_cut_by_a_daemon_that_is_still_up_is_not_retried(fake: FakeDaemon) -> None:
    # Prepare: a daemon that answers `version` but truncates content is lying, not down
    cid = fake.backing.put_bytes(content(600_000))
    fake.faults.cat = "truncate"
    statuses: list[RetryStatus] = []
    clock = Clock()
    store = _store(fake, clock, statuses)

    # Execute
    with pytest.raises(StoreError) as caught:
        store.get_bytes(cid)

    # Assert
    assert not isinstance(caught.value, StoreUnavailable)
    assert str(caught.value).startswith(f"the daemon at {fake.url} broke off its stream of {cid}")
    assert clock.slept == [] and statuses == []


def test_add_and_pin_wait_for_the_daemon_and_store_once(fake: FakeDaemon) -> None:
    # Prepare
    statuses: list[RetryStatus] = []
    clock = Clock(revive=fake.come_back, revive_at=1)
    store = _store(fake, clock, statuses)
    fake.go_down()

    # Execute
    cid = store.put_bytes(b"an update published while the daemon restarts")
    store.pin(cid)

    # Assert
    assert cid == "bafkreiay6j5bfzujod2xcf7lj37tkyirlfah5fvlbskp42gqhzbed6ulmm"
    assert fake.backing.get_bytes(cid) == b"an update published while the daemon restarts"
    assert [s.action for s in statuses] == ["adding 45 bytes"]
    assert store.has(cid)


# -- a real daemon ----------------------------------------------------------------------


@pytest.fixture
def restartable_daemon(jsipfs_daemon: JsIpfsDaemon) -> Iterator[JsIpfsDaemon]:
    """The session's js-ipfs daemon, brought back (same ports) if a test leaves it stopped."""
    yield jsipfs_daemon
    if not jsipfs_daemon.running:
        jsipfs_daemon.restart()


@pytest.mark.ipfs_daemon
def test_real_daemon_stopped_during_fetches_and_restarted(
    restartable_daemon: JsIpfsDaemon, tmp_path: Path
) -> None:
    # Prepare: 4 MiB (16 leaves) stored and pinned on a real js-ipfs daemon
    daemon = restartable_daemon
    url = daemon.api_url
    data = content(4 << 20, seed=b"restart")
    statuses: list[RetryStatus] = []
    restarted: list[threading.Thread] = []

    def on_retry(status: RetryStatus) -> None:
        statuses.append(status)
        if not restarted:  # the operator brings the daemon back while the fetch waits
            restarted.append(threading.Thread(target=daemon.restart))
            restarted[0].start()

    policy = RetryPolicy(attempts=12, initial_delay=0.25, multiplier=2.0, max_delay=4.0)
    store = DaemonStore(url, fetch_timeout=10.0, probe_timeout=1.0, retry=policy,
                        on_retry=on_retry)
    _OPENED.append(store)
    cid = store.put_bytes(data)
    stopped: list[bool] = []

    def stop_once(count: int) -> None:
        if not stopped:
            stopped.append(True)
            daemon.stop()  # stopped mid-fetch: the rest of the stream may never come

    # Execute: a fetch during which the daemon stops, then one while it is (re)starting
    written = store.get_file(cid, tmp_path / "first.bin", progress=stop_once)
    second = store.get_bytes(cid)
    for thread in restarted:
        thread.join()

    # Assert: both fetches returned the verified content; every wait was reported
    assert written == len(data) and (tmp_path / "first.bin").read_bytes() == data
    assert second == data
    assert statuses, "the daemon was down for at least one call, which must have waited"
    assert all(s.store == f"the IPFS daemon at {url}" for s in statuses)
    assert all(s.attempt <= 11 for s in statuses)
    assert daemon.api_url == url and store.has(cid)
