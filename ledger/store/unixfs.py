"""dag-pb nodes and UnixFS file metadata: a small protobuf encoder and a strict decoder.

A multi-chunk file in IPFS is a tree of dag-pb nodes whose `Data` is a UnixFS
message (type File, total size, one size per child). Reproducing Kubo's CIDs
means reproducing these bytes exactly, so the encoder writes only what Kubo
writes, in Kubo's field order:

    PBNode  = Links (field 2, repeated PBLink) then Data (field 1)
    PBLink  = Hash (1, binary CID), Name (2, always present, empty), Tsize (3)
    UnixFS  = Type (1) = File, Data (2) for CIDv0 leaves only, filesize (3),
              blocksizes (4, repeated, unpacked)

The decoder reads what a daemon or a disk hands back, which is hostile until the
surrounding DAG has been re-derived: it accepts only well-formed protobuf in the
dag-pb field order and raises `FormatError` naming what is wrong, never an
IndexError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ledger.errors import FormatError

UNIXFS_RAW: Final = 0
UNIXFS_DIRECTORY: Final = 1
UNIXFS_FILE: Final = 2
_TYPE_NAMES: Final = {
    0: "Raw",
    1: "Directory",
    2: "File",
    3: "Metadata",
    4: "Symlink",
    5: "HAMTShard",
}

_VARINT_CACHE: Final = tuple(bytes((n,)) for n in range(128))
_MAX_UINT64: Final = (1 << 64) - 1


def varint(value: int) -> bytes:
    """Unsigned LEB128, as protobuf and multiformats write integers."""
    if value < 128:
        return _VARINT_CACHE[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + varint(len(payload)) + payload


def encode_file_data(
    filesize: int,
    blocksizes: Sequence[int] = (),
    data: bytes | bytearray | memoryview | None = None,
) -> bytes:
    """UnixFS `Data` message of a File node.

    Parameters
    ----------
    filesize
        Bytes of file content under this node.
    blocksizes
        Content bytes under each child, in link order (internal nodes only).
    data
        Inline content (a CIDv0 leaf); omitted when empty, as Kubo does.
    """
    parts = [b"\x08\x02"]
    if data is not None and len(data):
        parts.append(b"\x12" + varint(len(data)))
        parts.append(bytes(data))
    parts.append(b"\x18" + varint(filesize))
    parts.extend(b"\x20" + varint(size) for size in blocksizes)
    return b"".join(parts)


def encode_link(cid: bytes, tsize: int) -> bytes:
    """One PBLink (unnamed, as a file's chunks are), framed as PBNode field 2."""
    body = b"\x0a" + varint(len(cid)) + cid + b"\x12\x00\x18" + varint(tsize)
    return b"\x12" + varint(len(body)) + body


def encode_node(links: Sequence[tuple[bytes, int]], data: bytes) -> bytes:
    """A dag-pb PBNode: every link (binary CID, Tsize), then the UnixFS data."""
    return b"".join(encode_link(cid, tsize) for cid, tsize in links) + _field(0x0A, data)


@dataclass(frozen=True, slots=True)
class PBLink:
    """A decoded dag-pb link: the child's binary CID, name and cumulative size."""

    cid: bytes
    name: str | None
    tsize: int | None


@dataclass(frozen=True, slots=True)
class PBNode:
    """A decoded dag-pb node."""

    links: tuple[PBLink, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """A decoded UnixFS `Data` message (the fields a file uses)."""

    type: int
    data: bytes | None
    filesize: int | None
    blocksizes: tuple[int, ...]

    @property
    def type_name(self) -> str:
        """Human name of the UnixFS type, for error messages."""
        return _TYPE_NAMES.get(self.type, f"unknown type {self.type}")


class _Reader:
    """Cursor over protobuf wire bytes that raises `FormatError` on any overrun."""

    __slots__ = ("buf", "end", "pos", "what")

    def __init__(self, buf: bytes | memoryview, what: str) -> None:
        self.buf = buf
        self.pos = 0
        self.end = len(buf)
        self.what = what

    def done(self) -> bool:
        return self.pos >= self.end

    def varint(self) -> int:
        result = 0
        shift = 0
        while True:
            if self.pos >= self.end:
                raise FormatError(f"{self.what}: truncated varint")
            byte = self.buf[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift >= 64:
                raise FormatError(f"{self.what}: varint longer than 10 bytes")
        if result > _MAX_UINT64:
            raise FormatError(f"{self.what}: varint overflows 64 bits")
        return result

    def key(self) -> tuple[int, int]:
        key = self.varint()
        return key >> 3, key & 7

    def length_delimited(self) -> bytes:
        length = self.varint()
        if length > self.end - self.pos:
            raise FormatError(
                f"{self.what}: field of {length} bytes runs past the end "
                f"({self.end - self.pos} left)"
            )
        start = self.pos
        self.pos += length
        return bytes(self.buf[start : self.pos])

    def skip(self, wire: int, field: int) -> None:
        if wire == 0:
            self.varint()
        elif wire == 2:
            self.length_delimited()
        elif wire == 1:
            self._advance(8, field)
        elif wire == 5:
            self._advance(4, field)
        else:
            raise FormatError(f"{self.what}: field {field} has invalid wire type {wire}")

    def _advance(self, count: int, field: int) -> None:
        if self.end - self.pos < count:
            raise FormatError(f"{self.what}: field {field} truncated")
        self.pos += count


def decode_node(block: bytes | memoryview) -> PBNode:
    """Decode a dag-pb block strictly (links first, then at most one Data field).

    Raises
    ------
    FormatError
        The bytes are not a dag-pb node.
    """
    reader = _Reader(block, "dag-pb node")
    links: list[PBLink] = []
    data: bytes | None = None
    while not reader.done():
        field, wire = reader.key()
        if field == 2 and wire == 2:
            if data is not None:
                raise FormatError("dag-pb node: a link follows the Data field")
            links.append(_decode_link(reader.length_delimited()))
        elif field == 1 and wire == 2:
            if data is not None:
                raise FormatError("dag-pb node: Data field repeated")
            data = reader.length_delimited()
        else:
            raise FormatError(f"dag-pb node: unexpected field {field} (wire type {wire})")
    return PBNode(tuple(links), data)


def _decode_link(raw: bytes) -> PBLink:
    reader = _Reader(raw, "dag-pb link")
    cid: bytes | None = None
    name: str | None = None
    tsize: int | None = None
    last = 0
    while not reader.done():
        field, wire = reader.key()
        if field <= last:
            raise FormatError(f"dag-pb link: field {field} out of order or repeated")
        last = field
        if field == 1 and wire == 2:
            cid = reader.length_delimited()
        elif field == 2 and wire == 2:
            try:
                name = reader.length_delimited().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError("dag-pb link: Name is not UTF-8") from exc
        elif field == 3 and wire == 0:
            tsize = reader.varint()
        else:
            raise FormatError(f"dag-pb link: unexpected field {field} (wire type {wire})")
    if cid is None:
        raise FormatError("dag-pb link: no Hash")
    return PBLink(cid, name, tsize)


def decode_unixfs(raw: bytes | memoryview) -> UnixFSData:
    """Decode a UnixFS `Data` message; mode, mtime and HAMT fields are skipped.

    Raises
    ------
    FormatError
        The bytes are not a UnixFS message.
    """
    reader = _Reader(raw, "UnixFS data")
    node_type: int | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    while not reader.done():
        field, wire = reader.key()
        if field == 1 and wire == 0:
            node_type = reader.varint()
        elif field == 2 and wire == 2:
            data = reader.length_delimited()
        elif field == 3 and wire == 0:
            filesize = reader.varint()
        elif field == 4 and wire == 0:
            blocksizes.append(reader.varint())
        elif field == 4 and wire == 2:
            packed = _Reader(reader.length_delimited(), "UnixFS blocksizes")
            while not packed.done():
                blocksizes.append(packed.varint())
        elif field in (1, 2, 3, 4):
            raise FormatError(f"UnixFS data: field {field} has wire type {wire}")
        else:
            reader.skip(wire, field)
    if node_type is None:
        raise FormatError("UnixFS data: no Type")
    return UnixFSData(node_type, data, filesize, tuple(blocksizes))
