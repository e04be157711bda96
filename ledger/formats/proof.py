"""The ContributionProof: a participant's signed statement about one update.

It binds, under the participant's key, the update (by hash) to the round, the global model
it started from, the number of local examples, a salted Merkle commitment to those
examples, the training configuration used, local metrics and the software version. The
signature is EIP-712 typed data (domain ``fedledger``/``1``, the chain id and the registry
contract as verifying contract) so a wallet shows what is signed and a proof made for one
chain or registry cannot be replayed on another.

The JSON encoding is canonical (`ledger.formats.canonical`); its keccak256 is the
``proofHash`` revealed on chain. `verify_proof` checks a proof against what the chain says
about the reveal, raising a distinct error for each mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from ledger.formats.canonical import canonical_json, content_hash, parse_canonical_json
from ledger.formats.errors import (
    BadSignatureError,
    BaseModelMismatchError,
    DomainMismatchError,
    FieldError,
    ParticipantMismatchError,
    RoundMismatchError,
    SampleCountMismatchError,
    SignerMismatchError,
    UpdateHashMismatchError,
)
from ledger.formats.fields import (
    ObjectReader,
    address_json,
    check_safe_uint,
    hash_json,
    int_map,
    to_address,
    to_bytes32,
)
from ledger.merkle import StandardMerkleTree

__all__ = [
    "EIP712_DOMAIN_NAME",
    "EIP712_DOMAIN_VERSION",
    "METRIC_DECIMALS",
    "PROOF_FORMAT",
    "PROOF_TYPES",
    "ContributionProof",
    "ExpectedProof",
    "ProofExpectation",
    "ProofFields",
    "data_commitment",
    "data_commitment_tree",
    "example_leaf",
    "parse_proof",
    "sign_proof",
    "verify_proof",
]

PROOF_FORMAT = "fedledger-proof/1"
METRIC_DECIMALS = 6
"""Local metrics are integers counting ``10**-6`` units (accuracy 0.9123 -> 912300)."""

EIP712_DOMAIN_NAME = "fedledger"
EIP712_DOMAIN_VERSION = "1"
PROOF_TYPES: Mapping[str, list[dict[str, str]]] = MappingProxyType({
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "ContributionProof": [
        {"name": "round", "type": "uint64"},
        {"name": "participant", "type": "address"},
        {"name": "baseModelHash", "type": "bytes32"},
        {"name": "updateHash", "type": "bytes32"},
        {"name": "numSamples", "type": "uint64"},
        {"name": "dataCommitment", "type": "bytes32"},
        {"name": "trainingConfigHash", "type": "bytes32"},
        {"name": "metricsHash", "type": "bytes32"},
        {"name": "softwareVersion", "type": "string"},
    ],
})

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MAX_PROOF_BYTES = 64 * 1024
_VERSION = r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}"


# --- data commitment ------------------------------------------------------------------------


def example_leaf(example: bytes, salt: bytes) -> bytes:
    """keccak256(salt || example): one example's leaf value (type ``bytes32``)."""
    return content_hash(to_bytes32(salt, "salt") + bytes(example))


def data_commitment_tree(examples: Iterable[bytes], salt: bytes) -> StandardMerkleTree:
    """The StandardMerkleTree over ``[["bytes32"]]`` leaves `example_leaf(e, salt)`.

    Kept by the participant: ``tree.get_proof([example_leaf(e, salt)])`` later opens one
    example against the committed root without revealing the others.
    """
    salt = to_bytes32(salt, "salt")
    leaves = [[example_leaf(example, salt)] for example in examples]
    if not leaves:
        raise FieldError("examples", "a data commitment needs at least one example")
    return StandardMerkleTree.of(leaves, ["bytes32"])


def data_commitment(examples: Iterable[bytes], salt: bytes) -> bytes:
    """The salted Merkle root committing to the local training examples (32 bytes)."""
    return data_commitment_tree(examples, salt).root_bytes


