"""Content identifiers (CIDs): the binary value type, and its string forms.

A CID names content by its hash; fedledger records CIDs on chain and refuses
any bytes that do not hash to them. Internally a CID is kept in binary form
(version, codec, sha2-256 digest) because hashing hot paths create thousands of
them; `multiformats` is used at the boundary, to read any multibase string a
user or daemon hands us (js-ipfs answers in base58btc) and to write legacy
base58btc CIDv0. The canonical CIDv1 form, base32, is written with the standard
library (multiformats' own encoder spends about a millisecond per call on type
checks; `test_cid.py` holds the two to the same output).

Only sha2-256 CIDs with the `raw` or `dag-pb` codec name UnixFS files the way
`ipfs add` writes them; anything else is refused as `InvalidCid`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Final

from multiformats import CID as _MfCid
from multiformats import multibase

from ledger.store.errors import InvalidCid

RAW: Final = 0x55
"""Multicodec of a raw block: the block is the file's bytes (a leaf)."""
DAG_PB: Final = 0x70
"""Multicodec of a dag-pb block: a protobuf node holding links and UnixFS data."""
SHA2_256: Final = 0x12
"""Multihash code of sha2-256, the only hash `ipfs add` uses by default."""
DIGEST_SIZE: Final = 32

_CODEC_NAMES: Final = {RAW: "raw", DAG_PB: "dag-pb"}
_MULTIHASH_PREFIX: Final = bytes((SHA2_256, DIGEST_SIZE))


@dataclass(frozen=True, slots=True)
class Cid:
    """A sha2-256 CID of a raw or dag-pb block.

    Parameters
    ----------
    version
        0 (legacy `Qm...`, always dag-pb) or 1.
    codec
        `RAW` or `DAG_PB`.
    digest
        The 32-byte sha2-256 digest of the block's bytes.
    """

    version: int
    codec: int
    digest: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InvalidCid(f"CID version {self.version} does not exist (expected 0 or 1)")
        if self.codec not in _CODEC_NAMES:
            raise InvalidCid(
                f"codec 0x{self.codec:x} is not a UnixFS block codec (expected raw or dag-pb)"
            )
        if self.version == 0 and self.codec != DAG_PB:
            raise InvalidCid("a CIDv0 always names a dag-pb block")
        if len(self.digest) != DIGEST_SIZE:
            raise InvalidCid(f"a sha2-256 digest has 32 bytes, not {len(self.digest)}")

    @classmethod
    def v1(cls, codec: int, digest: bytes) -> Cid:
        """Build a CIDv1 without re-validating (hot path: the digest came from hashlib)."""
        cid = object.__new__(cls)
        object.__setattr__(cid, "version", 1)
        object.__setattr__(cid, "codec", codec)
        object.__setattr__(cid, "digest", digest)
        return cid

    @property
    def multihash(self) -> bytes:
        """The multihash (`0x12 0x20 || digest`): the key blocks are stored under."""
        return _MULTIHASH_PREFIX + self.digest

    @property
    def codec_name(self) -> str:
        """`raw` or `dag-pb`."""
        return _CODEC_NAMES[self.codec]

    def to_bytes(self) -> bytes:
        """Binary CID, as written inside dag-pb links."""
        if self.version == 0:
            return self.multihash
        return bytes((1, self.codec)) + self.multihash

    def to_v1(self) -> Cid:
        """The same block named by a CIDv1 (a CIDv0 is dag-pb by definition)."""
        return self if self.version == 1 else Cid.v1(self.codec, self.digest)

    def __str__(self) -> str:
        if self.version == 0:
            return multibase.encode(self.multihash, "base58btc")[1:]
        # RFC 4648 base32, lower case, unpadded, behind the multibase prefix 'b': what
        # multiformats writes too, without its ~1 ms of per-call type checking.
        return "b" + base64.b32encode(self.to_bytes()).decode("ascii").lower().rstrip("=")

    def __repr__(self) -> str:
        return f"Cid({str(self)!r})"

    @classmethod
    def from_bytes(cls, raw: bytes) -> Cid:
        """Decode a binary CID as found in a dag-pb link; refuse anything but sha2-256."""
        if len(raw) == 34 and raw[:2] == _MULTIHASH_PREFIX:
            return cls(0, DAG_PB, bytes(raw[2:]))
        if len(raw) == 36 and raw[0] == 1 and raw[2:4] == _MULTIHASH_PREFIX:
            if raw[1] not in _CODEC_NAMES:
                raise InvalidCid(
                    f"binary CID {raw.hex()} has codec 0x{raw[1]:x}, not raw or dag-pb"
                )
            return cls.v1(raw[1], bytes(raw[4:]))
        raise InvalidCid(
            f"binary CID {raw.hex()} is not a sha2-256 CIDv0/CIDv1 of a raw or dag-pb block"
        )

    @classmethod
    def parse(cls, text: str | Cid) -> Cid:
        """Read a CID string in any multibase (or a legacy base58 `Qm...` CIDv0).

        Raises
        ------
        InvalidCid
            The text is not a CID, or names something other than a sha2-256
            raw/dag-pb block.
        """
        if isinstance(text, Cid):
            return text
        if not isinstance(text, str):
            raise InvalidCid(f"a CID must be a string, not {type(text).__name__}")
        stripped = text.strip()
        if not stripped:
            raise InvalidCid("empty CID")
        fast = _parse_canonical_v1(stripped)
        if fast is not None:
            return fast
        try:
            parsed = _MfCid.decode(stripped)
        except Exception as exc:  # multiformats raises a zoo of KeyError/ValueError types
            raise InvalidCid(f"{stripped!r} is not a CID: {exc}") from exc
        if parsed.hashfun.code != SHA2_256 or len(parsed.raw_digest) != DIGEST_SIZE:
            raise InvalidCid(
                f"CID {stripped} uses hash {parsed.hashfun.name}; fedledger only accepts sha2-256"
            )
        if parsed.codec.code not in _CODEC_NAMES:
            raise InvalidCid(
                f"CID {stripped} has codec {parsed.codec.name}; "
                "a UnixFS file is made of raw and dag-pb blocks"
            )
        return cls(int(parsed.version), int(parsed.codec.code), bytes(parsed.raw_digest))


_BASE32_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def _parse_canonical_v1(text: str) -> Cid | None:
    """A canonical base32 CIDv1 string (what this module writes) decoded with the stdlib.

    multiformats spends ~2.5 ms per decode on type checks; an aggregator parses every revealed
    update's and proof's CID. Only a string that re-encodes to itself exactly is taken here,
    so whatever this accepts the general path accepts as the same CID; anything else (other
    bases, CIDv0, odd padding bits, refused codecs) goes to the general path and its messages.
    """
    body = text[1:]
    if not text.startswith("b") or not body or not _BASE32_LOWER.issuperset(body):
        return None
    try:
        raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
        cid = Cid.from_bytes(raw)
    except (ValueError, InvalidCid):
        return None
    if cid.version != 1 or str(cid) != text:
        return None
    return cid


def normalize_cid(text: str | Cid) -> str:
    """Return the canonical string of a CID: base32 for CIDv1, base58btc for CIDv0.

    js-ipfs answers with base58btc CIDv1 strings (`zb2...`, `zdj7...`); Kubo with
    base32. Normalising means both sides of every comparison agree.
    """
    return str(Cid.parse(text))
