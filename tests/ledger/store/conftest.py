"""Store fixtures: an embedded store per test, one real js-ipfs daemon per session.

- `disk_store` (function): a fresh `DiskStore` in the test's tmp dir.
- `jsipfs_daemon` (session): a `JsIpfsDaemon` running offline on 127.0.0.1, or a
  skip saying how to install js-ipfs. Its repository is copied from a template
  initialised once under `.ipfs-test/` (gitignored), which saves `jsipfs init`.
- `daemon_store` (function): a `DaemonStore` on that daemon (short timeouts).
- `store` (function, parametrized `embedded` / `daemon`): the conformance target;
  the daemon run carries the `ipfs_daemon` marker.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.store.base import ContentStore
from ledger.store.disk import DiskStore
from ledger.store.jsipfs import JsIpfsDaemon, copy_repo, find_jsipfs

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_DIR = REPO_ROOT / ".ipfs-test"
NOT_INSTALLED = "js-ipfs is not installed: run scripts/ipfs/install.sh (Node 20 + npm)"


@pytest.fixture
def disk_store(tmp_path: Path) -> DiskStore:
    """An empty embedded store."""
    return DiskStore(tmp_path / "store")


def _template_repo() -> Path:
    """An initialised js-ipfs repository, created once and shared (under a file lock)."""
    TEMPLATE_DIR.mkdir(exist_ok=True)
    template = TEMPLATE_DIR / "jsipfs-template"
    with open(TEMPLATE_DIR / "template.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "config").is_file():
            JsIpfsDaemon(template).init()
    return template


@pytest.fixture(scope="session")
def jsipfs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsIpfsDaemon]:
    """A js-ipfs daemon for the whole session (skipped when js-ipfs is absent)."""
    if find_jsipfs() is None:
        pytest.skip(NOT_INSTALLED)
    repo = tmp_path_factory.mktemp("jsipfs") / "repo"
    copy_repo(_template_repo(), repo)
    daemon = JsIpfsDaemon(repo)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def daemon_store(jsipfs_daemon: JsIpfsDaemon) -> Iterator[ContentStore]:
    """A `DaemonStore` on the session daemon; unknown blocks give up after 1 s."""
    from ledger.store.daemon import DaemonStore

    with DaemonStore(jsipfs_daemon.api_url, fetch_timeout=1.0, probe_timeout=0.5) as store:
        yield store


@pytest.fixture(params=["embedded", pytest.param("daemon", marks=pytest.mark.ipfs_daemon)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ContentStore:
    """Each `ContentStore` implementation in turn."""
    if request.param == "embedded":
        return DiskStore(tmp_path / "store")
    daemon_store: ContentStore = request.getfixturevalue("daemon_store")
    return daemon_store