# --- the proof ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofFields:
    """The signed content of a contribution proof.

    `metrics` are fixed-point integers in ``10**-METRIC_DECIMALS`` units keyed by name
    (``{"accuracy": 912300, "loss": 310000}``).
    """

    round: int
    participant: ChecksumAddress
    base_model_hash: bytes
    update_hash: bytes
    num_samples: int
    data_commitment: bytes
    training_config_hash: bytes
    metrics: Mapping[str, int] = field(hash=False)
    software_version: str

    def __post_init__(self) -> None:
        """Normalise hashes and the address; refuse out-of-range values, naming the field."""
        check_safe_uint(self.round, "round")
        object.__setattr__(self, "participant", to_address(self.participant, "participant"))
        for name in ("base_model_hash", "update_hash", "data_commitment",
                     "training_config_hash"):
            object.__setattr__(self, name, to_bytes32(getattr(self, name), name))
        check_safe_uint(self.num_samples, "num_samples")
        if self.num_samples < 1:
            raise FieldError("num_samples", "must be >= 1")
        object.__setattr__(self, "metrics",
                           MappingProxyType(int_map(dict(self.metrics), "metrics", max_items=32)))
        if not isinstance(self.software_version, str) or not re.fullmatch(
            _VERSION, self.software_version
        ):
            raise FieldError("software_version", f"{self.software_version!r} does not match "
                                                 f"{_VERSION}")

    def metrics_hash(self) -> bytes:
        """keccak256 of the canonical JSON of `metrics` (signed as ``metricsHash``)."""
        return content_hash(canonical_json(dict(self.metrics)))

    def typed_data(self, chain_id: int, registry: str) -> dict[str, Any]:
        """The full EIP-712 message (types, primaryType, domain, message) being signed."""
        return {
            "types": {key: list(value) for key, value in PROOF_TYPES.items()},
            "primaryType": "ContributionProof",
            "domain": {
                "name": EIP712_DOMAIN_NAME,
                "version": EIP712_DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": to_address(registry, "registry"),
            },
            "message": {
                "round": self.round,
                "participant": self.participant,
                "baseModelHash": self.base_model_hash,
                "updateHash": self.update_hash,
                "numSamples": self.num_samples,
                "dataCommitment": self.data_commitment,
                "trainingConfigHash": self.training_config_hash,
                "metricsHash": self.metrics_hash(),
                "softwareVersion": self.software_version,
            },
        }

    def signable(self, chain_id: int, registry: str) -> SignableMessage:
        """The EIP-712 signable message for `chain_id` and `registry`."""
        return encode_typed_data(full_message=self.typed_data(chain_id, registry))


@dataclass(frozen=True)
class ContributionProof:
    """Signed proof fields plus the EIP-712 domain they were signed for."""

    fields: ProofFields
    chain_id: int
    registry: ChecksumAddress
    signature: bytes

    def __post_init__(self) -> None:
        """Normalise the registry address; refuse a malformed chain id or signature."""
        check_safe_uint(self.chain_id, "chain_id")
        object.__setattr__(self, "registry", to_address(self.registry, "registry"))
        if not isinstance(self.signature, (bytes, bytearray)) or len(self.signature) != 65:
            raise BadSignatureError("signature must be 65 bytes (r, s, v)")
        object.__setattr__(self, "signature", bytes(self.signature))

    def to_json_value(self) -> dict[str, object]:
        """The JSON object form (see docs/formats.md, "ContributionProof")."""
        f = self.fields
        return {
            "base_model_hash": hash_json(f.base_model_hash),
            "chain_id": self.chain_id,
            "data_commitment": hash_json(f.data_commitment),
            "format": PROOF_FORMAT,
            "metrics": dict(f.metrics),
            "num_samples": f.num_samples,
            "participant": address_json(f.participant),
            "registry": address_json(self.registry),
            "round": f.round,
            "signature": "0x" + self.signature.hex(),
            "software_version": f.software_version,
            "training_config_hash": hash_json(f.training_config_hash),
            "update_hash": hash_json(f.update_hash),
        }

    def canonical_bytes(self) -> bytes:
        """Canonical JSON bytes: what is stored on IPFS and hashed into ``proofHash``."""
        return canonical_json(self.to_json_value())

    def proof_hash(self) -> bytes:
        """keccak256 of `canonical_bytes`."""
        return content_hash(self.canonical_bytes())

    def recover_signer(self) -> ChecksumAddress:
        """The address whose key made `signature` over these fields and this domain.

        Raises
        ------
        BadSignatureError
            v not 27/28, r or s out of range, s in the upper half (malleable), or no
            public key recoverable.
        """
        r = int.from_bytes(self.signature[:32], "big")
        s = int.from_bytes(self.signature[32:64], "big")
        v = self.signature[64]
        if v not in (27, 28):
            raise BadSignatureError(f"signature v is {v}, expected 27 or 28")
        if not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
            raise BadSignatureError("signature r/s out of range (s must be in the lower half)")
        try:
            signer: ChecksumAddress = Account.recover_message(
                self.fields.signable(self.chain_id, self.registry), signature=self.signature
            )
        except Exception as exc:  # eth_keys raises several unrelated types for bad input
            raise BadSignatureError(f"no key recoverable from the signature: {exc}") from exc
        return signer


