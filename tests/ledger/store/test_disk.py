"""Embedded store: Kubo's CIDs on disk, re-hashed on every read, safe against rot and misuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledger.store.builder import CHUNK_SIZE, KUBO_V0, CidHasher
from ledger.store.cid import RAW, Cid
from ledger.store.disk import DiskStore, GcResult
from ledger.store.errors import (
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    StoreError,
    StoreUnavailable,
)

from .content import content
from .vectors import EDGE, EMPTY_V1, HELLO_V1


def _leaf(data: bytes, index: int) -> Cid:
    piece = data[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE]
    return Cid.v1(RAW, hashlib.sha256(piece).digest())


def _block_files(store: DiskStore) -> list[Path]:
    return sorted(path for path in (store.root / "blocks").rglob("*.data"))


@pytest.mark.parametrize(
    "name", ["one_byte", "exactly_256k", "256k_plus_1", "174_chunks", "175_chunks"]
)
def test_put_bytes_returns_the_kubo_cid_and_get_returns_the_bytes(
    disk_store: DiskStore, name: str
) -> None:
    # Prepare
    size, expected, _ = EDGE[name]
    data = content(size)

    # Execute
    cid = disk_store.put_bytes(data)
    out = disk_store.get_bytes(cid)

    # Assert
    assert cid == expected
    assert out == data
    assert disk_store.has(cid)
    assert disk_store.size(cid) == size


def test_empty_content_round_trips(disk_store: DiskStore) -> None:
    # Execute
    cid = disk_store.put_bytes(b"")

    # Assert
    assert cid == EMPTY_V1
    assert disk_store.get_bytes(cid) == b""


def test_50_mb_file_streams_in_and_out(disk_store: DiskStore, tmp_path: Path) -> None:
    # Prepare
    size, expected, _ = EDGE["50mb"]
    source = tmp_path / "big.bin"
    source.write_bytes(content(size))
    dest = tmp_path / "back.bin"
    progress: list[int] = []

    # Execute
    cid = disk_store.put_file(source, progress=progress.append)
    written = disk_store.get_file(cid, dest)

    # Assert
    assert cid == expected
    assert sum(progress) == written == size
    assert dest.read_bytes() == source.read_bytes()
    assert len(_block_files(disk_store)) == 191 + 2 + 1  # leaves, two level-1 nodes, root


def test_blocks_are_stored_under_their_multihash_like_kubo_flatfs(disk_store: DiskStore) -> None:
    # Execute
    disk_store.put_bytes(b"hello")

    # Assert
    path = disk_store.block_path(HELLO_V1)
    assert path.name.startswith("CIQ") and path.name.endswith(".data")
    assert path.parent.name == path.name.removesuffix(".data")[-3:-1]
    assert path.read_bytes() == b"hello"
    assert _block_files(disk_store) == [path]


def test_same_content_twice_is_stored_once(disk_store: DiskStore) -> None:
    # Prepare
    data = content(3 * CHUNK_SIZE)
    first = disk_store.put_bytes(data)
    files = _block_files(disk_store)

    # Execute
    second = disk_store.put_bytes(data)

    # Assert
    assert first == second
    assert _block_files(disk_store) == files


def test_open_stream_yields_chunks_in_order(disk_store: DiskStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE + 3)
    cid = disk_store.put_bytes(data)

    # Execute
    pieces = list(disk_store.open_stream(cid))

    # Assert
    assert [len(piece) for piece in pieces] == [CHUNK_SIZE, CHUNK_SIZE, 3]
    assert b"".join(pieces) == data


# -- corruption and absence ------------------------------------------------------


def test_corrupt_block_on_disk_is_an_integrity_error_naming_the_cid(
    disk_store: DiskStore, tmp_path: Path
) -> None:
    # Prepare
    data = content(3 * CHUNK_SIZE)
    cid = disk_store.put_bytes(data)
    leaf = _leaf(data, 1)
    path = disk_store.block_path(leaf)
    rotten = bytearray(path.read_bytes())
    rotten[12345] ^= 0x01
    path.write_bytes(bytes(rotten))
    dest = tmp_path / "out.bin"

    # Execute
    with pytest.raises(IntegrityError) as from_bytes:
        disk_store.get_bytes(cid)
    with pytest.raises(IntegrityError):
        disk_store.get_file(cid, dest)

    # Assert
    assert str(from_bytes.value) == (
        f"block {leaf} (part of content {cid}) is corrupt: its {CHUNK_SIZE} bytes do not hash "
        "to its CID"
    )
    assert not dest.exists()
    assert list(tmp_path.glob(".out.bin.*")) == []


def test_corrupt_file_does_not_replace_an_existing_destination(
    disk_store: DiskStore, tmp_path: Path
) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE)
    cid = disk_store.put_bytes(data)
    disk_store.block_path(_leaf(data, 1)).write_bytes(b"rot")
    dest = tmp_path / "keep.bin"
    dest.write_bytes(b"previous")

    # Execute
    with pytest.raises(IntegrityError, match="is corrupt: its 3 bytes do not hash"):
        disk_store.get_file(cid, dest)

    # Assert
    assert dest.read_bytes() == b"previous"


def test_truncated_root_block_on_disk_is_refused(disk_store: DiskStore) -> None:
    # Prepare
    cid = disk_store.put_bytes(content(CHUNK_SIZE + 1))
    path = disk_store.block_path(cid)
    path.write_bytes(path.read_bytes()[:-1])

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"^block {cid} is corrupt"):
        disk_store.open_stream(cid)


def test_re_adding_content_repairs_a_corrupt_block(disk_store: DiskStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE)
    cid = disk_store.put_bytes(data)
    disk_store.block_path(_leaf(data, 0)).write_bytes(b"x" * CHUNK_SIZE)

    # Execute
    disk_store.put_bytes(data)

    # Assert
    assert disk_store.get_bytes(cid) == data


def test_unknown_cid_is_content_not_found(disk_store: DiskStore) -> None:
    with pytest.raises(ContentNotFound) as caught:
        disk_store.get_bytes(HELLO_V1)
    assert str(caught.value) == f"{HELLO_V1} is not in the embedded store at {disk_store.root}"
    assert not disk_store.has(HELLO_V1)


def test_missing_leaf_makes_content_incomplete(disk_store: DiskStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE)
    cid = disk_store.put_bytes(data)
    leaf = _leaf(data, 1)
    disk_store.block_path(leaf).unlink()

    # Execute / Assert
    assert not disk_store.has(cid)
    with pytest.raises(ContentNotFound, match=f"content {cid} is incomplete: {leaf} is not in"):
        disk_store.get_bytes(cid)


def test_max_size_refuses_before_any_leaf_is_read(
    disk_store: DiskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare
    cid = disk_store.put_bytes(content(4 * CHUNK_SIZE))
    reads: list[Cid] = []
    original = disk_store._read_block

    def counting(block: Cid, limit: int, *, probe: bool = False) -> bytes:
        reads.append(block)
        return original(block, limit, probe=probe)

    monkeypatch.setattr(disk_store, "_read_block", counting)

    # Execute
    with pytest.raises(ContentTooLarge, match=f"content {cid} is {4 * CHUNK_SIZE} bytes"):
        disk_store.get_bytes(cid, max_size=CHUNK_SIZE)

    # Assert
    assert [str(block) for block in reads] == [cid]


def test_put_block_refuses_bytes_that_do_not_match(disk_store: DiskStore) -> None:
    # Execute
    with pytest.raises(IntegrityError, match=f"block {HELLO_V1} is corrupt: its 5 bytes"):
        disk_store.put_block(HELLO_V1, b"HELLO")

    # Assert
    assert _block_files(disk_store) == []


def test_blocks_of_cidv0_content_can_be_imported_and_read(disk_store: DiskStore) -> None:
    # Prepare
    data = content(CHUNK_SIZE + 7)
    blocks: list[tuple[Cid, bytes]] = []
    hasher = CidHasher(KUBO_V0, sink=lambda cid, block: blocks.append((cid, bytes(block))))
    hasher.update(data)
    root = hasher.finish()

    # Execute
    for cid, block in blocks:
        disk_store.put_block(cid, block)

    # Assert
    assert disk_store.get_bytes(str(root)) == data


def test_put_file_of_a_missing_path_is_a_store_error(disk_store: DiskStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read .*nope.bin"):
        disk_store.put_file(tmp_path / "nope.bin")


# -- pins and gc -------------------------------------------------------------------


def test_gc_removes_unpinned_content_and_keeps_pinned(disk_store: DiskStore) -> None:
    # Prepare
    kept = disk_store.put_bytes(content(2 * CHUNK_SIZE + 1))
    dropped = disk_store.put_bytes(content(CHUNK_SIZE, b"other"), pin=False)

    # Execute
    result = disk_store.gc()

    # Assert
    assert result == GcResult(removed_blocks=1, freed_bytes=CHUNK_SIZE, kept_blocks=4)
    assert disk_store.pins() == [kept]
    assert disk_store.has(kept)
    assert not disk_store.has(dropped)


def test_unpin_then_gc_frees_everything(disk_store: DiskStore) -> None:
    # Prepare
    cid = disk_store.put_bytes(b"hello")

    # Execute
    disk_store.unpin(cid)
    result = disk_store.gc()

    # Assert
    assert result == GcResult(removed_blocks=1, freed_bytes=5, kept_blocks=0)
    assert _block_files(disk_store) == []


def test_pin_requires_all_blocks(disk_store: DiskStore) -> None:
    # Prepare
    data = content(2 * CHUNK_SIZE)
    cid = disk_store.put_bytes(data, pin=False)
    disk_store.block_path(_leaf(data, 0)).unlink()

    # Execute / Assert
    with pytest.raises(ContentNotFound, match=f"cannot pin {cid}: not all of its blocks"):
        disk_store.pin(cid)
    assert disk_store.pins() == []


def test_unpinning_what_is_not_pinned_is_an_error(disk_store: DiskStore) -> None:
    with pytest.raises(StoreError, match=f"{HELLO_V1} is not pinned in the embedded store"):
        disk_store.unpin(HELLO_V1)


def test_gc_refuses_when_a_pinned_content_lost_a_node(disk_store: DiskStore) -> None:
    # Prepare
    cid = disk_store.put_bytes(content(2 * CHUNK_SIZE))
    other = disk_store.put_bytes(b"unpinned", pin=False)
    disk_store.block_path(cid).unlink()

    # Execute
    with pytest.raises(ContentNotFound, match=f"pinned content {cid} is missing block {cid}"):
        disk_store.gc()

    # Assert
    assert disk_store.has(other)


# -- the directory itself --------------------------------------------------------------


def test_reopening_a_store_sees_its_content(tmp_path: Path) -> None:
    # Prepare
    cid = DiskStore(tmp_path / "s").put_bytes(b"hello")

    # Execute
    reopened = DiskStore(tmp_path / "s")

    # Assert
    assert reopened.get_bytes(cid) == b"hello"


def test_non_empty_directory_without_a_store_is_refused(tmp_path: Path) -> None:
    # Prepare
    (tmp_path / "notes.txt").write_text("mine")

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="is not empty and holds no fedledger store"):
        DiskStore(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_is_not_a_store(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "file"
    path.write_text("x")

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="exists and is not a directory"):
        DiskStore(path)


def test_store_of_another_format_is_refused(tmp_path: Path) -> None:
    # Prepare
    DiskStore(tmp_path / "s")
    (tmp_path / "s" / "FORMAT").write_text("fedledger-blockstore 99\n")

    # Execute / Assert
    with pytest.raises(StoreUnavailable, match="holds a store of another format"):
        DiskStore(tmp_path / "s")
