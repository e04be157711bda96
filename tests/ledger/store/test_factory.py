"""`open_store`: one spec string picks the backend; a bad spec says what would work."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.daemon import DaemonStore
from ledger.store.disk import DiskStore
from ledger.store.errors import StoreUnavailable
from ledger.store.factory import DEFAULT_SPEC, default_spec, is_daemon_spec, open_store

from .fake_daemon import FakeDaemon

# ipfshttpclient 0.7.0 passes urllib3 2 a removed `strict=` argument; harmless, filtered here
# as DaemonStore filters it outside pytest.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")


def test_plain_directory_opens_the_embedded_store(tmp_path: Path) -> None:
    # Execute
    store = open_store(str(tmp_path / "s"))

    # Assert
    assert isinstance(store, DiskStore)
    assert store.root == tmp_path / "s"


def test_embedded_prefix_opens_the_embedded_store(tmp_path: Path) -> None:
    # Execute
    store = open_store(f"embedded:{tmp_path / 'e'}")

    # Assert
    assert isinstance(store, DiskStore)
    assert store.root == tmp_path / "e"


def test_http_url_opens_a_daemon_store(tmp_path: Path) -> None:
    # Prepare
    with FakeDaemon(DiskStore(tmp_path / "blocks")) as fake:
        # Execute
        store = open_store(fake.url)

        # Assert
        assert isinstance(store, DaemonStore)
        assert store.put_bytes(b"hello") == store.put_bytes(b"hello")
        store.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty store spec"),
        ("  ", "empty store spec"),
        ("embedded:", "embedded: needs a directory"),
        ("s3://bucket/x", "only http\\(s\\) daemon URLs are supported"),
        ("http://127.0.0.1:9", "no IPFS daemon answers at http://127.0.0.1:9"),
    ],
)
def test_unusable_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(StoreUnavailable, match=message):
        open_store(spec)


def test_default_spec_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    monkeypatch.delenv("FEDLEDGER_STORE", raising=False)
    before = default_spec()
    monkeypatch.setenv("FEDLEDGER_STORE", "http://127.0.0.1:5001")

    # Execute
    after = default_spec()

    # Assert
    assert (before, after) == (DEFAULT_SPEC, "http://127.0.0.1:5001")


def test_default_store_lives_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    monkeypatch.delenv("FEDLEDGER_STORE", raising=False)
    monkeypatch.chdir(tmp_path)

    # Execute
    store = open_store()

    # Assert
    assert isinstance(store, DiskStore)
    assert store.root == tmp_path / ".fedledger" / "store"


@pytest.mark.parametrize(
    ("spec", "daemon"),
    [
        ("http://h:1", True),
        ("https://h", True),
        ("/ip4/1.2.3.4/tcp/5001/http", True),
        ("/dns/h/tcp/5001/http", True),
        ("./store", False),
        ("/var/lib/store", False),
        ("embedded:x", False),
    ],
)
def test_daemon_specs_are_recognised(spec: str, daemon: bool) -> None:
    assert is_daemon_spec(spec) is daemon
