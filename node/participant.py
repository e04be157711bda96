"""A participant's side of a round: train, package, commit, reveal, claim.

Each step checks what it is given against the chain before using it (the global
model's bytes against the round's on-chain hash, the task spec against the registry's
task hash) and is idempotent through the journal: a step already recorded is not
repeated, and the salt that opens a commitment is on disk before the commitment is
sent. Training is split from packaging so a simulation can let colluding attackers
see the round's benign deltas (ALIE, IPM) between the two; a real node runs
`prepare_round`, which does both.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import torch
from eth_utils import keccak
from rich.console import Console

from ledger.chain.base import TxSigner
from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundInfo, RoundStatus, commitment
from ledger.errors import FedLedgerError, IntegrityError
from ledger.formats.canonical import to_fixed
from ledger.formats.model import decode_model
from ledger.formats.proof import METRIC_DECIMALS, ProofFields, data_commitment, sign_proof
from ledger.formats.report import parse_report, rewards_tree
from ledger.formats.task import TaskSpec
from ledger.formats.update import encode_update
from ledger.privacy.envelope import seal
from ledger.privacy.mechanism import clipping_norm_for
from ledger.privacy.readers import ReaderKeySource
from ledger.store.base import ContentStore
from node.attacks import AttackConfig, AttackContext
from node.journal import Journal, RoundEntry, Stage
from node.privacy.client_dp import privatize_update
from node.training.local import LocalResult, train_local
from node.training.train_config import TrainConfig

SOFTWARE_VERSION = "fedledger-0.1.0"


class RoundClosedError(FedLedgerError):
    """A deadline for the step has already passed (or the round is not in that phase)."""


@dataclass(frozen=True)
class TrainingJob:
    """One participant's local training for one round, as plain picklable data."""

    model: str
    model_kwargs: dict[str, object]
    base_state: dict[str, torch.Tensor]
    x: torch.Tensor
    y: torch.Tensor
    config: TrainConfig
    device: str

    def run(self) -> LocalResult:
        """Run `train_local` on the job (no progress bar): what an engine's worker calls."""
        return train_local(self.model, self.model_kwargs, self.base_state, self.x, self.y,
                           self.config, device=self.device, progress=False)


@dataclass(frozen=True)
class LocalData:
    """A participant's private training examples (never leave the machine)."""

    x: torch.Tensor
    y: torch.Tensor


def example_bytes(x: torch.Tensor, y: torch.Tensor) -> list[bytes]:
    """Canonical bytes of each training example, for the proof's data commitment."""
    xs = x.detach().to(torch.float32).contiguous().reshape(len(x), -1).numpy()
    ys = y.detach().to(torch.int64).numpy()
    return [xs[i].tobytes() + int(ys[i]).to_bytes(8, "little", signed=True) for i in range(len(xs))]


