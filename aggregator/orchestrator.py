"""The aggregator's round loop: open, wait, fetch, aggregate, publish, finalize.

It keeps no state of its own that matters: where the network stands is read from
the chain (`nextRound`, each round's status and deadlines) and every artifact is
content-addressed. Aggregation is a pure function of the reveals, so a restarted
aggregator recomputes exactly the bytes (hence CIDs) it may already have stored, and
the contract refuses a second `finalizeRound`: killing it between any two steps loses
nothing and pays nothing twice.

The orchestrator never touches the clock of a test chain: it only *reads* chain time.
A simulation (the demo, tests) advances time itself; the service waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from eth_utils import keccak
from rich.console import Console

from aggregator.decision_codec import encode_decision
from aggregator.privacy.server_dp import private_round
from aggregator.round_compute import RoundOutcome, compute_round
from ledger.chain.base import TxSigner
from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundStatus
from ledger.errors import ConfigError, FedLedgerError, IntegrityError
from ledger.formats.canonical import to_fixed
from ledger.formats.model import decode_model, encode_model
from ledger.formats.report import REPORT_DECIMALS, RoundReport, parse_report, rewards_root
from ledger.formats.task import TaskSpec
from ledger.privacy.envelope import seal
from ledger.privacy.readers import ReaderKeySource, ReaderSecret
from ledger.privacy.record import PrivacyRecord
from ledger.store.base import ContentStore
from ledger.submissions import RevealedSubmission, SubmissionCheck, check_submission
from ledger.weights import weights_hash

#: Evaluates a model state on the aggregator's validation split -> (loss, accuracy).
Evaluator = Callable[[dict[str, torch.Tensor]], tuple[float, float]]


class RoundStateError(FedLedgerError):
    """The chain is not in a state where the requested step makes sense."""


@dataclass(frozen=True)
class FinalizedRound:
    """What the aggregator published for a round."""

    round: int
    report: RoundReport
    report_cid: str
    model_cid: str
    outcome: RoundOutcome | None  # None when the round had been finalized before a restart


class RoundOrchestrator:
    """Drives rounds of one network as its appointed aggregator."""

    def __init__(
        self,
        network: Network,
        signer: TxSigner,
        store: ContentStore,
        task: TaskSpec,
        *,
        evaluator: Evaluator | None = None,
        console: Console | None = None,
        reader: ReaderSecret | None = None,
        readers: ReaderKeySource | None = None,
    ) -> None:
        """`reader` (the aggregator's reader key) opens encrypted submissions; `readers`
        is the reader set a DP task's server-noise seed is sealed to (`ledger.privacy`)."""
        self.reader = reader
        self.readers = readers
        self.network = network
        self.registry = network.registry
        self.signer = signer
        self.store = store
        self.task = task
        self.task_hash = task.task_hash()
        self.evaluator = evaluator
        self.console = console or Console(quiet=True)

    # -- models --------------------------------------------------------------------------
    def load_model(self, cid: str, model_hash: bytes, round_: int) -> torch.Tensor:
        """Fetch a global model by CID, check its hash and format, return it flattened."""
        data = self.store.get_bytes(cid, max_size=self.task.layout.numel * 4 + 65536)
        if keccak(data) != model_hash:
            raise IntegrityError(
                f"model {cid} hashes to 0x{keccak(data).hex()}, chain says 0x{model_hash.hex()}"
            )
        return decode_model(data, self.task.layout, round_, self.task_hash).vector

    def publish_model(self, vector: torch.Tensor, round_: int) -> tuple[str, bytes]:
        """Store the model that round `round_` starts from; return (CID, keccak)."""
        data = encode_model(self.task.layout.unflatten(vector), round_, self.task_hash,
                            layout=self.task.layout)
        return self.store.put_bytes(data), keccak(data)

    # -- round steps ------------------------------------------------------------------------
    def open_round(self, round_: int, model_cid: str, model_hash: bytes) -> None:
        """Open `round_` on the model at `model_cid`; a no-op if it is already open."""
        info = self.registry.round_info(round_)
        if info.status is not RoundStatus.NONE:
            return
        now = self.network.backend.now()
        commit_deadline = now + self.task.commit_seconds
        reveal_deadline = commit_deadline + self.task.reveal_seconds
        self.registry.open_round(round_, model_cid, model_hash, commit_deadline, reveal_deadline,
                                 sender=self.signer)
        self.console.log(f"round {round_} opened on model {model_cid[:16]}…")

    def open_next_round(self, initial_vector: torch.Tensor | None = None) -> int:
        """Open the next round on the latest model (round 0: the initial model)."""
        round_ = self.registry.next_round()
        if round_ == 0:
            if initial_vector is None:
                raise RoundStateError("round 0 needs the initial model")
            if weights_hash(initial_vector) != self.task.initial_model_hash:
                raise IntegrityError(
                    "the initial weights do not hash to the task's initial_model_hash"
                )
            cid, digest = self.publish_model(initial_vector, 0)
        else:
            prev = self.registry.round_info(round_ - 1)
            if prev.status is RoundStatus.OPEN:
                raise RoundStateError(f"round {round_ - 1} is still open")
            finalized = self.registry.events_round_finalized(round=round_ - 1)
            if not finalized:
                raise RoundStateError(f"round {round_ - 1} has no RoundFinalized event")
            cid, digest = finalized[-1].new_model_cid, finalized[-1].new_model_hash
        self.open_round(round_, cid, digest)
        return round_

    def collect(self, round_: int) -> tuple[list[SubmissionCheck], list[str]]:
        """Check every reveal of `round_`; also list who committed but never revealed."""
        info = self.registry.round_info(round_)
        reveals = self.registry.events_update_revealed(round=round_)
        commits = self.registry.events_update_committed(round=round_)
        revealed = {r.participant for r in reveals}
        unrevealed = sorted({c.participant for c in commits} - revealed)
        checks = []
        for ev in reveals:
            sub = RevealedSubmission(ev.round, ev.participant, ev.update_cid, ev.update_hash,
                                     ev.proof_cid, ev.proof_hash, ev.num_samples)
            checks.append(check_submission(self.store, sub, self.task, info.model_hash,
                                           self.network.info.chain_id, self.registry.address,
                                           reader=self.reader, required_reader=info.aggregator))
        return checks, unrevealed

    def finalize_round(self, round_: int, *, reference: torch.Tensor | None = None) -> FinalizedRound:
        """Aggregate `round_` and finalize it on chain (idempotent across restarts)."""
        info = self.registry.round_info(round_)
        if info.status is RoundStatus.NONE:
            raise RoundStateError(f"round {round_} was never opened")
        if info.status is not RoundStatus.OPEN:
            return self._already_finalized(round_)
        now = self.network.backend.now()
        if now <= info.reveal_deadline:
            raise RoundStateError(
                f"round {round_} reveals close at {info.reveal_deadline}, chain time is {now}"
            )
        base = self.load_model(info.model_cid, info.model_hash, round_)
        checks, _ = self.collect(round_)
        privacy: PrivacyRecord | None = None
        if self.task.privacy is not None:
            private = private_round(self.task, base, checks, self.task.reward_per_round,
                                    previous=self._previous_privacy(round_),
                                    publish_seed=self._seal_seed)
            outcome, privacy = private.outcome, private.record
        else:
            outcome = compute_round(self.task, base, checks, self.task.reward_per_round,
                                    reference=reference)
        model_cid, model_hash = self.publish_model(outcome.new_vector, round_ + 1)
        metrics: dict[str, int] = {}
        if self.evaluator is not None:
            loss, acc = self.evaluator(self.task.layout.unflatten(outcome.new_vector))
            metrics = {"loss": to_fixed(loss, REPORT_DECIMALS),
                       "accuracy": to_fixed(acc, REPORT_DECIMALS)}
        leaves = [(s.participant, round_, s.reward) for s in outcome.submissions if s.reward > 0]
        rule = outcome.result.rule if outcome.result else self.task.aggregation_rule
        report = RoundReport(
            round=round_,
            task_hash=self.task_hash,
            base_model_hash=info.model_hash,
            rule=rule,
            rule_params=dict(self.task.aggregation_params),
            decimals=REPORT_DECIMALS,
            submissions=outcome.submissions,
            decision=encode_decision(outcome.decision),
            validation_metrics=metrics,
            new_model_hash=model_hash,
            new_model_cid=model_cid,
            rewards_root=rewards_root(leaves),
            total_reward=outcome.total_reward,
            privacy=privacy,
        )
        report_bytes = report.canonical_bytes()
        report_cid = self.store.put_bytes(report_bytes)
        self.registry.finalize_round(round_, model_cid, model_hash, report_cid, keccak(report_bytes),
                                     report.rewards_root, report.total_reward, sender=self.signer)
        accepted = sum(s.accepted for s in outcome.submissions)
        self.console.log(f"round {round_} finalized: {accepted}/{len(outcome.submissions)} accepted, "
                         f"{outcome.total_reward} paid")
        return FinalizedRound(round_, report, report_cid, model_cid, outcome)

    def _previous_privacy(self, round_: int) -> PrivacyRecord | None:
        """The previous round's privacy record (the clipping norm in force, budgets so far)."""
        if round_ == 0:
            return None
        events = self.registry.events_round_finalized(round=round_ - 1)
        if not events:
            raise RoundStateError(f"round {round_ - 1} has no RoundFinalized event")
        data = self.store.get_bytes(events[-1].report_cid)
        if keccak(data) != events[-1].report_hash:
            raise IntegrityError(f"report {events[-1].report_cid} does not match its on-chain hash")
        return parse_report(data).privacy

    def _seal_seed(self, seed: bytes) -> str:
        """Seal a server-noise seed to the reader set and store it; return its CID."""
        if self.readers is None:
            raise ConfigError("this task adds server-side DP noise: give the orchestrator the "
                              "reader set (readers=...) to seal the noise seed to")
        return self.store.put_bytes(seal(seed, self.readers.reader_keys(), kind="noise_seed"))

    def _already_finalized(self, round_: int) -> FinalizedRound:
        events = self.registry.events_round_finalized(round=round_)
        if not events:
            raise RoundStateError(f"round {round_} is not open and has no RoundFinalized event")
        ev = events[-1]
        report = parse_report(self.store.get_bytes(ev.report_cid))
        return FinalizedRound(round_, report, ev.report_cid, ev.new_model_cid, None)
