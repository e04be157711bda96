"""`check_submission`: one test per rejection code it assigns, with the exact detail.

The codes are what the round report publishes (and what an auditor must reproduce), so each
is pinned here: the fetch codes (`content.*`, `<what>.hash_mismatch`), the format codes of the
update and proof decoders passed through unchanged, and the training-config check. A refusal
never raises: it is a `SubmissionCheck` without a vector.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.formats.proof import ContributionProof, sign_proof
from ledger.formats.update import encode_update
from ledger.store.base import ContentStore
from ledger.store.cid import Cid
from ledger.store.disk import DiskStore
from ledger.store.errors import StoreUnavailable
from ledger.submissions import (
    HEADER_ALLOWANCE,
    MAX_PROOF_BYTES,
    SubmissionCheck,
    check_submission,
    max_update_bytes,
)
from tests.ledger.submission_kit import (
    ACCOUNTS,
    BASE_HASH,
    CHAIN_ID,
    LAYOUT,
    REGISTRY,
    ROUND,
    Built,
    forged_root,
    honest,
    honest_delta,
    make_task,
    proof_fields,
    raw_safetensors,
    raw_update,
    renamed,
    signed_proof,
    update_metadata,
    with_proof,
    with_update,
)

TASK = make_task()
ALICE = ACCOUNTS[0]
TWO_GIB = 2 * 1024**3


def run_check(store: ContentStore, built: Built) -> SubmissionCheck:
    return check_submission(store, built.sub, TASK, BASE_HASH, CHAIN_ID, REGISTRY)


def assert_refused(check: SubmissionCheck, code: str, detail: str) -> None:
    assert (check.code, check.detail) == (code, detail)
    assert check.vector is None
    assert not check.ok


class CountingStore(DiskStore):
    """A DiskStore that records every block it is asked for."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def _read_block(self, cid: Cid, limit: int, *, probe: bool = False) -> bytes:
        self.reads.append(str(cid))
        return super()._read_block(cid, limit, probe=probe)


class UnreachableStore(DiskStore):
    """A store whose backend is down (as a stopped IPFS daemon looks to a caller)."""

    def _read_block(self, cid: Cid, limit: int, *, probe: bool = False) -> bytes:
        raise StoreUnavailable("IPFS daemon at http://127.0.0.1:5001 refused the connection")


@pytest.fixture
def store(tmp_path: Path) -> DiskStore:
    return DiskStore(tmp_path / "store")


# -- accepted -------------------------------------------------------------------------------


def test_valid_submission_is_ok_with_its_delta(store: DiskStore) -> None:
    # Prepare
    built = honest(store, 0)

    # Execute
    check = run_check(store, built)

    # Assert
    assert (check.code, check.detail, check.ok) == ("ok", "", True)
    assert check.vector is not None
    assert torch.equal(check.vector, LAYOUT.flatten(honest_delta(0)))


# -- fetching: content.* and hash mismatches -------------------------------------------------


def test_update_cid_that_is_not_a_cid(store: DiskStore) -> None:
    # Prepare
    built = renamed(honest(store, 0), update_cid="not-a-cid")

    # Execute
    check = run_check(store, built)

    # Assert
    assert check.code == "content.invalid_cid"
    assert check.detail.startswith("update CID 'not-a-cid': ")
    assert check.vector is None


def test_proof_cid_that_is_not_a_cid(store: DiskStore) -> None:
    # Prepare
    built = renamed(honest(store, 0), proof_cid="Qm-nonsense")

    # Execute
    check = run_check(store, built)

    # Assert
    assert check.code == "content.invalid_cid"
    assert check.detail.startswith("proof CID 'Qm-nonsense': ")


def test_update_missing_from_the_store(store: DiskStore, tmp_path: Path) -> None:
    # Prepare: the CID names real bytes, but they were only ever added to another store
    elsewhere = DiskStore(tmp_path / "elsewhere")
    update = encode_update(honest_delta(1), ROUND, BASE_HASH, ALICE.address, layout=LAYOUT)
    cid = elsewhere.put_bytes(update)
    built = renamed(honest(store, 0), update_cid=cid, update_hash=keccak(update))

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "content.missing",
                   f"update {cid}: {cid} is not in the embedded store at {store.root}")


