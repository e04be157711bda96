"""Builders for the submission tests: a small task, signed updates and proofs in a DiskStore.

Shared by `test_submissions.py` (one test per rejection code of `check_submission`) and
`test_bad_input_updates.py` (the bad-input matrix). Everything is deterministic: fixed keys,
fixed tensors, fixed registry and chain id, so every hash and CID is the same on every run.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import torch
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from ledger.formats.layout import ParameterLayout
from ledger.formats.proof import ContributionProof, ProofFields, data_commitment, sign_proof
from ledger.formats.task import TaskSpec, TrainingConfig
from ledger.formats.tensorfile import write_tensorfile
from ledger.formats.update import encode_update
from ledger.store.base import ContentStore
from ledger.store.cid import DAG_PB, Cid
from ledger.store.unixfs import encode_file_data, encode_node
from ledger.submissions import RevealedSubmission

CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BASE_HASH = keccak(b"global model of round 3")
ROUND = 3
NORM_BOUND = Decimal(10)
CHUNK = 256 * 1024

#: Participants' keys: 0x..11, 0x..12, ... (distinct from the chain fixtures' dev keys).
ACCOUNTS: tuple[LocalAccount, ...] = tuple(
    Account.from_key(bytes([0] * 31 + [0x11 + i])) for i in range(4)
)


def small_state() -> dict[str, torch.Tensor]:
    """The model whose layout the task uses: 2x3 weights and a bias of 3 (9 parameters)."""
    generator = torch.Generator().manual_seed(7)
    return {"fc.weight": torch.randn(3, 2, generator=generator),
            "fc.bias": torch.randn(3, generator=generator)}


LAYOUT = ParameterLayout.from_state_dict(small_state())
TRAINING = TrainingConfig(epochs=1, batch_size=8, lr=Decimal("0.1"), momentum=Decimal(0),
                          proximal_mu=Decimal(0), seed_policy="participant_round", seed=1)


def make_task(rule: str = "fedavg", params: dict[str, object] | None = None) -> TaskSpec:
    """A task over `LAYOUT` with the norm bound `NORM_BOUND`."""
    return TaskSpec(
        task_id="bad-input-v1", name="Bad input matrix", dataset="digits", model="mlp",
        model_kwargs={}, layout=LAYOUT, initial_model_hash=BASE_HASH, aggregation_rule=rule,
        aggregation_params=params or {}, fixed_point_bits=24, update_norm_bound=NORM_BOUND,
        training=TRAINING, rounds=10, reward_per_round=1_000 * 10**18, commit_seconds=60,
        reveal_seconds=60, score_method="leave_one_out", software_version="0.1.0",
    )


def honest_delta(index: int) -> dict[str, torch.Tensor]:
    """A distinct small float32 delta (norm about 0.3) for participant `index`."""
    generator = torch.Generator().manual_seed(100 + index)
    return {name: 0.1 * torch.randn(shape, generator=generator)
            for name, shape in LAYOUT.entries}


def proof_fields(account: LocalAccount, update_hash: bytes, num_samples: int = 50,
                 **overrides: object) -> ProofFields:
    """The proof fields an honest participant signs for `update_hash` in `ROUND`."""
    values: dict[str, object] = {
        "round": ROUND, "participant": account.address, "base_model_hash": BASE_HASH,
        "update_hash": update_hash, "num_samples": num_samples,
        "data_commitment": data_commitment([b"example"], bytes(32)),
        "training_config_hash": TRAINING.config_hash(), "metrics": {"loss": 100},
        "software_version": "0.1.0",
    }
    values.update(overrides)
    return ProofFields(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Built:
    """One submission as stored and as the chain would record its reveal."""

    sub: RevealedSubmission
    update: bytes
    proof: bytes


def publish(store: ContentStore, account: LocalAccount, update: bytes, proof: bytes,
            num_samples: int = 50) -> Built:
    """Put `update` and `proof` in `store`; the reveal record names their CIDs and keccaks."""
    sub = RevealedSubmission(
        round=ROUND, participant=account.address,
        update_cid=store.put_bytes(update), update_hash=keccak(update),
        proof_cid=store.put_bytes(proof), proof_hash=keccak(proof), num_samples=num_samples,
    )
    return Built(sub, update, proof)


def signed_proof(account: LocalAccount, update: bytes, num_samples: int = 50,
                 **overrides: object) -> ContributionProof:
    """The participant's signed proof for `update`."""
    return sign_proof(proof_fields(account, keccak(update), num_samples, **overrides), account,
                      CHAIN_ID, REGISTRY)


