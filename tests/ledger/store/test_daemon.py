"""DaemonStore: a misbehaving RPC daemon is caught; a real one (js-ipfs) agrees on every CID.

The first half runs everywhere, against `FakeDaemon`, which can be told to lie.
The second half needs js-ipfs (`scripts/ipfs/install.sh`), is marked
`ipfs_daemon`, and cross-checks CIDs with a real implementation both ways:
the daemon's CIDs for our test content, content the daemon chunked read through
the embedded store, and content the embedded store chunked served by the daemon.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import ipfshttpclient
import pytest

from ledger.store.builder import CHUNK_SIZE, KUBO_V0, compute_cid
from ledger.store.cid import normalize_cid
from ledger.store.daemon import DaemonStore, to_multiaddr
from ledger.store.disk import DiskStore
from ledger.store.errors import (
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    StoreError,
    StoreUnavailable,
)
from ledger.store.jsipfs import JsIpfsDaemon
from ledger.store.transfer import copy_content

from .content import content
from .fake_daemon import FakeDaemon
from .vectors import DEPTH3_CHUNK, DEPTH3_SEED, DEPTH3_SIZE, DEPTH3_V1, EDGE, HELLO_V1

# ipfshttpclient 0.7.0 passes urllib3 2 a removed `strict=` argument; harmless, filtered here
# as DaemonStore filters it outside pytest.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeDaemon]:
    with FakeDaemon(DiskStore(tmp_path / "daemon-blocks")) as daemon:
        yield daemon


@pytest.fixture
def fake_store(fake: FakeDaemon) -> Iterator[DaemonStore]:
    with DaemonStore(fake.url, fetch_timeout=0.5, probe_timeout=0.3) as store:
        yield store


# -- addresses and versions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:5001", ("/ip4/127.0.0.1/tcp/5001/http", "api/v0")),
        ("http://localhost:5001", ("/dns/localhost/tcp/5001/http", "api/v0")),
        ("http://[::1]:5001", ("/ip6/::1/tcp/5001/http", "api/v0")),
        ("https://ipfs.example:8443/custom/v0/", ("/dns/ipfs.example/tcp/8443/https", "custom/v0")),
        ("http://127.0.0.1", ("/ip4/127.0.0.1/tcp/5001/http", "api/v0")),
        ("/ip4/10.0.0.1/tcp/5001/http", ("/ip4/10.0.0.1/tcp/5001/http", "api/v0")),
    ],
)
def test_urls_become_client_multiaddrs(url: str, expected: tuple[str, str]) -> None:
    assert to_multiaddr(url) == expected


@pytest.mark.parametrize("url", ["ftp://host:21", "127.0.0.1:5001", "http://"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreUnavailable, match="is not an IPFS RPC URL"):
        to_multiaddr(url)


def test_modern_daemon_versions_are_accepted(fake: FakeDaemon) -> None:
    # Prepare: ipfshttpclient.connect() itself would refuse anything >= 0.8
    fake.faults.version = "0.36.0"

    # Execute
    with DaemonStore(fake.url) as store:
        info = store.info

    # Assert
    assert (info.implementation, info.version) == ("kubo", "0.36.0")
    with pytest.raises(ipfshttpclient.exceptions.VersionMismatch):
        ipfshttpclient.connect(to_multiaddr(fake.url)[0])


def test_daemon_older_than_0_4_23_is_refused(fake: FakeDaemon) -> None:
    # Prepare
    fake.faults.version = "0.4.22"

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="is version 0.4.22; fedledger needs 0.4.23"):
        DaemonStore(fake.url)


def test_unreadable_version_is_refused(fake: FakeDaemon) -> None:
    # Prepare
    fake.faults.version = "dev"

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="reports an unreadable version 'dev'"):
        DaemonStore(fake.url)


def test_nothing_listening_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="no IPFS daemon answers at http://127.0.0.1:9/"):
        DaemonStore("http://127.0.0.1:9/", timeout=2)


# -- honest fake ------------------------------------------------------------------------


def test_round_trip_through_the_rpc_api(fake_store: DaemonStore, fake: FakeDaemon) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE + 5)

    # Execute
    cid = fake_store.put_bytes(data)
    out = fake_store.get_bytes(cid)

    # Assert
    assert cid == compute_cid(data)
    assert out == data
    assert fake.calls.count("block/get") == 1  # the root; the 3 leaves come from one `cat`
    assert fake.calls.count("cat") == 1
    assert fake_store.has(cid)


# -- lying or broken daemon ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("short", IntegrityError, "is corrupt: its 52 bytes do not hash to its CID"),
        ("corrupt", IntegrityError, "is corrupt: its 104 bytes do not hash to its CID"),
        ("oversize", IntegrityError, "is over 327680 bytes, larger than any block"),
        ("truncate", StoreError, "broke off its answer for block .*IncompleteRead"),
        ("error", StoreError, "failed while reading block .*: blockstore: internal failure"),
        ("hang", ContentNotFound, "not produced within 0.5 s"),
    ],
)
def test_every_bad_answer_for_a_block_is_refused_naming_the_cid(
    fake_store: DaemonStore, fake: FakeDaemon, fault: str, error: type[Exception], message: str
) -> None:
    # Prepare
    cid = fake_store.put_bytes(content(CHUNK_SIZE + 1))
    fake.faults.block_get = fault
    fake.faults.hang_seconds = 1.5

    # Execute / Assert
    with pytest.raises(error, match=message) as caught:
        fake_store.get_bytes(cid)
    assert cid in str(caught.value)


def test_bad_leaf_in_the_cat_stream_is_refused_after_earlier_leaves_were_verified(
    fake_store: DaemonStore, fake: FakeDaemon
) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE)
    cid = fake_store.put_bytes(data)
    leaf = compute_cid(data[CHUNK_SIZE:])
    fake.faults.cat = "corrupt"
    reader = fake_store.open_stream(cid)

    # Execute
    first = next(reader)
    with pytest.raises(IntegrityError) as caught:
        next(reader)

    # Assert
    assert first == data[:CHUNK_SIZE]  # the flipped middle byte opens the second leaf
    assert str(caught.value) == (
        f"block {leaf} (part of content {cid}) is corrupt: its {CHUNK_SIZE} bytes do not hash "
        "to its CID"
    )


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("short", IntegrityError, "the byte stream ended 95 bytes short of leaf"),
        ("truncate", StoreError, "broke off its stream of .*IncompleteRead"),
    ],
)
def test_cut_cat_stream_is_refused(
    fake_store: DaemonStore, fake: FakeDaemon, fault: str, error: type[Exception], message: str
) -> None:
    # Prepare
    cid = fake_store.put_bytes(content(3 * CHUNK_SIZE + 5))
    fake.faults.cat = fault

    # Execute / Assert
    with pytest.raises(error, match=message) as caught:
        fake_store.get_bytes(cid)
    assert cid in str(caught.value)


def test_trailing_bytes_after_the_content_are_never_read_into_it(
    fake_store: DaemonStore, fake: FakeDaemon
) -> None:
    # Prepare
    data = content(CHUNK_SIZE + 9)
    cid = fake_store.put_bytes(data)
    fake.faults.cat = "extra"

    # Execute
    out = fake_store.get_bytes(cid)

    # Assert
    assert out == data


def test_daemon_claiming_another_cid_for_an_add_is_refused(
    fake_store: DaemonStore, fake: FakeDaemon
) -> None:
    # Prepare
    fake.faults.add_hash = HELLO_V1

    # Execute / Assert
    with pytest.raises(IntegrityError) as caught:
        fake_store.put_bytes(b"not hello")
    assert str(caught.value) == (
        f"the daemon at {fake.url} added content as {HELLO_V1}, but `ipfs add --cid-version 1 "
        f"--raw-leaves` gives {compute_cid(b'not hello')} for these bytes: refused"
    )


def test_unknown_cid_is_content_not_found_after_the_fetch_timeout(
    fake_store: DaemonStore, fake: FakeDaemon
) -> None:
    # Prepare
    fake.faults.hang_seconds = 1.5

    # Execute / Assert
    with pytest.raises(ContentNotFound, match=f"^{HELLO_V1} is not in the IPFS daemon at "):
        fake_store.get_bytes(HELLO_V1)


def test_unknown_cid_answered_as_not_found_is_content_not_found(
    fake_store: DaemonStore, fake: FakeDaemon
) -> None:
    # Prepare: a Kubo daemon asked offline answers at once
    fake.faults.hang_seconds = 0

    # Execute / Assert
    with pytest.raises(ContentNotFound, match="block was not found locally"):
        fake_store.get_bytes(HELLO_V1)
    assert not fake_store.has(HELLO_V1)


def test_unpinning_what_is_not_pinned_reports_the_daemon_message(
    fake_store: DaemonStore,
) -> None:
    with pytest.raises(StoreError, match=f"cannot unpin {HELLO_V1} .*is not pinned"):
        fake_store.unpin(HELLO_V1)


# -- a real daemon: js-ipfs ---------------------------------------------------------------------


def _daemon_cid(daemon: JsIpfsDaemon, data: bytes, **options: object) -> str:
    """The daemon's own answer, through the raw client and nothing of ours but normalising."""
    client = ipfshttpclient.Client(to_multiaddr(daemon.api_url)[0], chunk_size=1 << 20)
    try:
        answer = client.add(io.BytesIO(data), only_hash=True, **options)
    finally:
        client.close()
    return normalize_cid(answer["Hash"])


