"""dag-pb / UnixFS wire format: Kubo's exact bytes out, hostile bytes refused by name."""

from __future__ import annotations

import pytest

from ledger.errors import FormatError
from ledger.store.unixfs import (
    UNIXFS_FILE,
    PBLink,
    decode_node,
    decode_unixfs,
    encode_file_data,
    encode_link,
    encode_node,
    varint,
)

LEAF_CID = b"\x01\x55\x12\x20" + bytes(range(32))


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (262144, b"\x80\x80\x10"),
        (2**63, b"\x80" * 9 + b"\x01"),
    ],
)
def test_varint_is_unsigned_leb128(value: int, encoded: bytes) -> None:
    assert varint(value) == encoded


def test_cidv0_leaf_data_matches_kubo_bytes() -> None:
    # Execute
    data = encode_file_data(5, data=b"hello")

    # Assert: Type=File, Data="hello", filesize=5
    assert data == b"\x08\x02\x12\x05hello\x18\x05"


def test_empty_leaf_data_omits_the_data_field() -> None:
    assert encode_file_data(0, data=b"") == b"\x08\x02\x18\x00"


def test_internal_node_data_lists_unpacked_blocksizes() -> None:
    # Execute
    data = encode_file_data(262145, [262144, 1])

    # Assert
    assert data == b"\x08\x02\x18\x81\x80\x10\x20\x80\x80\x10\x20\x01"


def test_link_is_hash_then_empty_name_then_tsize() -> None:
    # Execute
    link = encode_link(LEAF_CID, 262144)

    # Assert
    assert link == b"\x12\x2c\x0a\x24" + LEAF_CID + b"\x12\x00\x18\x80\x80\x10"


def test_node_puts_links_before_data_and_decodes_back() -> None:
    # Prepare
    data = encode_file_data(3, [1, 2])

    # Execute
    block = encode_node([(LEAF_CID, 1), (LEAF_CID, 2)], data)
    node = decode_node(block)

    # Assert
    assert block.startswith(b"\x12") and block.endswith(b"\x0a" + bytes([len(data)]) + data)
    assert node.links == (PBLink(LEAF_CID, "", 1), PBLink(LEAF_CID, "", 2))
    assert node.data == data
    unixfs = decode_unixfs(data)
    assert (unixfs.type, unixfs.filesize, unixfs.blocksizes, unixfs.data) == (
        UNIXFS_FILE,
        3,
        (1, 2),
        None,
    )


def test_decode_unixfs_accepts_packed_blocksizes_and_skips_metadata_fields() -> None:
    # Prepare: type, filesize, packed blocksizes [1, 2], mode (field 7)
    raw = b"\x08\x02\x18\x03\x22\x02\x01\x02\x38\xa4\x03"

    # Execute
    unixfs = decode_unixfs(raw)

    # Assert
    assert (unixfs.type, unixfs.filesize, unixfs.blocksizes) == (UNIXFS_FILE, 3, (1, 2))
    assert unixfs.type_name == "File"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\x12\x85", "dag-pb node: truncated varint"),
        (b"\x12\x05ab", r"dag-pb node: field of 5 bytes runs past the end \(2 left\)"),
        (b"\x0a\x00\x12\x00", "dag-pb node: a link follows the Data field"),
        (b"\x0a\x00\x0a\x00", "dag-pb node: Data field repeated"),
        (b"\x18\x01", r"dag-pb node: unexpected field 3 \(wire type 0\)"),
        (b"\x12\x02\x18\x01", "dag-pb link: no Hash"),
        (b"\x12\x04\x12\x00\x0a\x00", "dag-pb link: field 1 out of order or repeated"),
        (b"\x12\x06\x0a\x00\x12\x02\xff\xfe", "dag-pb link: Name is not UTF-8"),
        (b"\x12\x03\x0a\x00\x20", r"dag-pb link: unexpected field 4 \(wire type 0\)"),
        (b"\x12" + b"\xff" * 10 + b"\x01", "dag-pb node: varint longer than 10 bytes"),
    ],
)
def test_decode_node_refuses_malformed_blocks_by_name(block: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        decode_node(block)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x18\x05", "UnixFS data: no Type"),
        (b"\x0a\x01\x02", "UnixFS data: field 1 has wire type 2"),
        (b"\x08\x02\x1a\x00", "UnixFS data: field 3 has wire type 2"),
        (b"\x08\x02\x3b", "UnixFS data: field 7 has invalid wire type 3"),
        (b"\x08\x02\x22\x03\x01", r"UnixFS data: field of 3 bytes runs past the end"),
        (b"\x08\x02\x49\x00", "UnixFS data: field 9 truncated"),
    ],
)
def test_decode_unixfs_refuses_malformed_messages_by_name(raw: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        decode_unixfs(raw)