def sign_proof(fields: ProofFields, account: LocalAccount, chain_id: int,
               registry: str) -> ContributionProof:
    """Sign `fields` with the participant's key for `chain_id` and the `registry` contract.

    Raises
    ------
    SignerMismatchError
        When `account` is not `fields.participant`.
    """
    if account.address != fields.participant:
        raise SignerMismatchError(
            f"account {account.address} cannot sign a proof for participant {fields.participant}"
        )
    signed = account.sign_message(fields.signable(chain_id, to_address(registry, "registry")))
    return ContributionProof(fields, chain_id, to_address(registry, "registry"),
                             bytes(signed.signature))


def parse_proof(data: bytes) -> ContributionProof:
    """Parse untrusted proof bytes (canonical JSON) into a `ContributionProof`.

    The signature is not checked here; `verify_proof` does that.

    Raises
    ------
    JsonError, FieldError, BadSignatureError
    """
    value = parse_canonical_json(data, max_bytes=_MAX_PROOF_BYTES)
    reader = ObjectReader(value, "")
    reader.expect("format", PROOF_FORMAT)
    signature_text = reader.string("signature", pattern=r"0x[0-9a-f]{130}", max_length=132)
    fields = ProofFields(
        round=reader.integer("round"),
        participant=reader.address("participant"),
        base_model_hash=reader.hash("base_model_hash"),
        update_hash=reader.hash("update_hash"),
        num_samples=reader.integer("num_samples", minimum=1),
        data_commitment=reader.hash("data_commitment"),
        training_config_hash=reader.hash("training_config_hash"),
        metrics=int_map(reader.raw("metrics"), "metrics", max_items=32),
        software_version=reader.string("software_version", pattern=_VERSION),
    )
    proof = ContributionProof(
        fields,
        chain_id=reader.integer("chain_id"),
        registry=reader.address("registry"),
        signature=bytes.fromhex(signature_text[2:]),
    )
    reader.finish()
    return proof


class ProofExpectation(Protocol):
    """What the chain says about a reveal, and the domain proofs must be signed for."""

    @property
    def round(self) -> int: ...
    @property
    def participant(self) -> str: ...
    @property
    def update_hash(self) -> bytes: ...
    @property
    def num_samples(self) -> int: ...
    @property
    def base_model_hash(self) -> bytes: ...
    @property
    def chain_id(self) -> int: ...
    @property
    def registry(self) -> str: ...


@dataclass(frozen=True)
class ExpectedProof:
    """A concrete `ProofExpectation`, for callers without a reveal record at hand."""

    round: int
    participant: str
    update_hash: bytes
    num_samples: int
    base_model_hash: bytes
    chain_id: int
    registry: str


def verify_proof(proof: ContributionProof, expected: ProofExpectation) -> None:
    """Check `proof` against the reveal on chain; return None or raise the first mismatch.

    Order: domain (`DomainMismatchError`), signature (`BadSignatureError`,
    `SignerMismatchError`: signed by another key than the proof's participant), then the
    claims: participant, round, base model, update hash, sample count (each its own
    `...MismatchError`).
    """
    registry = to_address(expected.registry, "expected.registry")
    if proof.chain_id != expected.chain_id or proof.registry != registry:
        raise DomainMismatchError(
            f"proof was signed for chain {proof.chain_id} registry {proof.registry}, "
            f"expected chain {expected.chain_id} registry {registry}"
        )
    fields = proof.fields
    signer = proof.recover_signer()
    if signer != fields.participant:
        raise SignerMismatchError(
            f"proof names participant {fields.participant} but was signed by {signer}"
        )
    participant = to_address(expected.participant, "expected.participant")
    if fields.participant != participant:
        raise ParticipantMismatchError(
            f"proof is by {fields.participant}, revealed by {participant}"
        )
    if fields.round != expected.round:
        raise RoundMismatchError(f"proof is for round {fields.round}, revealed in round "
                                 f"{expected.round}")
    base = to_bytes32(expected.base_model_hash, "expected.base_model_hash")
    if fields.base_model_hash != base:
        raise BaseModelMismatchError(
            f"proof names base model {hash_json(fields.base_model_hash)}, "
            f"round's model is {hash_json(base)}"
        )
    update = to_bytes32(expected.update_hash, "expected.update_hash")
    if fields.update_hash != update:
        raise UpdateHashMismatchError(
            f"proof vouches for update {hash_json(fields.update_hash)}, "
            f"revealed update is {hash_json(update)}"
        )
    if fields.num_samples != expected.num_samples:
        raise SampleCountMismatchError(
            f"proof states {fields.num_samples} samples, reveal states {expected.num_samples}"
        )