RAW_LEAVES = {"cid_version": 1, "raw_leaves": True, "chunker": f"size-{CHUNK_SIZE}"}


@pytest.mark.ipfs_daemon
@pytest.mark.parametrize("name", list(EDGE))
def test_js_ipfs_gives_our_cid_for_every_edge_size(jsipfs_daemon: JsIpfsDaemon, name: str) -> None:
    # Prepare
    size, expected, _ = EDGE[name]
    data = content(size)

    # Execute
    theirs = _daemon_cid(jsipfs_daemon, data, **RAW_LEAVES)

    # Assert
    assert theirs == compute_cid(data) == expected


@pytest.mark.ipfs_daemon
@pytest.mark.parametrize("name", ["one_byte", "256k_plus_1"])
def test_js_ipfs_gives_our_legacy_cidv0(jsipfs_daemon: JsIpfsDaemon, name: str) -> None:
    # Prepare
    size, _, expected = EDGE[name]
    data = content(size)

    # Execute
    theirs = _daemon_cid(jsipfs_daemon, data)

    # Assert
    assert theirs == compute_cid(data, KUBO_V0) == expected


@pytest.mark.ipfs_daemon
def test_js_ipfs_agrees_on_a_three_level_tree(jsipfs_daemon: JsIpfsDaemon) -> None:
    # Prepare
    data = content(DEPTH3_SIZE, DEPTH3_SEED)

    # Execute
    theirs = _daemon_cid(
        jsipfs_daemon, data, cid_version=1, raw_leaves=True, chunker=f"size-{DEPTH3_CHUNK}"
    )

    # Assert
    assert theirs == DEPTH3_V1


