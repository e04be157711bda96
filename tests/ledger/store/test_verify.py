"""Verified reads: every way a DAG can lie is refused, naming the content's CID."""

from __future__ import annotations

import hashlib

import pytest

from ledger.store.builder import CHUNK_SIZE, KUBO_V0, KUBO_V1, CidHasher, Layout, compute_cid
from ledger.store.cid import DAG_PB, RAW, Cid
from ledger.store.errors import ContentNotFound, ContentTooLarge, IntegrityError, InvalidCid
from ledger.store.unixfs import encode_file_data, encode_node
from ledger.store.verify import VerifiedReader, verify

from .content import content
from .vectors import EMPTY_V1, HELLO_V0, HELLO_V1


class Blocks:
    """An in-memory block source that counts what it was asked for."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}
        self.fetched: list[Cid] = []

    def add(self, data: bytes, layout: Layout = KUBO_V1) -> Cid:
        hasher = CidHasher(layout, sink=self.put)
        hasher.update(data)
        return hasher.finish()

    def put(self, cid: Cid, block: bytes | bytearray | memoryview) -> None:
        self.blocks[cid.multihash] = bytes(block)

    def raw(self, block: bytes) -> Cid:
        cid = Cid.v1(RAW, hashlib.sha256(block).digest())
        self.put(cid, block)
        return cid

    def node(
        self,
        links: list[tuple[Cid, int, int]],
        filesize: int | None = None,
        inline: bytes | None = None,
    ) -> Cid:
        """A dag-pb File node over (child, tsize, content size) links."""
        sizes = [size for _, _, size in links]
        data = encode_file_data(sum(sizes) if filesize is None else filesize, sizes, inline)
        block = encode_node([(child.to_bytes(), tsize) for child, tsize, _ in links], data)
        return self.dag_pb(block)

    def dag_pb(self, block: bytes) -> Cid:
        cid = Cid.v1(DAG_PB, hashlib.sha256(block).digest())
        self.put(cid, block)
        return cid

    def __call__(self, cid: Cid, limit: int) -> bytes:
        self.fetched.append(cid)
        try:
            return self.blocks[cid.multihash][: limit + 1]
        except KeyError:
            raise ContentNotFound(f"{cid} is not in the test blocks") from None


def _read(cid: Cid | str, source: Blocks, max_size: int | None = None) -> bytes:
    return b"".join(VerifiedReader(cid, source, max_size))


# -- verify(cid, data) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cid", "data"), [(HELLO_V1, b"hello"), (EMPTY_V1, b""), (HELLO_V0, b"hello")]
)
def test_verify_accepts_the_exact_bytes(cid: str, data: bytes) -> None:
    verify(cid, data)


def test_verify_names_both_cids_on_mismatch() -> None:
    # Prepare
    other = compute_cid(b"hellO")

    # Execute / Assert
    with pytest.raises(IntegrityError) as caught:
        verify(HELLO_V1, b"hellO")
    assert str(caught.value) == (
        f"content does not match CID {HELLO_V1}: its 5 bytes have CID {other}"
    )


def test_verify_refuses_a_cid_it_cannot_read() -> None:
    with pytest.raises(InvalidCid, match="'not-a-cid' is not a CID"):
        verify("not-a-cid", b"hello")


# -- honest content ------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5])
def test_reader_returns_exactly_the_content(size: int) -> None:
    # Prepare
    source = Blocks()
    data = content(size)
    cid = source.add(data)

    # Execute
    reader = VerifiedReader(cid, source)
    out = b"".join(reader)

    # Assert
    assert out == data
    assert reader.size == size


def test_reader_reads_legacy_cidv0_content() -> None:
    # Prepare
    source = Blocks()
    data = content(2 * CHUNK_SIZE + 9)
    cid = source.add(data, KUBO_V0)

    # Execute
    out = _read(cid, source)

    # Assert
    assert cid.version == 0
    assert out == data


# -- size limits ---------------------------------------------------------------


def test_content_over_max_size_is_refused_after_reading_only_the_root() -> None:
    # Prepare
    source = Blocks()
    cid = source.add(content(5 * CHUNK_SIZE))

    # Execute
    with pytest.raises(ContentTooLarge) as caught:
        VerifiedReader(cid, source, max_size=5 * CHUNK_SIZE - 1)

    # Assert
    assert source.fetched == [cid]
    assert str(caught.value) == (
        f"content {cid} is {5 * CHUNK_SIZE} bytes, over the limit of {5 * CHUNK_SIZE - 1} "
        "bytes: refused before reading it all"
    )


def test_content_exactly_at_max_size_is_accepted() -> None:
    # Prepare
    source = Blocks()
    data = content(CHUNK_SIZE + 10)
    cid = source.add(data)

    # Execute / Assert
    assert _read(cid, source, max_size=len(data)) == data


def test_single_raw_block_over_max_size_is_refused() -> None:
    # Prepare
    source = Blocks()
    cid = source.raw(b"x" * 100)

    # Execute / Assert
    with pytest.raises(ContentTooLarge, match=f"content {cid} is 100 bytes, over the limit of 99"):
        VerifiedReader(cid, source, max_size=99)


def test_negative_max_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_size must be >= 0, not -1"):
        VerifiedReader(HELLO_V1, Blocks(), max_size=-1)


def test_node_understating_a_leaf_is_caught_before_the_leaf_is_yielded() -> None:
    # Prepare: root announces 1 byte for its second leaf, which holds 5
    source = Blocks()
    full, five = source.raw(content(CHUNK_SIZE)), source.raw(b"12345")
    root = source.node([(full, CHUNK_SIZE, CHUNK_SIZE), (five, 5, 1)])
    reader = VerifiedReader(root, source, max_size=CHUNK_SIZE + 1)
    next(reader)

    # Execute / Assert
    with pytest.raises(
        IntegrityError,
        match=f"content {root}: leaf {five} holds 5 bytes where its parent announced 1",
    ):
        next(reader)


def test_node_whose_child_sizes_do_not_add_up_is_refused() -> None:
    # Prepare: root claims 2 chunks' worth in total but lists a full chunk and 1 byte
    source = Blocks()
    full, one = source.raw(content(CHUNK_SIZE)), source.raw(b"z")
    block = encode_node(
        [(full.to_bytes(), CHUNK_SIZE), (one.to_bytes(), 1)],
        encode_file_data(2 * CHUNK_SIZE, [CHUNK_SIZE, 1]),
    )
    root = source.dag_pb(block)

    # Execute / Assert
    with pytest.raises(
        IntegrityError,
        match=f"content {root}: node {root} lists 2 child sizes "
        f"summing to {CHUNK_SIZE + 1} for 2 links and {2 * CHUNK_SIZE} bytes",
    ):
        _read(root, source)


# -- corrupt, missing, oversized blocks ---------------------------------------


def test_corrupt_leaf_is_refused_naming_block_and_content() -> None:
    # Prepare
    source = Blocks()
    data = content(3 * CHUNK_SIZE)
    cid = source.add(data)
    second = Cid.v1(RAW, hashlib.sha256(data[CHUNK_SIZE : 2 * CHUNK_SIZE]).digest())
    tampered = bytearray(source.blocks[second.multihash])
    tampered[100] ^= 0xFF
    source.blocks[second.multihash] = bytes(tampered)
    reader = VerifiedReader(cid, source)

    # Execute
    first_piece = next(reader)
    with pytest.raises(IntegrityError) as caught:
        next(reader)

    # Assert
    assert first_piece == data[:CHUNK_SIZE]
    assert str(caught.value) == (
        f"block {second} (part of content {cid}) is corrupt: its {CHUNK_SIZE} bytes do not "
        "hash to its CID"
    )


def test_truncated_root_block_is_refused() -> None:
    # Prepare
    source = Blocks()
    cid = source.add(content(CHUNK_SIZE * 2))
    source.blocks[cid.multihash] = source.blocks[cid.multihash][:-3]

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"block {cid} is corrupt"):
        VerifiedReader(cid, source)


def test_unknown_cid_raises_content_not_found_before_iteration() -> None:
    with pytest.raises(ContentNotFound, match=f"{HELLO_V1} is not in the test blocks"):
        VerifiedReader(HELLO_V1, Blocks())


def test_missing_leaf_names_the_incomplete_content() -> None:
    # Prepare
    source = Blocks()
    data = content(2 * CHUNK_SIZE)
    cid = source.add(data)
    leaf = Cid.v1(RAW, hashlib.sha256(data[CHUNK_SIZE:]).digest())
    del source.blocks[leaf.multihash]

    # Execute / Assert
    with pytest.raises(ContentNotFound) as caught:
        _read(cid, source)
    assert str(caught.value) == (f"content {cid} is incomplete: {leaf} is not in the test blocks")


def test_block_larger_than_any_chunk_is_refused_unread() -> None:
    # Prepare
    source = Blocks()
    cid = source.raw(b"x" * (CHUNK_SIZE + 70_000))

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"block {cid} is over {CHUNK_SIZE + 65536} bytes"):
        VerifiedReader(cid, source)


# -- DAGs that hash correctly but are not what `ipfs add` builds ----------------


def test_raw_block_bigger_than_a_chunk_is_not_an_ipfs_add_cid() -> None:
    # Prepare
    source = Blocks()
    cid = source.raw(b"y" * (CHUNK_SIZE + 1))

    # Execute / Assert
    with pytest.raises(
        IntegrityError,
        match=f"content {cid} is one raw block of "
        f"{CHUNK_SIZE + 1} bytes; `ipfs add` cuts content into",
    ):
        VerifiedReader(cid, source)


def test_content_chunked_at_another_size_is_refused() -> None:
    # Prepare: same balanced layout, 128 KiB chunks
    source = Blocks()
    cid = source.add(content(300_000), Layout(1, chunk_size=131072))

    # Execute / Assert
    with pytest.raises(IntegrityError, match="a chunk shorter than 262144 bytes precedes leaf"):
        _read(cid, source)


def test_node_with_more_than_174_links_is_refused() -> None:
    # Prepare
    source = Blocks()
    leaf = source.raw(content(CHUNK_SIZE))
    root = source.node([(leaf, CHUNK_SIZE, CHUNK_SIZE)] * 175)

    # Execute / Assert
    with pytest.raises(
        IntegrityError, match=f"node {root} has 175 links; `ipfs add` puts at most 174"
    ):
        _read(root, source)


def test_needlessly_deep_tree_is_refused() -> None:
    # Prepare: two chunks belong directly under the root; here they hang one level lower
    source = Blocks()
    a, b = source.raw(content(CHUNK_SIZE)), source.raw(b"b")
    middle = source.node([(a, CHUNK_SIZE, CHUNK_SIZE), (b, 1, 1)])
    root = source.node([(middle, 10, CHUNK_SIZE + 1)])

    # Execute / Assert
    with pytest.raises(
        IntegrityError,
        match=f"node {middle} at depth 1 has links, but the leaves of a "
        f"{CHUNK_SIZE + 1}-byte file sit at depth 1",
    ):
        _read(root, source)


def test_dag_pb_leaf_under_a_raw_leaves_cid_is_refused() -> None:
    # Prepare
    source = Blocks()
    leaf = source.dag_pb(encode_node([], encode_file_data(5, data=b"hello")))
    full = source.raw(content(CHUNK_SIZE))
    root = source.node([(full, CHUNK_SIZE, CHUNK_SIZE), (leaf, 13, 5)])

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"leaf {leaf} is a dag-pb node"):
        _read(root, source)


def test_raw_leaf_under_a_cidv0_root_is_refused() -> None:
    # Prepare
    source = Blocks()
    a, b = source.raw(content(CHUNK_SIZE)), source.raw(b"b")
    block = encode_node(
        [(a.to_bytes(), CHUNK_SIZE), (b.to_bytes(), 1)],
        encode_file_data(CHUNK_SIZE + 1, [CHUNK_SIZE, 1]),
    )
    root = Cid(0, DAG_PB, hashlib.sha256(block).digest())
    source.put(root, block)

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"raw leaf {a} inside a CIDv0 DAG"):
        _read(root, source)


def test_wrong_link_size_is_caught_by_the_final_cid_recomputation() -> None:
    # Prepare: structure and sizes right, but a link's Tsize is off by one
    source = Blocks()
    data = content(CHUNK_SIZE + 1)
    a, b = source.raw(data[:CHUNK_SIZE]), source.raw(data[CHUNK_SIZE:])
    forged = source.node([(a, CHUNK_SIZE, CHUNK_SIZE), (b, 2, 1)])
    reader = VerifiedReader(forged, source)

    # Execute
    pieces = [next(reader), next(reader)]
    with pytest.raises(IntegrityError) as caught:
        next(reader)

    # Assert
    assert b"".join(pieces) == data
    assert str(caught.value) == (
        f"content {forged} is not laid out the way `ipfs add` lays out its bytes (they give "
        f"CID {compute_cid(data)}): refused"
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\x12\x85", "is not a UnixFS node: dag-pb node: truncated varint"),
        (encode_node([], b""), "is not a UnixFS node: UnixFS data: no Type"),
        (b"", "is not a UnixFS node: no Data field"),
        (encode_node([], b"\x08\x01"), "is a UnixFS Directory, not a file"),
    ],
)
def test_root_that_is_not_a_unixfs_file_is_refused(block: bytes, message: str) -> None:
    # Prepare
    source = Blocks()
    root = source.dag_pb(block)

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"content {root}: block {root} {message}"):
        VerifiedReader(root, source)


def test_internal_node_with_inline_data_is_refused() -> None:
    # Prepare
    source = Blocks()
    a, b = source.raw(content(CHUNK_SIZE)), source.raw(b"b")
    root = source.node([(a, CHUNK_SIZE, CHUNK_SIZE), (b, 1, 1)], inline=b"extra")

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"internal node {root} carries inline data"):
        _read(root, source)


def test_child_announced_with_zero_bytes_is_refused() -> None:
    # Prepare
    source = Blocks()
    a, b, empty = source.raw(content(CHUNK_SIZE)), source.raw(b"b"), source.raw(b"")
    root = source.node([(a, CHUNK_SIZE, CHUNK_SIZE), (b, 1, 1), (empty, 0, 0)])

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"node {root} links an empty child {empty}"):
        _read(root, source)


def test_link_with_a_foreign_cid_is_refused() -> None:
    # Prepare
    source = Blocks()
    bogus = b"\x01\x71\x12\x20" + bytes(32)
    tail = source.raw(b"t")
    block = encode_node(
        [(bogus, CHUNK_SIZE), (tail.to_bytes(), 1)],
        encode_file_data(CHUNK_SIZE + 1, [CHUNK_SIZE, 1]),
    )
    root = source.dag_pb(block)

    # Execute / Assert
    with pytest.raises(IntegrityError, match=f"node {root} has a bad link: binary CID"):
        _read(root, source)
