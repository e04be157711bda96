"""CID value type: parsing any multibase, canonical string forms, refusing foreign CIDs."""

from __future__ import annotations

import hashlib

import pytest
from multiformats import CID as MfCid
from multiformats import multihash

from ledger.store.cid import DAG_PB, RAW, Cid, normalize_cid
from ledger.store.errors import InvalidCid

from .vectors import HELLO_V0, HELLO_V1

HELLO_DIGEST = hashlib.sha256(b"hello").digest()
HELLO_V1_BASE58 = "zb2rhZfjRh2FHHB2RkHVEvL2vJnCTcu7kwRqgVsf9gpkLgteo"


def test_parse_base32_cidv1_reads_version_codec_and_digest() -> None:
    # Execute
    cid = Cid.parse(HELLO_V1)

    # Assert
    assert (cid.version, cid.codec, cid.digest) == (1, RAW, HELLO_DIGEST)
    assert cid.codec_name == "raw"
    assert str(cid) == HELLO_V1
    assert cid.multihash == b"\x12\x20" + HELLO_DIGEST


def test_base58_cidv1_from_js_ipfs_normalises_to_base32() -> None:
    # Execute
    normalised = normalize_cid(HELLO_V1_BASE58)

    # Assert
    assert normalised == HELLO_V1


def test_cidv0_keeps_its_base58_form_and_converts_to_v1() -> None:
    # Execute
    cid = Cid.parse(HELLO_V0)

    # Assert
    assert (cid.version, cid.codec) == (0, DAG_PB)
    assert str(cid) == HELLO_V0
    assert cid.to_bytes() == cid.multihash
    assert str(cid.to_v1()) == "bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq"


def test_binary_form_round_trips_for_both_versions() -> None:
    # Prepare
    v1 = Cid.parse(HELLO_V1)
    v0 = Cid.parse(HELLO_V0)

    # Execute
    raw_v1, raw_v0 = v1.to_bytes(), v0.to_bytes()

    # Assert
    assert raw_v1 == b"\x01\x55\x12\x20" + HELLO_DIGEST
    assert Cid.from_bytes(raw_v1) == v1
    assert Cid.from_bytes(raw_v0) == v0


def test_surrounding_whitespace_is_ignored() -> None:
    assert str(Cid.parse(f"  {HELLO_V1}\n")) == HELLO_V1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty CID"),
        ("   ", "empty CID"),
        ("hello", "'hello' is not a CID"),
        ("bafkrei!!!", "'bafkrei!!!' is not a CID"),
    ],
)
def test_parse_refuses_text_that_is_not_a_cid(text: str, message: str) -> None:
    # Execute / Assert
    with pytest.raises(InvalidCid, match=message):
        Cid.parse(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(InvalidCid, match="a CID must be a string, not int"):
        Cid.parse(12345)  # type: ignore[arg-type]


def test_parse_refuses_other_hash_functions() -> None:
    # Prepare
    digest = multihash.digest(b"hello", "sha2-512")
    foreign = str(MfCid("base32", 1, "raw", digest))

    # Execute / Assert
    with pytest.raises(InvalidCid, match=f"CID {foreign} uses hash sha2-512"):
        Cid.parse(foreign)


def test_parse_refuses_codecs_that_are_not_unixfs_blocks() -> None:
    # Prepare
    foreign = str(MfCid("base32", 1, "dag-cbor", multihash.digest(b"x", "sha2-256")))

    # Execute / Assert
    with pytest.raises(InvalidCid, match=f"CID {foreign} has codec dag-cbor"):
        Cid.parse(foreign)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x01\x71\x12\x20" + HELLO_DIGEST, "has codec 0x71, not raw or dag-pb"),
        (b"\x01\x55\x12\x20" + HELLO_DIGEST[:31], "is not a sha2-256 CIDv0/CIDv1"),
        (b"\x12\x20" + HELLO_DIGEST + b"\x00", "is not a sha2-256 CIDv0/CIDv1"),
        (b"", "is not a sha2-256 CIDv0/CIDv1"),
    ],
)
def test_from_bytes_refuses_malformed_binary_cids(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidCid, match=message):
        Cid.from_bytes(raw)


@pytest.mark.parametrize(
    ("version", "codec", "digest", "message"),
    [
        (2, RAW, HELLO_DIGEST, "CID version 2 does not exist"),
        (1, 0x71, HELLO_DIGEST, "codec 0x71 is not a UnixFS block codec"),
        (0, RAW, HELLO_DIGEST, "a CIDv0 always names a dag-pb block"),
        (1, RAW, HELLO_DIGEST[:31], "a sha2-256 digest has 32 bytes, not 31"),
    ],
)
def test_constructor_validates_every_field(
    version: int, codec: int, digest: bytes, message: str
) -> None:
    with pytest.raises(InvalidCid, match=message):
        Cid(version, codec, digest)


def test_invalid_cid_is_a_value_error_and_a_fedledger_format_error() -> None:
    # Prepare
    from ledger.errors import FormatError

    # Execute
    with pytest.raises(InvalidCid) as caught:
        Cid.parse("nope")

    # Assert
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, FormatError)


def test_base32_form_is_what_multiformats_writes() -> None:
    # Prepare
    for codec in ("raw", "dag-pb"):
        for payload in (b"", b"hello", bytes(range(200))):
            reference = MfCid("base32", 1, codec, multihash.digest(payload, "sha2-256"))

            # Execute
            ours = str(Cid.parse(str(reference)))

            # Assert
            assert ours == str(reference)