def test_proof_missing_from_the_store(store: DiskStore, tmp_path: Path) -> None:
    # Prepare
    built = honest(store, 0)
    other = DiskStore(tmp_path / "other")
    proof_cid = other.put_bytes(built.proof + b" ")
    built = renamed(built, proof_cid=proof_cid)

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "content.missing",
                   f"proof {proof_cid}: {proof_cid} is not in the embedded store at {store.root}")


def test_update_of_two_gib_is_refused_from_its_root_block_alone(tmp_path: Path) -> None:
    # Prepare
    store = CountingStore(tmp_path / "store")
    cid, root = forged_root(TWO_GIB)
    store.put_block(cid, root)
    built = renamed(honest(store, 0), update_cid=cid)
    store.reads.clear()

    # Execute
    check = run_check(store, built)

    # Assert
    assert store.size(cid) == TWO_GIB  # what the store reports, from the root alone
    assert_refused(check, "content.too_large",
                   f"update {cid}: content {cid} is {TWO_GIB} bytes, over the limit of "
                   f"{max_update_bytes(TASK)} bytes: refused before reading it all")
    assert store.reads[0] == cid
    assert set(store.reads) == {cid}  # no leaf or inner node of the 2 GiB was ever asked for


def test_update_one_byte_over_the_task_limit_is_too_large(store: DiskStore) -> None:
    # Prepare: the limit is the layout's float32 payload plus the header allowance
    limit = max_update_bytes(TASK)
    blob = bytes(limit + 1)
    built = renamed(honest(store, 0), update_cid=store.put_bytes(blob), update_hash=keccak(blob))

    # Execute
    check = run_check(store, built)

    # Assert
    assert limit == LAYOUT.numel * 4 + HEADER_ALLOWANCE
    assert check.code == "content.too_large"
    assert check.detail.endswith(f"is {limit + 1} bytes, over the limit of {limit} bytes: "
                                 "refused before reading it all")


def test_proof_over_its_size_limit_is_too_large(store: DiskStore) -> None:
    # Prepare
    blob = b"{" + b" " * MAX_PROOF_BYTES + b"}"
    built = with_proof(store, 0, blob)

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "content.too_large",
                   f"proof {built.sub.proof_cid}: content {built.sub.proof_cid} is "
                   f"{len(blob)} bytes, over the limit of {MAX_PROOF_BYTES} bytes: refused "
                   "before reading it all")


def test_stored_bytes_that_do_not_match_their_cid(store: DiskStore) -> None:
    # Prepare: the block on disk rots (or a hostile host serves other bytes)
    built = honest(store, 0)
    path = store.block_path(built.sub.update_cid)
    path.write_bytes(b"\x00" + path.read_bytes()[1:])

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "content.cid_mismatch",
                   f"update {built.sub.update_cid}: block {built.sub.update_cid} is corrupt: "
                   f"its {len(built.update)} bytes do not hash to its CID")


def test_store_that_cannot_be_reached(tmp_path: Path) -> None:
    # Prepare
    store = UnreachableStore(tmp_path / "store")
    built = honest(store, 0)

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "content.unavailable",
                   f"update {built.sub.update_cid}: IPFS daemon at http://127.0.0.1:5001 "
                   "refused the connection")


def test_update_whose_keccak_is_not_the_revealed_hash(store: DiskStore) -> None:
    # Prepare
    built = renamed(honest(store, 0), update_hash=keccak(b"something else"))

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "update.hash_mismatch",
                   f"keccak of update {built.sub.update_cid} is 0x{keccak(built.update).hex()}, "
                   f"the reveal says 0x{keccak(b'something else').hex()}")


def test_proof_whose_keccak_is_not_the_revealed_hash(store: DiskStore) -> None:
    # Prepare
    built = renamed(honest(store, 0), proof_hash=bytes(32))

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, "proof.hash_mismatch",
                   f"keccak of proof {built.sub.proof_cid} is 0x{keccak(built.proof).hex()}, "
                   f"the reveal says 0x{'00' * 32}")


# -- update format codes (passed through from decode_update) ----------------------------------


def _good_update() -> bytes:
    return encode_update(honest_delta(0), ROUND, BASE_HASH, ALICE.address, layout=LAYOUT)