class Participant:
    """One participant of one network, with its key, data, journal and store."""

    def __init__(
        self,
        network: Network,
        signer: TxSigner,
        store: ContentStore,
        task: TaskSpec,
        data: LocalData,
        journal: Journal,
        *,
        device: str | torch.device = "cpu",
        attack: AttackConfig | None = None,
        progress: bool = False,
        console: Console | None = None,
        readers: ReaderKeySource | None = None,
    ) -> None:
        """`readers`: seal the update and proof to this reader set (encrypted-updates mode)."""
        self.readers = readers
        self.network = network
        self.registry = network.registry
        self.signer = signer
        self.address = signer.address
        self.store = store
        self.task = task
        self.task_hash = task.task_hash()
        self.data = data
        self.journal = journal
        self.device = device
        self.attack = attack or AttackConfig()
        self.progress = progress
        self.console = console or Console(quiet=True)

    # -- reading the round ----------------------------------------------------------------
    def round_info(self, round_: int) -> RoundInfo:
        info = self.registry.round_info(round_)
        if info.status is RoundStatus.NONE:
            raise RoundClosedError(f"round {round_} has not been opened")
        if info.task_hash != self.task_hash:
            raise IntegrityError(
                f"round {round_} runs task 0x{info.task_hash.hex()}, this node was configured "
                f"for task 0x{self.task_hash.hex()}: fetch the current task spec"
            )
        return info

    def global_model(self, info: RoundInfo) -> dict[str, torch.Tensor]:
        """The round's base model, verified against its on-chain hash before any use."""
        data = self.store.get_bytes(info.model_cid, max_size=self.task.layout.numel * 4 + 65536)
        actual = keccak(data)
        if actual != info.model_hash:
            raise IntegrityError(
                f"global model {info.model_cid} of round {info.round} hashes to 0x{actual.hex()}, "
                f"the chain says 0x{info.model_hash.hex()}: refusing to train on it"
            )
        return decode_model(data, self.task.layout, info.round, self.task_hash).state_dict()

    # -- training --------------------------------------------------------------------------
    def training_job(self, round_: int) -> TrainingJob:
        """Everything local training needs for `round_`, checked against the chain.

        The job is plain data (no chain or store handles), so a simulation engine can run
        `train_local` on it in another process or on another machine.
        """
        info = self.round_info(round_)
        base = self.global_model(info)
        cfg = self.task.training
        config = TrainConfig(
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=float(cfg.lr),
            momentum=float(cfg.momentum),
            prox_mu=float(cfg.proximal_mu),
            seed=cfg.derive_seed(round_, self.address),
        )
        x, y = self.data.x, self.data.y
        x, y = self.attack.poison_data(x, y, int(self.task.model_kwargs["num_classes"]))  # type: ignore[call-overload]
        return TrainingJob(self.task.model, dict(self.task.model_kwargs), base, x, y, config,
                           str(self.device))

    def train(self, round_: int) -> LocalResult:
        """Train on the round's global model with the task's hyper-parameters."""
        job = self.training_job(round_)
        return train_local(job.model, job.model_kwargs, job.base_state, job.x, job.y, job.config,
                           device=job.device, progress=self.progress, console=self.console)

    def tampered(self, delta: Mapping[str, torch.Tensor], context: AttackContext) -> dict[str, torch.Tensor]:
        """The delta after this node's (evaluation-only) attack, if any."""
        return dict(self.attack.tamper_update(dict(delta), context))

    # -- packaging --------------------------------------------------------------------------
    def package(self, round_: int, result: LocalResult,
                delta: Mapping[str, torch.Tensor] | None = None) -> RoundEntry:
        """Store the update and its signed proof and journal them; idempotent per round."""
        existing = self.journal.get(round_)
        if existing is not None:
            return existing
        info = self.round_info(round_)
        if self.network.backend.now() > info.commit_deadline:
            raise RoundClosedError(
                f"round {round_} stopped taking commitments at {info.commit_deadline}"
            )
        delta = dict(result.delta if delta is None else delta)
        if self.task.privacy is not None:  # client-side clipping / local noise of the task
            delta = privatize_update(delta, self.task.layout, self.task.privacy,
                                     self._clipping_norm(round_)).delta
        update = encode_update(delta, round_, info.model_hash, self.address, layout=self.task.layout)
        readers = self.readers.reader_keys() if self.readers is not None else None
        if readers is not None:  # the chain pins the envelope; the proof vouches for it
            update = seal(update, readers, kind="update")
        update_hash = keccak(update)
        update_cid = self.store.put_bytes(update)
        salt = secrets.token_bytes(32)
        metrics = {
            "accuracy_after": to_fixed(result.metrics.accuracy_after, METRIC_DECIMALS),
            "accuracy_before": to_fixed(result.metrics.accuracy_before, METRIC_DECIMALS),
            "loss_after": to_fixed(result.metrics.loss_after, METRIC_DECIMALS),
            "loss_before": to_fixed(result.metrics.loss_before, METRIC_DECIMALS),
        }
        fields = ProofFields(
            round=round_,
            participant=self.address,
            base_model_hash=info.model_hash,
            update_hash=update_hash,
            num_samples=result.num_samples,
            data_commitment=data_commitment(example_bytes(self.data.x, self.data.y), salt),
            training_config_hash=self.task.training.config_hash(),
            metrics=metrics,
            software_version=SOFTWARE_VERSION,
        )
        proof = sign_proof(fields, self.signer, self.network.info.chain_id,  # type: ignore[arg-type]
                           self.registry.address)
        proof_bytes = proof.canonical_bytes()
        if readers is not None:
            proof_bytes = seal(proof_bytes, readers, kind="proof")
        proof_hash = keccak(proof_bytes)
        proof_cid = self.store.put_bytes(proof_bytes)
        entry = RoundEntry(
            round=round_,
            stage=Stage.PREPARED,
            base_model_hash="0x" + info.model_hash.hex(),
            update_cid=update_cid,
            update_hash="0x" + update_hash.hex(),
            proof_cid=proof_cid,
            proof_hash="0x" + proof_hash.hex(),
            num_samples=result.num_samples,
            salt="0x" + salt.hex(),
            commitment="0x" + commitment(round_, self.address, update_hash, proof_hash, salt).hex(),
            metrics={k: str(v) for k, v in metrics.items()},
        )
        return self.journal.record(entry)

    def _clipping_norm(self, round_: int) -> Decimal:
        """The DP clipping norm of `round_`: the task's, or the previous report's next one."""
        params = self.task.privacy
        assert params is not None
        if round_ == 0 or not params.adaptive:
            return params.clipping_norm
        events = self.registry.events_round_finalized(round=round_ - 1)
        if not events:
            raise RoundClosedError(f"round {round_ - 1} is not finalized: its report sets the "
                                   "clipping norm of this round")
        data = self.store.get_bytes(events[-1].report_cid)
        if keccak(data) != events[-1].report_hash:
            raise IntegrityError(f"report {events[-1].report_cid} does not match its on-chain hash")
        return clipping_norm_for(params, parse_report(data).privacy)

    def prepare_round(self, round_: int) -> RoundEntry:
        """Train and package (a real node's path: no colluders' knowledge)."""
        existing = self.journal.get(round_)
        if existing is not None:
            return existing
        result = self.train(round_)
        delta = self.tampered(result.delta, AttackContext(round=round_))
        return self.package(round_, result, delta)

    # -- chain steps ----------------------------------------------------------------------
    def _entry(self, round_: int) -> RoundEntry:
        entry = self.journal.get(round_)
        if entry is None:
            raise RoundClosedError(f"round {round_}: nothing prepared to submit")
        return entry

    def commit(self, round_: int) -> RoundEntry:
        """Send the commitment unless the journal or the chain says it was sent."""
        entry = self._entry(round_)
        if entry.stage.rank >= Stage.COMMITTED.rank:
            return entry
        on_chain = self.registry.commitment_of(round_, self.address)
        if on_chain == bytes.fromhex(entry.commitment[2:]):  # sent before a crash
            return self.journal.advance(round_, Stage.COMMITTED)
        receipt = self.registry.commit(round_, bytes.fromhex(entry.commitment[2:]), sender=self.signer)
        return self.journal.advance(round_, Stage.COMMITTED,
                                    commit_tx="0x" + bytes(receipt["transactionHash"]).hex())

    def reveal(self, round_: int) -> RoundEntry:
        """Open the commitment (skipped for the evaluation-only no-reveal attack)."""
        entry = self._entry(round_)
        if entry.stage.rank >= Stage.REVEALED.rank:
            return entry
        if entry.stage is not Stage.COMMITTED:
            raise RoundClosedError(f"round {round_}: cannot reveal before committing")
        if self.attack.no_reveal:
            return self.journal.advance(round_, Stage.SKIPPED, note="no-reveal attack: withheld")
        if self.registry.has_revealed(round_, self.address):
            return self.journal.advance(round_, Stage.REVEALED)
        receipt = self.registry.reveal(
            round_, entry.update_cid, bytes.fromhex(entry.update_hash[2:]), entry.proof_cid,
            bytes.fromhex(entry.proof_hash[2:]), entry.num_samples, bytes.fromhex(entry.salt[2:]),
            sender=self.signer,
        )
        return self.journal.advance(round_, Stage.REVEALED,
                                    reveal_tx="0x" + bytes(receipt["transactionHash"]).hex())

    def claim(self, round_: int) -> int:
        """Claim this node's reward for a finalized round; returns the amount (0 if none)."""
        entry = self.journal.get(round_)
        if entry is not None and entry.stage is Stage.CLAIMED:
            return entry.reward or 0
        events = self.registry.events_round_finalized(round=round_)
        if not events:
            raise RoundClosedError(f"round {round_} is not finalized yet")
        ev = events[-1]
        report_bytes = self.store.get_bytes(ev.report_cid)
        if keccak(report_bytes) != ev.report_hash:
            raise IntegrityError(f"report {ev.report_cid} does not match its on-chain hash")
        report = parse_report(report_bytes)
        tree = rewards_tree(report)
        amount = next((s.reward for s in report.submissions if s.participant == self.address), 0)
        if amount == 0 or tree is None:
            if entry is not None:
                self.journal.advance(round_, Stage.CLAIMED, reward=0)
            return 0
        if not self.registry.is_claimed(round_, self.address):
            proof = tree.get_proof([self.address, round_, amount])
            self.registry.claim(round_, self.address, amount, proof, sender=self.signer)
        if entry is not None:
            self.journal.advance(round_, Stage.CLAIMED, reward=amount)
        return amount
