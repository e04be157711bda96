"""The test vectors printed in docs/formats.md are what the code produces."""

from __future__ import annotations

from pathlib import Path

import torch
from eth_account import Account

from ledger.formats.canonical import keccak_hex
from ledger.formats.layout import ParameterLayout
from ledger.formats.proof import ProofFields, data_commitment, sign_proof
from ledger.formats.update import encode_update

DOC = Path(__file__).resolve().parents[3] / "docs" / "formats.md"
UPDATE_HASH = "0xfea9cc8f26845d3a201414de332989e096fef8e7dc89af9214b91bd87f11bc8e"
COMMITMENT = "0x7f5367eaa3b5b599367064d4d84eb2aa3270af6dfa5651f587f3e951f896d3e4"
PROOF_HASH = "0xf230c8f05da7403aaf9226f1ffc154150b26a532dcfa0c519878e6e3de01660c"
LAYOUT_HASH = "0xda7db3929896584e4b36ba4df71c677868f9c677a57ff9095a93ddf619d89547"


def test_update_and_layout_vectors() -> None:
    # Prepare
    layout = ParameterLayout((("w", (2,)), ("b", ())))
    delta = {"w": torch.tensor([1.0, -2.0]), "b": torch.tensor(0.5)}
    # Execute
    data = encode_update(delta, 1, b"\xab" * 32, "0x" + "11" * 20, layout=layout)
    # Assert
    assert "0x" + layout.layout_hash().hex() == LAYOUT_HASH
    assert len(data) == 332 and data[:8] == (312).to_bytes(8, "little")
    assert data[-12:].hex() == "0000803f000000c00000003f"
    assert keccak_hex(data) == UPDATE_HASH
    assert data[8:320].decode() in DOC.read_text()


def test_commitment_and_proof_vectors() -> None:
    # Prepare
    account = Account.from_key(b"\x01" * 32)
    commitment = data_commitment([b"x0", b"x1", b"x2"], bytes(32))
    fields = ProofFields(
        round=1, participant=account.address, base_model_hash=b"\xab" * 32,
        update_hash=bytes.fromhex(UPDATE_HASH[2:]), num_samples=64, data_commitment=commitment,
        training_config_hash=b"\x22" * 32, metrics={"accuracy": 912300, "loss": 310000},
        software_version="0.1.0",
    )
    # Execute
    proof = sign_proof(fields, account, 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    # Assert
    assert "0x" + commitment.hex() == COMMITMENT
    assert keccak_hex(proof.canonical_bytes()) == PROOF_HASH
    doc = DOC.read_text()
    assert proof.canonical_bytes().decode() in doc
    for value in (UPDATE_HASH, COMMITMENT, PROOF_HASH, LAYOUT_HASH):
        assert value in doc