@pytest.mark.ipfs_daemon
def test_daemon_serves_a_file_the_embedded_store_chunked(
    jsipfs_daemon: JsIpfsDaemon, daemon_store: DaemonStore, disk_store: DiskStore
) -> None:
    # Prepare
    data = content(3 * CHUNK_SIZE + 11, b"embedded-to-daemon")
    cid = disk_store.put_bytes(data)

    # Execute
    copied = copy_content(disk_store, daemon_store, cid)
    client = ipfshttpclient.Client(to_multiaddr(jsipfs_daemon.api_url)[0])
    try:
        served = client.cat(cid)
    finally:
        client.close()

    # Assert
    assert copied == 5
    assert served == data
    assert daemon_store.has(cid)


@pytest.mark.ipfs_daemon
def test_embedded_store_serves_a_file_the_daemon_chunked(
    daemon_store: DaemonStore, disk_store: DiskStore
) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE + 1, b"daemon-to-embedded")
    cid = daemon_store.put_bytes(data)

    # Execute
    copied = copy_content(daemon_store, disk_store, cid)

    # Assert
    assert copied == 4
    assert disk_store.get_bytes(cid) == data
    disk_store.verify(cid, data)


@pytest.mark.ipfs_daemon
def test_real_daemon_refuses_oversized_content_early(daemon_store: DaemonStore) -> None:
    # Prepare
    cid = daemon_store.put_bytes(content(4 * CHUNK_SIZE, b"big"))

    # Execute / Assert
    with pytest.raises(ContentTooLarge, match=f"content {cid} is {4 * CHUNK_SIZE} bytes"):
        daemon_store.get_bytes(cid, max_size=CHUNK_SIZE)


@pytest.mark.ipfs_daemon
def test_real_daemon_reports_an_unknown_cid(daemon_store: DaemonStore) -> None:
    # Prepare
    unknown = compute_cid(b"never added anywhere")

    # Execute / Assert
    assert not daemon_store.has(unknown)
    with pytest.raises(
        ContentNotFound,
        match=f"^{unknown} is not in the IPFS daemon at .*"
        r"\(js-ipfs 0.18.1\): not produced within 1 s",
    ):
        daemon_store.get_bytes(unknown)


@pytest.mark.ipfs_daemon
def test_real_daemon_put_file_streams_and_agrees(daemon_store: DaemonStore, tmp_path: Path) -> None:
    # Prepare
    size, expected, _ = EDGE["175_chunks"]
    path = tmp_path / "update.bin"
    path.write_bytes(content(size))
    progress: list[int] = []

    # Execute
    cid = daemon_store.put_file(path, progress=progress.append)

    # Assert
    assert cid == expected
    assert sum(progress) == size