def _update_cases() -> list[tuple[str, bytes, str, str]]:
    good = _good_update()
    nan = honest_delta(0)
    nan["fc.bias"][1] = float("nan")
    inf = honest_delta(0)
    inf["fc.weight"][0, 0] = float("-inf")
    huge = {k: v * 1000 for k, v in honest_delta(0).items()}
    float64 = raw_safetensors({"__metadata__": update_metadata(),
                            "fc.weight": {"dtype": "F64", "shape": [3, 2], "data_offsets": [0, 48]},
                            "fc.bias": {"dtype": "F32", "shape": [3], "data_offsets": [48, 60]}},
                           bytes(60))
    return [
        ("not_safetensors", b"PK\x03\x04 a zip archive", "safetensors.not_safetensors",
         "header length 8800140462016121680 is not plausible for safetensors"),
        ("truncated", good[:-5], "safetensors.truncated",
         "tensor data should be 36 bytes but only 31 are present"),
        ("header_not_json", struct.pack("<Q", 10) + b"{not json}", "safetensors.header",
         ("header is not valid JSON: Expecting property name enclosed in double quotes: line 1 "
          "column 2 (char 1)")),
        ("wrong_format_tag", raw_update(metadata=update_metadata(format="other/1")),
         "safetensors.metadata",
         "update metadata: format is 'other/1', expected 'fedledger-update/1'"),
        ("float64", float64, "tensor.dtype", "tensor 'fc.weight' has dtype 'F64', expected 'F32'"),
        ("wrong_shape", raw_update({"fc.weight": np.zeros((2, 3), np.float32)}),
         "tensor.layout", "update: tensor 'fc.weight' has shape [2, 3], layout says [3, 2]"),
        ("nan", raw_update({"fc.bias": nan["fc.bias"].numpy()}), "tensor.non_finite",
         "update: tensor 'fc.bias' holds NaN or Inf"),
        ("inf", raw_update({"fc.weight": inf["fc.weight"].numpy()}), "tensor.non_finite",
         "update: tensor 'fc.weight' holds NaN or Inf"),
        ("huge_norm", encode_update(huge, ROUND, BASE_HASH, ALICE.address, layout=LAYOUT),
         "tensor.norm", "update L2 norm 340.563 exceeds the bound 10"),
        ("other_round", encode_update(honest_delta(0), ROUND + 1, BASE_HASH, ALICE.address,
                                      layout=LAYOUT), "mismatch.round",
         f"update claims round {ROUND + 1}, expected round {ROUND}"),
        ("other_base", encode_update(honest_delta(0), ROUND, keccak(b"x"), ALICE.address,
                                     layout=LAYOUT), "mismatch.base_model",
         f"update claims base model 0x{keccak(b'x').hex()}, expected 0x{BASE_HASH.hex()}"),
        ("other_participant", encode_update(honest_delta(0), ROUND, BASE_HASH,
                                            ACCOUNTS[1].address, layout=LAYOUT),
         "mismatch.participant",
         f"update claims participant {ACCOUNTS[1].address}, revealed by {ALICE.address}"),
    ]


UPDATE_CASES = _update_cases()


@pytest.mark.parametrize(("case", "update", "code", "detail"), UPDATE_CASES,
                         ids=[c[0] for c in UPDATE_CASES])
def test_update_format_codes(store: DiskStore, case: str, update: bytes, code: str,
                             detail: str) -> None:
    # Prepare: correctly stored and hashed, with a valid signed proof: only the bytes are bad
    built = with_update(store, 0, update)

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, code, detail)


# -- proof format codes (passed through from parse_proof / verify_proof) ----------------------


