"""Artifact formats of fedledger: canonical bytes, hashes and hostile-input parsers.

Everything that is stored on IPFS and registered on chain by hash is encoded here, in one
canonical byte form per value, and parsed back with a typed error for each way it can be
wrong. No chain or network I/O happens in this package. Byte-level specifications for
re-implementers are in docs/formats.md.

- `canonical`: canonical JSON, keccak helpers, decimal strings, fixed-point integers.
- `layout`: `ParameterLayout` (flatten/unflatten a state dict).
- `task`: `TaskSpec` and `TrainingConfig`.
- `update` / `model`: the safetensors Update and Model artifacts.
- `proof`: the EIP-712-signed `ContributionProof` and the salted data commitment.
- `report`: the `RoundReport` and its rewards leaves.
- `errors`: the `FormatError` subclasses, each with a stable `code`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.formats.canonical import (
        canonical_json,
        content_hash,
        format_decimal,
        from_fixed,
        keccak_hex,
        parse_canonical_json,
        parse_decimal,
        parse_json,
        to_fixed,
    )
    from ledger.formats.errors import FormatError
    from ledger.formats.layout import ParameterLayout
    from ledger.formats.model import DecodedModel, decode_model, encode_model
    from ledger.formats.norm import exact_squared_norm, l2_norm
    from ledger.formats.proof import (
        ContributionProof,
        ExpectedProof,
        ProofExpectation,
        ProofFields,
        data_commitment,
        data_commitment_tree,
        example_leaf,
        parse_proof,
        sign_proof,
        verify_proof,
    )
    from ledger.formats.report import (
        RoundReport,
        SubmissionRecord,
        parse_report,
        rewards_leaves,
        rewards_root,
        rewards_tree,
    )
    from ledger.formats.task import TaskSpec, TrainingConfig
    from ledger.formats.update import DecodedUpdate, UpdateHeader, decode_update, encode_update

# Submodules load on first use: importing one format (say, the update codec in a worker
# process) should not pay for eth-account, which only the proof module needs.
_EXPORTS = {
    "ContributionProof": "ledger.formats.proof",
    "DecodedModel": "ledger.formats.model",
    "DecodedUpdate": "ledger.formats.update",
    "ExpectedProof": "ledger.formats.proof",
    "FormatError": "ledger.formats.errors",
    "ParameterLayout": "ledger.formats.layout",
    "ProofExpectation": "ledger.formats.proof",
    "ProofFields": "ledger.formats.proof",
    "RoundReport": "ledger.formats.report",
    "SubmissionRecord": "ledger.formats.report",
    "TaskSpec": "ledger.formats.task",
    "TrainingConfig": "ledger.formats.task",
    "UpdateHeader": "ledger.formats.update",
    "canonical_json": "ledger.formats.canonical",
    "content_hash": "ledger.formats.canonical",
    "data_commitment": "ledger.formats.proof",
    "data_commitment_tree": "ledger.formats.proof",
    "decode_model": "ledger.formats.model",
    "decode_update": "ledger.formats.update",
    "encode_model": "ledger.formats.model",
    "encode_update": "ledger.formats.update",
    "exact_squared_norm": "ledger.formats.norm",
    "example_leaf": "ledger.formats.proof",
    "format_decimal": "ledger.formats.canonical",
    "from_fixed": "ledger.formats.canonical",
    "keccak_hex": "ledger.formats.canonical",
    "l2_norm": "ledger.formats.norm",
    "parse_canonical_json": "ledger.formats.canonical",
    "parse_decimal": "ledger.formats.canonical",
    "parse_json": "ledger.formats.canonical",
    "parse_proof": "ledger.formats.proof",
    "parse_report": "ledger.formats.report",
    "rewards_leaves": "ledger.formats.report",
    "rewards_root": "ledger.formats.report",
    "rewards_tree": "ledger.formats.report",
    "sign_proof": "ledger.formats.proof",
    "to_fixed": "ledger.formats.canonical",
    "verify_proof": "ledger.formats.proof",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger.formats' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ContributionProof",
    "DecodedModel",
    "DecodedUpdate",
    "ExpectedProof",
    "FormatError",
    "ParameterLayout",
    "ProofExpectation",
    "ProofFields",
    "RoundReport",
    "SubmissionRecord",
    "TaskSpec",
    "TrainingConfig",
    "UpdateHeader",
    "canonical_json",
    "content_hash",
    "data_commitment",
    "data_commitment_tree",
    "decode_model",
    "decode_update",
    "encode_model",
    "encode_update",
    "exact_squared_norm",
    "example_leaf",
    "format_decimal",
    "from_fixed",
    "keccak_hex",
    "l2_norm",
    "parse_canonical_json",
    "parse_decimal",
    "parse_json",
    "parse_proof",
    "parse_report",
    "rewards_leaves",
    "rewards_root",
    "rewards_tree",
    "sign_proof",
    "to_fixed",
    "verify_proof",
]