def honest(store: ContentStore, index: int) -> Built:
    """An honest, valid submission by `ACCOUNTS[index]`."""
    account = ACCOUNTS[index]
    update = encode_update(honest_delta(index), ROUND, BASE_HASH, account.address, layout=LAYOUT)
    return publish(store, account, update, signed_proof(account, update).canonical_bytes())


def with_update(store: ContentStore, index: int, update: bytes) -> Built:
    """`ACCOUNTS[index]` publishing `update` with an otherwise valid, signed proof for it."""
    account = ACCOUNTS[index]
    return publish(store, account, update, signed_proof(account, update).canonical_bytes())


def with_proof(store: ContentStore, index: int, proof: bytes) -> Built:
    """`ACCOUNTS[index]`'s honest update published with `proof` instead of its own."""
    good = honest(store, index)
    built = publish(store, ACCOUNTS[index], good.update, proof)
    return built


def renamed(built: Built, **changes: object) -> Built:
    """`built` with its reveal record changed (the stored bytes stay as they are)."""
    return Built(replace(built.sub, **changes), built.update, built.proof)  # type: ignore[arg-type]


# -- hand-made (hostile) update bytes ------------------------------------------------------


def update_arrays(override: Mapping[str, np.ndarray] | None = None,
                  index: int = 0) -> list[tuple[str, np.ndarray]]:
    """Participant `index`'s honest delta as float32 arrays, some replaced by `override`."""
    arrays = {name: t.numpy().astype(np.float32) for name, t in honest_delta(index).items()}
    arrays.update(override or {})
    return list(arrays.items())


def update_metadata(index: int = 0, **override: str) -> dict[str, str]:
    """The metadata an honest update of `ACCOUNTS[index]` carries, some fields replaced."""
    values = {"format": "fedledger-update/1", "round": str(ROUND),
              "base_model_hash": "0x" + BASE_HASH.hex(),
              "participant": ACCOUNTS[index].address.lower()}
    values.update(override)
    return values


def raw_update(override: Mapping[str, np.ndarray] | None = None, index: int = 0,
               metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file as our writer lays it out, whatever the tensors hold (NaN, shapes)."""
    return write_tensorfile(update_arrays(override, index),
                            update_metadata(index) if metadata is None else metadata)


def raw_safetensors(header: dict[str, object], body: bytes) -> bytes:
    """A safetensors file with exactly this header JSON (any dtype, any entries) and body."""
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + body


def forged_root(declared_size: int) -> tuple[str, bytes]:
    """A valid dag-pb root block declaring `declared_size` bytes, whose children do not exist.

    Shaped as `ipfs add` would shape such a file (174 links per node, balanced), so only its
    size can refuse it: a 2 GiB "update" costs the store one small block, never 2 GiB.
    """
    chunks = -(-declared_size // CHUNK)
    per_child = 174 * CHUNK
    children = -(-chunks // 174)
    sizes = [per_child] * (children - 1) + [declared_size - per_child * (children - 1)]
    links = [(Cid.v1(DAG_PB, hashlib.sha256(b"child %d" % i).digest()).to_bytes(), size)
             for i, size in enumerate(sizes)]
    block = encode_node(links, encode_file_data(declared_size, sizes))
    return str(Cid.v1(DAG_PB, hashlib.sha256(block).digest())), block
