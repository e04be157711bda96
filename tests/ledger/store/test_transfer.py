"""Copying content between stores keeps its CID and checks every block on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.builder import CHUNK_SIZE, compute_cid
from ledger.store.disk import DiskStore
from ledger.store.errors import ContentNotFound, IntegrityError
from ledger.store.transfer import copy_content

from .content import content


def test_copy_moves_every_block_and_pins_the_target(tmp_path: Path) -> None:
    # Prepare
    source, target = DiskStore(tmp_path / "a"), DiskStore(tmp_path / "b")
    data = content(175 * CHUNK_SIZE)
    cid = source.put_bytes(data)

    # Execute
    count = copy_content(source, target, cid)

    # Assert
    assert count == 175 + 2 + 1
    assert target.get_bytes(cid) == data
    assert target.pins() == [cid]


def test_copy_without_pin_leaves_the_target_unpinned(tmp_path: Path) -> None:
    # Prepare
    source, target = DiskStore(tmp_path / "a"), DiskStore(tmp_path / "b")
    cid = source.put_bytes(b"hello")

    # Execute
    copy_content(source, target, cid, pin=False)

    # Assert
    assert target.pins() == []
    assert target.has(cid)


def test_missing_source_block_stops_the_copy_before_pinning(tmp_path: Path) -> None:
    # Prepare
    source, target = DiskStore(tmp_path / "a"), DiskStore(tmp_path / "b")
    data = content(2 * CHUNK_SIZE)
    cid = source.put_bytes(data)
    last = compute_cid(data[CHUNK_SIZE:])
    source.block_path(last).unlink()

    # Execute
    with pytest.raises(ContentNotFound, match=f"^{last} is not in the embedded store"):
        copy_content(source, target, cid)

    # Assert
    assert target.pins() == []
    assert not target.has(cid)


def test_corrupt_source_block_is_never_copied(tmp_path: Path) -> None:
    # Prepare
    source, target = DiskStore(tmp_path / "a"), DiskStore(tmp_path / "b")
    data = content(2 * CHUNK_SIZE)
    cid = source.put_bytes(data)
    first = compute_cid(data[:CHUNK_SIZE])
    source.block_path(first).write_bytes(b"rot")

    # Execute
    with pytest.raises(IntegrityError, match=f"block {first} is corrupt"):
        copy_content(source, target, cid)

    # Assert
    assert not target.block_path(first).exists()
