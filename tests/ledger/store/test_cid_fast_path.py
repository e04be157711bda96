"""Cid.parse's stdlib fast path for canonical base32 CIDv1 agrees with multiformats exactly.

The fast path exists for speed only (an aggregator parses two CIDs per revealed submission);
it must accept nothing the general path refuses and decode everything it accepts to the same
CID. Hypothesis draws digests, codecs and one-character mutations of valid strings, and every
outcome (a CID, or the exact error message) is compared with the multiformats-only parse.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ledger.store.cid as cid_module
from ledger.store.cid import DAG_PB, RAW, Cid
from ledger.store.errors import InvalidCid


def _outcome(text: str, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """("ok", canonical string) or ("error", message), with the fast path on or off."""
    with monkeypatch.context() as patched:
        if not fast:
            patched.setattr(cid_module, "_parse_canonical_v1", lambda text: None)
        try:
            return "ok", str(Cid.parse(text))
        except InvalidCid as exc:
            return "error", str(exc)


digests = st.binary(min_size=32, max_size=32)
codecs = st.sampled_from([RAW, DAG_PB])


@given(digest=digests, codec=codecs)
def test_canonical_strings_parse_to_the_same_cid(digest: bytes, codec: int) -> None:
    # Prepare
    expected = Cid.v1(codec, digest)
    text = str(expected)

    # Execute
    parsed = cid_module._parse_canonical_v1(text)

    # Assert
    assert parsed == expected


@given(digest=digests, codec=codecs, position=st.integers(min_value=0, max_value=58),
       replacement=st.sampled_from("abyz27AZ=0189 -"))
def test_mutated_strings_get_the_general_paths_answer(
    digest: bytes, codec: int, position: int, replacement: str
) -> None:
    # Prepare
    monkeypatch = pytest.MonkeyPatch()
    text = str(Cid.v1(codec, digest))
    mutated = text[:position] + replacement + text[position + 1:]

    # Execute
    fast = _outcome(mutated, fast=True, monkeypatch=monkeypatch)
    general = _outcome(mutated, fast=False, monkeypatch=monkeypatch)

    # Assert
    assert fast == general


@pytest.mark.parametrize(
    "text",
    [
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",  # raw 'hello'
        "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX",  # CIDv0: general path
        "BAFKREIBM6JG3UX5QUMHCN2B3FLC3TYU6DMLB4XA7U5BF44YEGNRJHC4YEQ",  # base32upper
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yer",  # padding bits set
        "b",
        "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",  # dag-cbor codec
    ],
)
def test_known_strings_get_the_same_answer_either_way(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Execute / Assert
    assert _outcome(text, fast=True, monkeypatch=monkeypatch) == _outcome(
        text, fast=False, monkeypatch=monkeypatch)
