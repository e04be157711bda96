"""`ipfs add` CIDs reproduced exactly: reference vectors, edge sizes, tree shape, streaming."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.store.builder import (
    CHUNK_SIZE,
    KUBO_V0,
    KUBO_V1,
    CidHasher,
    DagBuilder,
    Layout,
    cid_of_file,
    compute_cid,
    hash_chunks,
    hash_stream,
)
from ledger.store.cid import DAG_PB, RAW, Cid
from ledger.store.unixfs import decode_node, decode_unixfs

from .content import content
from .vectors import (
    DEPTH3_CHUNK,
    DEPTH3_SEED,
    DEPTH3_SIZE,
    DEPTH3_V1,
    EDGE,
    REFERENCE,
)


def _blocks(data: bytes, layout: Layout = KUBO_V1) -> tuple[Cid, dict[Cid, bytes]]:
    blocks: dict[Cid, bytes] = {}
    hasher = CidHasher(layout, sink=lambda cid, block: blocks.__setitem__(cid, bytes(block)))
    hasher.update(data)
    return hasher.finish(), blocks


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_vectors_from_kubo(name: str) -> None:
    # Prepare
    data, version, expected = REFERENCE[name]

    # Execute
    cid = compute_cid(data, Layout(version))

    # Assert
    assert cid == expected


@pytest.mark.parametrize("name", list(EDGE))
def test_edge_sizes_match_js_ipfs_for_cidv1_raw_leaves(name: str) -> None:
    # Prepare
    size, expected_v1, _ = EDGE[name]

    # Execute
    cid = compute_cid(content(size))

    # Assert
    assert cid == expected_v1


@pytest.mark.parametrize("name", ["one_byte", "exactly_256k", "256k_plus_1", "175_chunks"])
def test_edge_sizes_match_js_ipfs_for_cidv0(name: str) -> None:
    # Prepare
    size, _, expected_v0 = EDGE[name]

    # Execute
    cid = compute_cid(content(size), KUBO_V0)

    # Assert
    assert cid == expected_v0


def test_three_level_tree_matches_js_ipfs_with_a_small_chunker() -> None:
    # Prepare: 174*174 + 1 chunks need a root three levels above the leaves
    data = content(DEPTH3_SIZE, DEPTH3_SEED)
    layout = Layout(1, chunk_size=DEPTH3_CHUNK)

    # Execute
    cid = compute_cid(data, layout)

    # Assert
    assert layout.depth_for(layout.chunk_count(DEPTH3_SIZE)) == 3
    assert cid == DEPTH3_V1


def test_one_chunk_is_a_single_raw_block() -> None:
    # Execute
    root, blocks = _blocks(content(CHUNK_SIZE))

    # Assert
    assert root.codec == RAW
    assert blocks == {root: content(CHUNK_SIZE)}


def test_one_byte_over_a_chunk_gives_a_root_with_two_raw_leaves() -> None:
    # Prepare
    data = content(CHUNK_SIZE + 1)

    # Execute
    root, blocks = _blocks(data)

    # Assert
    node = decode_node(blocks[root])
    unixfs = decode_unixfs(node.data or b"")
    leaves = [Cid.from_bytes(link.cid) for link in node.links]
    assert root.codec == DAG_PB and len(blocks) == 3
    assert [leaf.codec for leaf in leaves] == [RAW, RAW]
    assert [blocks[leaf] for leaf in leaves] == [data[:CHUNK_SIZE], data[CHUNK_SIZE:]]
    assert [link.tsize for link in node.links] == [CHUNK_SIZE, 1]
    assert (unixfs.filesize, unixfs.blocksizes) == (CHUNK_SIZE + 1, (CHUNK_SIZE, 1))


def test_174_chunks_fit_one_node_and_175_need_a_second_level() -> None:
    # Execute
    root174, blocks174 = _blocks(content(174 * CHUNK_SIZE))
    root175, blocks175 = _blocks(content(175 * CHUNK_SIZE))

    # Assert
    assert len(decode_node(blocks174[root174]).links) == 174
    assert len(blocks174) == 175
    top = decode_node(blocks175[root175])
    children = [decode_node(blocks175[Cid.from_bytes(link.cid)]) for link in top.links]
    assert [len(child.links) for child in children] == [174, 1]
    assert len(blocks175) == 175 + 2 + 1
    assert decode_unixfs(top.data or b"").blocksizes == (174 * CHUNK_SIZE, CHUNK_SIZE)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=3 * CHUNK_SIZE + 77), max_size=8))
def test_any_split_of_the_input_gives_the_same_cid(cuts: list[int]) -> None:
    # Prepare
    data = content(3 * CHUNK_SIZE + 77)
    bounds = [0, *sorted(cuts), len(data)]

    # Execute
    hasher = CidHasher()
    for start, end in itertools.pairwise(bounds):
        hasher.update(data[start:end])

    # Assert
    assert hasher.size == len(data)
    assert str(hasher.finish()) == compute_cid(data)


def test_hash_stream_reads_any_binary_stream_and_reports_progress() -> None:
    # Prepare
    data = content(CHUNK_SIZE * 5 + 3)

    class ReadOnly:
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def read(self, size: int) -> bytes:
            return self.inner.read(size)

    seen: list[int] = []

    # Execute
    from_readinto = hash_stream(io.BytesIO(data), progress=seen.append)
    from_read = hash_stream(ReadOnly())  # type: ignore[arg-type]

    # Assert
    assert str(from_readinto) == str(from_read) == compute_cid(data)
    assert sum(seen) == len(data)


def test_cid_of_file_streams_from_disk(tmp_path: Path) -> None:
    # Prepare
    size, expected, _ = EDGE["175_chunks"]
    path = tmp_path / "update.bin"
    path.write_bytes(content(size))

    # Execute
    cid = cid_of_file(path)

    # Assert
    assert cid == expected


def test_hash_chunks_concatenates_pieces() -> None:
    assert str(hash_chunks([b"he", b"", b"llo"])) == REFERENCE["hello_v1"][2]


def test_builder_counts_blocks_and_refuses_chunks_after_finish() -> None:
    # Prepare
    builder = DagBuilder()
    builder.add_chunk(b"a" * CHUNK_SIZE)
    builder.add_chunk(b"b")

    # Execute
    root = builder.finish()

    # Assert
    assert builder.finish() == root
    assert (builder.size, builder.block_count) == (CHUNK_SIZE + 1, 3)
    with pytest.raises(RuntimeError, match="add_chunk after finish"):
        builder.add_chunk(b"c")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cid_version": 2}, "cid_version must be 0 or 1, not 2"),
        ({"chunk_size": 0}, "chunk_size must be positive, not 0"),
        ({"max_links": 1}, "max_links must be at least 2, not 1"),
    ],
)
def test_layout_refuses_impossible_parameters(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Layout(**kwargs)


@pytest.mark.parametrize(
    ("size", "chunks", "depth"),
    [
        (0, 1, 0),
        (1, 1, 0),
        (CHUNK_SIZE, 1, 0),
        (CHUNK_SIZE + 1, 2, 1),
        (174 * CHUNK_SIZE, 174, 1),
        (174 * CHUNK_SIZE + 1, 175, 2),
        (174 * 174 * CHUNK_SIZE, 174 * 174, 2),
        (174 * 174 * CHUNK_SIZE + 1, 174 * 174 + 1, 3),
    ],
)
def test_layout_chunk_count_and_depth(size: int, chunks: int, depth: int) -> None:
    assert KUBO_V1.chunk_count(size) == chunks
    assert KUBO_V1.depth_for(chunks) == depth