def _proof_cases() -> list[tuple[str, object, str, str]]:
    update = _good_update()
    valid = signed_proof(ALICE, update)
    text = valid.canonical_bytes()
    as_dict = json.loads(text)
    bob = ACCOUNTS[1]

    def resigned(num_samples: int = 50, **changes: object) -> bytes:
        return signed_proof(ALICE, update, num_samples, **changes).canonical_bytes()

    wrong_key = sign_proof(proof_fields(bob, keccak(update)), bob, CHAIN_ID, REGISTRY)
    fields = proof_fields(ALICE, keccak(update))
    by_bob = bob.sign_message(fields.signable(CHAIN_ID, REGISTRY)).signature
    signed_by_bob = ContributionProof(fields, CHAIN_ID, to_checksum_address(REGISTRY),
                                      bytes(by_bob))
    return [
        ("not_json", b"\x00\x01 binary", "json.syntax",
         "invalid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("non_canonical", json.dumps(as_dict, indent=1).encode(), "json.non_canonical",
         "JSON is valid but not canonical (sorted keys, no whitespace, minimal escapes)"),
        ("missing_field", json.dumps({k: v for k, v in as_dict.items() if k != "round"},
                                     sort_keys=True, separators=(",", ":")).encode(),
         "field", "round: is missing"),
        ("bad_signature_bytes", text.replace(as_dict["signature"][-2:].encode() + b'"',
                                             b'00"'), "signature.invalid",
         "signature v is 0, expected 27 or 28"),
        ("signed_by_another_key", signed_by_bob.canonical_bytes(),
         "signature.signer",
         f"proof names participant {ALICE.address} but was signed by {bob.address}"),
        ("other_chain", sign_proof(proof_fields(ALICE, keccak(update)), ALICE, 1,
                                   REGISTRY).canonical_bytes(), "mismatch.domain",
         (f"proof was signed for chain 1 registry {REGISTRY}, expected chain {CHAIN_ID} "
         f"registry {REGISTRY}")),
        ("proof_of_another_participant", wrong_key.canonical_bytes(), "mismatch.participant",
         f"proof is by {bob.address}, revealed by {ALICE.address}"),
        ("other_round", resigned(round=ROUND - 1), "mismatch.round",
         f"proof is for round {ROUND - 1}, revealed in round {ROUND}"),
        ("other_base", resigned(base_model_hash=keccak(b"y")), "mismatch.base_model",
         f"proof names base model 0x{keccak(b'y').hex()}, round's model is 0x{BASE_HASH.hex()}"),
        ("other_update", sign_proof(proof_fields(ALICE, keccak(b"z")), ALICE, CHAIN_ID,
                                    REGISTRY).canonical_bytes(), "mismatch.update_hash",
         (f"proof vouches for update 0x{keccak(b'z').hex()}, revealed update is "
         f"0x{keccak(update).hex()}")),
        ("other_sample_count", resigned(num_samples=51), "mismatch.num_samples",
         "proof states 51 samples, reveal states 50"),
        ("other_training_config", resigned(training_config_hash=keccak(b"lr=10")),
         "proof.training_config",
         ("the proof's training-config hash is not the task's: the participant trained with "
         "other hyper-parameters")),
    ]


PROOF_CASES = _proof_cases()


@pytest.mark.parametrize(("case", "proof", "code", "detail"), PROOF_CASES,
                         ids=[c[0] for c in PROOF_CASES])
def test_proof_format_codes(store: DiskStore, case: str, proof: bytes, code: str,
                            detail: str) -> None:
    # Prepare: a valid update, correctly stored and hashed; only the proof is bad
    built = with_proof(store, 0, proof)

    # Execute
    check = run_check(store, built)

    # Assert
    assert_refused(check, code, detail)


def test_every_code_is_pinned_by_a_test() -> None:
    # Prepare
    fetch_codes = {"content.invalid_cid", "content.missing", "content.too_large",
                   "content.cid_mismatch", "content.unavailable", "update.hash_mismatch",
                   "proof.hash_mismatch"}

    # Execute
    covered = fetch_codes | {c[2] for c in UPDATE_CASES} | {c[2] for c in PROOF_CASES}

    # Assert: every code the module can assign (its own and its decoders') is covered above
    assert covered == {
        *fetch_codes, "safetensors.not_safetensors", "safetensors.truncated",
        "safetensors.header", "safetensors.metadata", "tensor.dtype", "tensor.layout",
        "tensor.non_finite", "tensor.norm", "mismatch.round", "mismatch.base_model",
        "mismatch.participant", "json.syntax", "json.non_canonical", "field",
        "signature.invalid", "signature.signer", "mismatch.domain", "mismatch.update_hash",
        "mismatch.num_samples", "proof.training_config",
    }

