"""The `ContentStore` contract, run against every backend (embedded, and js-ipfs when installed).

Callers (participants, the aggregator, auditors) depend on these behaviours and
nothing backend-specific: same CIDs, verified reads, early size refusal, clear
absence, pins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.base import ContentStore
from ledger.store.builder import CHUNK_SIZE, compute_cid
from ledger.store.cid import DAG_PB, RAW
from ledger.store.errors import ContentNotFound, ContentTooLarge, IntegrityError, StoreError

from .content import content

# ipfshttpclient 0.7.0 passes urllib3 2 a removed `strict=` argument; harmless, filtered here
# as DaemonStore filters it outside pytest.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")


def test_put_bytes_gives_the_ipfs_add_cid_and_get_verifies(store: ContentStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE + 17, b"conformance")

    # Execute
    cid = store.put_bytes(data)

    # Assert
    assert cid == compute_cid(data)
    assert store.get_bytes(cid) == data
    assert store.size(cid) == len(data)
    assert store.has(cid)


def test_put_file_and_get_file_round_trip(store: ContentStore, tmp_path: Path) -> None:
    # Prepare
    source = tmp_path / "in.bin"
    source.write_bytes(content(CHUNK_SIZE + 1, b"file"))
    dest = tmp_path / "out.bin"

    # Execute
    cid = store.put_file(source)
    written = store.get_file(cid, dest)

    # Assert
    assert written == CHUNK_SIZE + 1
    assert dest.read_bytes() == source.read_bytes()


def test_open_stream_yields_verified_chunks(store: ContentStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE + 1, b"stream")
    cid = store.put_bytes(data)

    # Execute
    pieces = list(store.open_stream(cid))

    # Assert
    assert [len(piece) for piece in pieces] == [CHUNK_SIZE, CHUNK_SIZE, 1]


def test_content_over_max_size_is_refused(store: ContentStore) -> None:
    # Prepare
    cid = store.put_bytes(content(3 * CHUNK_SIZE, b"limit"))

    # Execute / Assert
    with pytest.raises(
        ContentTooLarge,
        match=f"content {cid} is {3 * CHUNK_SIZE} bytes, over the limit of {CHUNK_SIZE} bytes",
    ):
        store.open_stream(cid, max_size=CHUNK_SIZE)


def test_unknown_content_is_not_found_and_not_held(store: ContentStore) -> None:
    # Prepare
    unknown = compute_cid(b"nobody stored this " + store.describe().encode())

    # Execute / Assert
    assert not store.has(unknown)
    with pytest.raises(ContentNotFound, match=f"^{unknown} is not in "):
        store.get_bytes(unknown)


def test_verify_checks_bytes_against_a_cid(store: ContentStore) -> None:
    # Prepare
    cid = compute_cid(b"payload")

    # Execute / Assert
    store.verify(cid, b"payload")
    with pytest.raises(IntegrityError, match=f"content does not match CID {cid}"):
        store.verify(cid, b"Payload")


def test_blocks_travel_one_by_one(store: ContentStore) -> None:
    # Prepare
    data = content(CHUNK_SIZE + 3, b"blocks")
    cid = store.put_bytes(data)

    # Execute
    blocks = list(store.iter_blocks(cid))

    # Assert
    assert [block_cid.codec for block_cid, _ in blocks] == [DAG_PB, RAW, RAW]
    assert str(blocks[0][0]) == cid
    assert [block for _, block in blocks[1:]] == [data[:CHUNK_SIZE], data[CHUNK_SIZE:]]
    assert store.get_block(blocks[1][0]) == data[:CHUNK_SIZE]


def test_put_block_refuses_bytes_under_the_wrong_cid(store: ContentStore) -> None:
    # Prepare
    cid = compute_cid(b"right")

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"block {cid} is corrupt: its 5 bytes"):
        store.put_block(cid, b"wrong")


def test_put_block_then_read_it(store: ContentStore) -> None:
    # Prepare
    cid = compute_cid(b"single block " + store.describe().encode())

    # Execute
    store.put_block(cid, b"single block " + store.describe().encode())

    # Assert
    assert store.get_bytes(cid) == b"single block " + store.describe().encode()


def test_pin_and_unpin(store: ContentStore) -> None:
    # Prepare
    cid = store.put_bytes(content(CHUNK_SIZE + 9, b"pins"), pin=False)

    # Execute
    store.pin(cid)
    store.unpin(cid)

    # Assert
    with pytest.raises(StoreError, match=f"{cid}.*not pinned"):
        store.unpin(cid)
