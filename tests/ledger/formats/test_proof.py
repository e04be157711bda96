"""ContributionProof: EIP-712 signature, canonical bytes, and one error per mismatch."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.formats.canonical import canonical_json
from ledger.formats.errors import (
    BadSignatureError,
    BaseModelMismatchError,
    DomainMismatchError,
    FieldError,
    JsonValueError,
    NonCanonicalJsonError,
    ParticipantMismatchError,
    RoundMismatchError,
    SampleCountMismatchError,
    SignerMismatchError,
    UpdateHashMismatchError,
)
from ledger.formats.proof import (
    ContributionProof,
    ExpectedProof,
    ProofFields,
    data_commitment,
    data_commitment_tree,
    example_leaf,
    parse_proof,
    sign_proof,
    verify_proof,
)
from ledger.merkle import StandardMerkleTree, verify

from .conftest import BASE_HASH, CHAIN_ID, REGISTRY

UPDATE_HASH = keccak(b"update bytes")
SALT = bytes(range(32))
EXAMPLES = [b"example-%d" % i for i in range(5)]


def make_fields(participant: LocalAccount, **overrides: object) -> ProofFields:
    values: dict[str, Any] = {
        "round": 3, "participant": participant.address, "base_model_hash": BASE_HASH,
        "update_hash": UPDATE_HASH, "num_samples": 120,
        "data_commitment": data_commitment(EXAMPLES, SALT),
        "training_config_hash": keccak(b"config"), "metrics": {"accuracy": 912300, "loss": 31000},
        "software_version": "0.1.0",
    }
    values.update(overrides)
    return ProofFields(**values)


def expectation(signer: LocalAccount, **overrides: object) -> ExpectedProof:
    values: dict[str, Any] = {
        "round": 3, "participant": signer.address, "update_hash": UPDATE_HASH,
        "num_samples": 120, "base_model_hash": BASE_HASH, "chain_id": CHAIN_ID,
        "registry": REGISTRY,
    }
    values.update(overrides)
    return ExpectedProof(**values)


@pytest.fixture
def proof(participant: LocalAccount) -> ContributionProof:
    return sign_proof(make_fields(participant), participant, CHAIN_ID, REGISTRY)


# --- data commitment ------------------------------------------------------------------------


def test_data_commitment_is_a_standard_tree_over_salted_leaves() -> None:
    # Prepare
    leaves = [[keccak(SALT + example)] for example in EXAMPLES]
    # Execute
    root = data_commitment(EXAMPLES, SALT)
    # Assert
    assert root == StandardMerkleTree.of(leaves, ["bytes32"]).root_bytes
    assert example_leaf(EXAMPLES[0], SALT) == keccak(SALT + EXAMPLES[0])
    assert data_commitment(EXAMPLES, bytes(32)) != root
    assert data_commitment(list(reversed(EXAMPLES)), SALT) == root  # a commitment to the set


def test_one_example_opens_against_the_commitment() -> None:
    # Prepare
    tree = data_commitment_tree(EXAMPLES, SALT)
    leaf = [example_leaf(EXAMPLES[2], SALT)]
    # Execute
    opening = tree.get_proof(leaf)
    # Assert
    assert verify(data_commitment(EXAMPLES, SALT), ["bytes32"], leaf, opening)
    assert not verify(data_commitment(EXAMPLES, SALT), ["bytes32"],
                      [example_leaf(b"never trained on", SALT)], opening)


def test_data_commitment_refuses_bad_salt_and_no_examples() -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match="salt: expected 32 bytes"):
        data_commitment(EXAMPLES, b"short")
    with pytest.raises(FieldError, match="examples: a data commitment needs at least one"):
        data_commitment([], SALT)


# --- signing and encoding --------------------------------------------------------------------


def test_signature_is_eip712_over_the_documented_struct(participant: LocalAccount,
                                                        proof: ContributionProof) -> None:
    # Prepare: the digest a Solidity verifier would compute, built by hand
    fields = proof.fields
    domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId,"
                         b"address verifyingContract)")
    domain = keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                               [domain_type, keccak(b"fedledger"), keccak(b"1"), CHAIN_ID,
                                REGISTRY]))
    proof_type = keccak(b"ContributionProof(uint64 round,address participant,bytes32 "
                        b"baseModelHash,bytes32 updateHash,uint64 numSamples,bytes32 "
                        b"dataCommitment,bytes32 trainingConfigHash,bytes32 metricsHash,"
                        b"string softwareVersion)")
    struct = keccak(abi_encode(
        ["bytes32", "uint64", "address", "bytes32", "bytes32", "uint64", "bytes32", "bytes32",
         "bytes32", "bytes32"],
        [proof_type, 3, participant.address, BASE_HASH, UPDATE_HASH, 120,
         fields.data_commitment, fields.training_config_hash,
         keccak(b'{"accuracy":912300,"loss":31000}'), keccak(b"0.1.0")],
    ))
    digest = keccak(b"\x19\x01" + domain + struct)
    # Execute
    expected = Account.unsafe_sign_hash(digest, participant.key)
    # Assert
    assert proof.signature == bytes(expected.signature)
    assert proof.recover_signer() == participant.address


def test_canonical_bytes_round_trip(proof: ContributionProof, participant: LocalAccount) -> None:
    # Execute
    data = proof.canonical_bytes()
    parsed = parse_proof(data)
    # Assert
    assert parsed == proof
    assert parsed.proof_hash() == keccak(data)
    assert data.startswith(b'{"base_model_hash":"0x' + b"ab" * 32 + b'","chain_id":31337,')
    assert b'"metrics":{"accuracy":912300,"loss":31000},"num_samples":120,' in data
    assert b'"participant":"' + participant.address.lower().encode() + b'"' in data
    verify_proof(parsed, expectation(participant))


def test_sign_refuses_another_key(participant: LocalAccount, other_account: LocalAccount) -> None:
    # Execute / Assert
    with pytest.raises(SignerMismatchError, match="cannot sign a proof for participant"):
        sign_proof(make_fields(participant), other_account, CHAIN_ID, REGISTRY)


# --- verification failures ---------------------------------------------------------------------


def test_proof_signed_by_another_key(participant: LocalAccount,
                                     other_account: LocalAccount) -> None:
    # Prepare: claims `participant`, signed by someone else
    fields = make_fields(participant)
    forged = other_account.sign_message(fields.signable(CHAIN_ID, REGISTRY))
    proof = ContributionProof(fields, CHAIN_ID, to_checksum_address(REGISTRY),
                              bytes(forged.signature))
    # Execute / Assert
    with pytest.raises(SignerMismatchError,
                       match=f"names participant {participant.address} but was signed by "
                             f"{other_account.address}"):
        verify_proof(proof, expectation(participant))


def test_field_edited_after_signing(proof: ContributionProof, participant: LocalAccount) -> None:
    # Prepare: raise the sample count in the JSON and keep the signature
    document = json.loads(proof.canonical_bytes())
    document["num_samples"] = 10_000
    edited = parse_proof(canonical_json(document))
    # Execute / Assert
    with pytest.raises(SignerMismatchError, match="but was signed by"):
        verify_proof(edited, expectation(participant, num_samples=10_000))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s[:64] + bytes([29]), "signature v is 29, expected 27 or 28"),
        (lambda s: bytes(32) + s[32:], "r/s out of range"),
        (lambda s: s[:32] + (2**256 - 1).to_bytes(32, "big") + s[64:], "r/s out of range"),
    ],
)
def test_malformed_signatures(proof: ContributionProof, participant: LocalAccount,
                              mutate: Any, message: str) -> None:
    # Prepare
    broken = dataclasses.replace(proof, signature=mutate(proof.signature))
    # Execute / Assert
    with pytest.raises(BadSignatureError, match=message):
        verify_proof(broken, expectation(participant))


def test_high_s_twin_of_a_valid_signature_is_refused(proof: ContributionProof,
                                                     participant: LocalAccount) -> None:
    # Prepare: (r, n - s, v ^ 1) is the malleable twin of a valid signature
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(proof.signature[32:64], "big")
    twin = proof.signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - proof.signature[64]])
    # Execute / Assert
    with pytest.raises(BadSignatureError, match="lower half"):
        verify_proof(dataclasses.replace(proof, signature=twin), expectation(participant))


def test_signature_of_wrong_length_is_refused(proof: ContributionProof) -> None:
    # Execute / Assert
    with pytest.raises(BadSignatureError, match="signature must be 65 bytes"):
        dataclasses.replace(proof, signature=proof.signature[:64])


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"chain_id": 1}, DomainMismatchError, "signed for chain 31337"),
        ({"registry": "0x" + "22" * 20}, DomainMismatchError, "expected chain 31337 registry"),
        ({"round": 4}, RoundMismatchError, "proof is for round 3, revealed in round 4"),
        ({"base_model_hash": bytes(32)}, BaseModelMismatchError, "proof names base model 0xabab"),
        ({"update_hash": keccak(b"other")}, UpdateHashMismatchError, "proof vouches for update"),
        ({"num_samples": 121}, SampleCountMismatchError,
         "proof states 120 samples, reveal states 121"),
    ],
)
def test_each_mismatch_has_its_own_error(proof: ContributionProof, participant: LocalAccount,
                                         overrides: dict[str, object], error: type[Exception],
                                         message: str) -> None:
    # Execute / Assert
    with pytest.raises(error, match=message):
        verify_proof(proof, expectation(participant, **overrides))


def test_proof_replayed_by_another_participant(proof: ContributionProof,
                                               participant: LocalAccount,
                                               other_account: LocalAccount) -> None:
    # Execute / Assert: another participant reveals someone else's valid proof
    with pytest.raises(ParticipantMismatchError,
                       match=f"proof is by {participant.address}, revealed by "
                             f"{other_account.address}"):
        verify_proof(proof, expectation(participant, participant=other_account.address))


def test_proof_for_another_chain_verified_with_forged_domain_fields(
    participant: LocalAccount,
) -> None:
    # Prepare: signed for chain 1, the JSON edited to claim chain 31337
    proof = sign_proof(make_fields(participant), participant, 1, REGISTRY)
    replayed = dataclasses.replace(proof, chain_id=CHAIN_ID)
    # Execute / Assert
    with pytest.raises(SignerMismatchError):
        verify_proof(replayed, expectation(participant))


# --- parsing hostile bytes ---------------------------------------------------------------------


def document(proof: ContributionProof, **changes: object) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(proof.canonical_bytes())
    value.update(changes)
    return value


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"num_samples": 0}, "num_samples", "outside"),
        ({"signature": "0x1234"}, "signature", "does not match"),
        ({"participant": "0xNOTHEX"}, "participant", "expected an address"),
        ({"metrics": {"accuracy": "high"}}, "metrics.accuracy", "expected an integer"),
        ({"metrics": {"a": 1, "b": {"c": 2}}}, "metrics.b", "expected a scalar"),
        ({"software_version": "0.1.0 beta"}, "software_version", "does not match"),
        ({"format": "fedledger-proof/0"}, "format", "expected 'fedledger-proof/1'"),
        ({"extra": True}, "extra", "is not a known field"),
        ({"round": -1}, "round", "outside"),
    ],
)
def test_parse_names_the_bad_field(proof: ContributionProof, changes: dict[str, object],
                                   field: str, problem: str) -> None:
    # Prepare
    data = canonical_json(document(proof, **changes))
    # Execute / Assert
    with pytest.raises(FieldError) as caught:
        parse_proof(data)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_parse_refuses_missing_fields_floats_and_non_canonical_bytes(
    proof: ContributionProof,
) -> None:
    # Prepare
    missing = document(proof)
    del missing["update_hash"]
    with_float = json.dumps(document(proof, metrics={"accuracy": 0.91}), sort_keys=True,
                            separators=(",", ":")).encode()
    pretty = json.dumps(document(proof), sort_keys=True, indent=1).encode()
    # Execute / Assert
    with pytest.raises(FieldError, match="update_hash: is missing"):
        parse_proof(canonical_json(missing))
    with pytest.raises(JsonValueError, match="floats are not allowed"):
        parse_proof(with_float)
    with pytest.raises(NonCanonicalJsonError):
        parse_proof(pretty)
