"""Bad-input matrix for submitted artifacts (updates and contribution proofs), end to end.

Each case is one hostile or broken submission revealed next to two honest ones. What the user
sees is the round report's record of it: `verification` (the stable code) and `reason` (the
message), asserted exactly. "Nothing else is lost" is asserted by comparing the round with the
bad submission in it against the round without it: the honest records (acceptance, score,
reward) and the new model are identical, bit for bit.

The checks and the round computation are the ones both the aggregator and the auditor run
(`ledger.submissions.check_submission`, `aggregator.round_compute.compute_round`). The per-code
unit tests are in `test_submissions.py`; docs/bad-input.md lists every case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from eth_utils.crypto import keccak

from aggregator.round_compute import RoundOutcome, compute_round
from ledger.formats.proof import sign_proof
from ledger.formats.report import SubmissionRecord
from ledger.formats.update import encode_update
from ledger.store.disk import DiskStore
from ledger.submissions import MAX_DETAIL, check_submission, max_update_bytes
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
POOL = 1_000 * 10**18
BAD = 2  # index of the hostile participant; 0 and 1 are honest
EVE = ACCOUNTS[BAD]
TWO_GIB = 2 * 1024**3


@dataclass(frozen=True)
class Case:
    """One row of the matrix: how to build the bad submission, and what the report says."""

    name: str
    build: Callable[[DiskStore], Built]
    verification: str
    reason: Callable[[Built], str]


def _delta_update(delta: dict[str, torch.Tensor], *, round_: int = ROUND,
                  base: bytes = BASE_HASH) -> bytes:
    return encode_update(delta, round_, base, EVE.address, layout=LAYOUT)


def _two_gib(store: DiskStore) -> Built:
    cid, root = forged_root(TWO_GIB)
    store.put_block(cid, root)
    return renamed(honest(store, BAD), update_cid=cid)


def _nan_update() -> bytes:
    bias = honest_delta(BAD)["fc.bias"].numpy().copy()
    bias[0] = np.nan
    return raw_update({"fc.bias": bias}, index=BAD)


def _inf_update() -> bytes:
    weight = honest_delta(BAD)["fc.weight"].numpy().copy()
    weight[2, 1] = np.inf
    return raw_update({"fc.weight": weight}, index=BAD)


def _float16_update() -> bytes:
    """The header and bytes of a float16 bias where the layout needs float32."""
    weight = honest_delta(BAD)["fc.weight"].numpy().tobytes()
    bias = honest_delta(BAD)["fc.bias"].numpy().astype(np.float16).tobytes()
    return raw_safetensors({
        "__metadata__": update_metadata(BAD),
        "fc.weight": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]},
        "fc.bias": {"dtype": "F16", "shape": [3], "data_offsets": [24, 30]},
    }, weight + bias)


def _wrong_key_proof(store: DiskStore) -> Built:
    """Eve's proof fields, signed by another key (alice's)."""
    good = honest(store, BAD)
    fields = proof_fields(EVE, keccak(good.update))
    signature = ACCOUNTS[0].sign_message(fields.signable(CHAIN_ID, REGISTRY)).signature
    forged = json.loads(good.proof)
    forged["signature"] = "0x" + bytes(signature).hex()
    proof = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    return with_proof(store, BAD, proof)


LONG_CID = "b" + "a" * 1499

UPDATE_CASES = [
    Case("truncated safetensors",
         lambda s: with_update(s, BAD, _delta_update(honest_delta(BAD))[:-7]),
         "safetensors.truncated",
         lambda b: "tensor data should be 36 bytes but only 29 are present"),
    Case("not safetensors at all",
         lambda s: with_update(s, BAD, b"%PDF-1.7 a document"), "safetensors.not_safetensors",
         lambda b: "header length 3976169591536898085 is not plausible for safetensors"),
    Case("wrong dtype (float16)", lambda s: with_update(s, BAD, _float16_update()),
         "tensor.dtype", lambda b: "tensor 'fc.bias' has dtype 'F16', expected 'F32'"),
    Case("wrong shape",
         lambda s: with_update(s, BAD, raw_update({"fc.bias": np.zeros(4, np.float32)},
                                                  index=BAD)),
         "tensor.layout", lambda b: "update: tensor 'fc.bias' has shape [4], layout says [3]"),
    Case("NaN", lambda s: with_update(s, BAD, _nan_update()), "tensor.non_finite",
         lambda b: "update: tensor 'fc.bias' holds NaN or Inf"),
    Case("Inf", lambda s: with_update(s, BAD, _inf_update()), "tensor.non_finite",
         lambda b: "update: tensor 'fc.weight' holds NaN or Inf"),
    Case("huge norm",
         lambda s: with_update(s, BAD, _delta_update(
             {k: v * 1e30 for k, v in honest_delta(BAD).items()})),
         "tensor.norm", lambda b: "update L2 norm 2.75676e+29 exceeds the bound 10"),
    Case("header claims another round",
         lambda s: with_update(s, BAD, _delta_update(honest_delta(BAD), round_=ROUND - 1)),
         "mismatch.round", lambda b: f"update claims round {ROUND - 1}, expected round {ROUND}"),
    Case("header claims another base model",
         lambda s: with_update(s, BAD, _delta_update(honest_delta(BAD), base=keccak(b"old"))),
         "mismatch.base_model",
         lambda b: f"update claims base model 0x{keccak(b'old').hex()}, expected "
                   f"0x{BASE_HASH.hex()}"),
    Case("header claims another participant",
         lambda s: with_update(s, BAD, encode_update(honest_delta(BAD), ROUND, BASE_HASH,
                                                     ACCOUNTS[0].address, layout=LAYOUT)),
         "mismatch.participant",
         lambda b: f"update claims participant {ACCOUNTS[0].address}, revealed by "
                   f"{EVE.address}"),
    Case("2 GiB file (refused by the size its DAG root declares)", _two_gib,
         "content.too_large",
         lambda b: f"update {b.sub.update_cid}: content {b.sub.update_cid} is {TWO_GIB} bytes, "
                   f"over the limit of {max_update_bytes(TASK)} bytes: refused before reading "
                   "it all"),
    Case("bytes differ from the revealed hash",
         lambda s: renamed(honest(s, BAD), update_hash=keccak(b"other")), "update.hash_mismatch",
         lambda b: f"keccak of update {b.sub.update_cid} is 0x{keccak(b.update).hex()}, the "
                   f"reveal says 0x{keccak(b'other').hex()}"),
    Case("update not in the store",
         lambda s: renamed(honest(s, BAD),
                           update_cid="bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
         "content.missing",
         lambda b: f"update {b.sub.update_cid}: {b.sub.update_cid} is not in the embedded store "
                   f"at {{root}}"),
    Case("revealed CID of 1500 characters",
         lambda s: renamed(honest(s, BAD), update_cid=LONG_CID), "content.invalid_cid",
         lambda b: f"update CID '{LONG_CID[:100]}... (1500 characters)': {{any}}"),
]

PROOF_CASES = [
    Case("proof is not JSON", lambda s: with_proof(s, BAD, b"\xff\xfe not json"), "json.syntax",
         lambda b: "document is not UTF-8: 'utf-8' codec can't decode byte 0xff in position 0: invalid "
                   "start byte"),
    Case("proof JSON with a field missing",
         lambda s: with_proof(s, BAD, json.dumps(
             {k: v for k, v in json.loads(honest(s, BAD).proof).items() if k != "signature"},
             sort_keys=True, separators=(",", ":")).encode()),
         "field", lambda b: "signature: is missing"),
    Case("proof signed by another key", _wrong_key_proof, "signature.signer",
         lambda b: f"proof names participant {EVE.address} but was signed by "
                   f"{ACCOUNTS[0].address}"),
    Case("proof vouches for another update",
         lambda s: with_proof(s, BAD, sign_proof(proof_fields(EVE, keccak(b"another update")),
                                                 EVE, CHAIN_ID, REGISTRY).canonical_bytes()),
         "mismatch.update_hash",
         lambda b: f"proof vouches for update 0x{keccak(b'another update').hex()}, revealed "
                   f"update is 0x{keccak(b.update).hex()}"),
    Case("proof states another sample count",
         lambda s: with_proof(s, BAD, signed_proof(EVE, honest(s, BAD).update, 5000)
                              .canonical_bytes()),
         "mismatch.num_samples", lambda b: "proof states 5000 samples, reveal states 50"),
    Case("proof bytes differ from the revealed proof hash",
         lambda s: renamed(honest(s, BAD), proof_hash=keccak(b"x")), "proof.hash_mismatch",
         lambda b: f"keccak of proof {b.sub.proof_cid} is 0x{keccak(b.proof).hex()}, the reveal "
                   f"says 0x{keccak(b'x').hex()}"),
]

CASES = UPDATE_CASES + PROOF_CASES


def _round(store: DiskStore, built: list[Built]) -> RoundOutcome:
    checks = [check_submission(store, b.sub, TASK, BASE_HASH, CHAIN_ID, REGISTRY) for b in built]
    return compute_round(TASK, torch.zeros(LAYOUT.numel), checks, POOL)


def _by_participant(outcome: RoundOutcome) -> dict[str, SubmissionRecord]:
    return {r.participant: r for r in outcome.submissions}


@pytest.fixture(scope="module")
def honest_round(tmp_path_factory: pytest.TempPathFactory) -> RoundOutcome:
    """The round of the two honest participants alone: what a bad third must not change."""
    store = DiskStore(tmp_path_factory.mktemp("honest") / "store")
    return _round(store, [honest(store, 0), honest(store, 1)])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_submission_is_recorded_and_loses_nothing_else(
    case: Case, honest_round: RoundOutcome, tmp_path: Path
) -> None:
    # Prepare
    store = DiskStore(tmp_path / "store")
    good = [honest(store, 0), honest(store, 1)]
    bad = case.build(store)

    # Execute
    outcome = _round(store, [*good, bad])

    # Assert: what the user sees in the round report
    records = _by_participant(outcome)
    record = records[EVE.address]
    expected = case.reason(bad).replace("{root}", str(store.root))
    assert (record.verification, record.accepted, record.score, record.reward) == (
        case.verification, False, 0, 0)
    if expected.endswith("{any}"):
        assert record.reason.startswith(expected.removesuffix("{any}"))
    else:
        assert record.reason == expected
    assert len(record.reason) <= MAX_DETAIL
    assert (record.update_cid, record.update_hash) == (bad.sub.update_cid, bad.sub.update_hash)
    # Assert: nothing else is lost
    assert [records[a.address] for a in ACCOUNTS[:2]] == list(honest_round.submissions)
    assert all(records[a.address].accepted for a in ACCOUNTS[:2])
    assert outcome.total_reward == honest_round.total_reward == POOL
    assert torch.equal(outcome.new_vector, honest_round.new_vector)


def test_every_issue_case_is_in_the_matrix() -> None:
    # The list of issue 7, item 1 (updates and proofs): each must stay a row of the matrix.
    required = {
        "truncated safetensors", "wrong dtype (float16)", "wrong shape", "NaN", "Inf",
        "huge norm", "header claims another round", "header claims another base model",
        "not safetensors at all", "2 GiB file (refused by the size its DAG root declares)",
        "proof is not JSON", "proof signed by another key", "proof vouches for another update",
        "proof bytes differ from the revealed proof hash",
    }
    assert required <= {c.name for c in CASES}
