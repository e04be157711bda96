"""Re-deriving a network's rounds from the chain and content hashes alone.

The auditor trusts two things: the chain's events and state, and hashes. Everything
else (reports, models, updates, proofs) is fetched by CID, re-hashed and compared with
what the chain recorded, then recomputed. For each finalized round it:

1. fetches the round report and checks its keccak against `reportHash`;
2. re-checks every on-chain reveal exactly as an aggregator must (CID, hash, update
   format and norm, signed proof), and compares the report's verdicts with its own;
3. re-runs the round's declared rule and reward allocation on the checked updates and
   compares the new model hash and the rewards root bit for bit;
4. checks that the tokens claimed match the report's rewards.

`ledger` must not import the aggregator, so the pure round function is handed in
(`RoundRecompute`); the command line passes `aggregator.round_compute.compute_round`.
A round whose content is missing is *unverifiable*, not *mismatch*: absence is not proof
of a lie.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import torch
from eth_utils import keccak

from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundStatus
from ledger.errors import ContentNotFound, FedLedgerError, FormatError, IntegrityError, StoreError
from ledger.formats.model import decode_model, encode_model
from ledger.formats.report import RoundReport, parse_report, rewards_leaves, rewards_root
from ledger.formats.task import TaskSpec
from ledger.store.base import ContentStore
from ledger.submissions import RevealedSubmission, SubmissionCheck, check_submission
from ledger.weights import weights_hash


class Verdict(str, Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"


class RecomputedSubmission(Protocol):
    participant: str
    verification: str
    accepted: bool
    score: int
    reward: int


class RecomputedRound(Protocol):
    submissions: Sequence[Any]
    new_vector: torch.Tensor
    total_reward: int


#: (task, base vector, checks, reward pool) -> the round's outcome, purely.
RoundRecompute = Callable[[TaskSpec, torch.Tensor, Sequence[SubmissionCheck], int], RecomputedRound]


@dataclass(frozen=True)
class RoundAudit:
    """The auditor's finding for one round."""

    round: int
    verdict: Verdict
    findings: tuple[str, ...] = ()
    accuracy: float | None = None
    accepted: int = 0
    rejected: int = 0
    total_reward: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "verdict": self.verdict.value, "findings": list(self.findings),
                "accuracy": self.accuracy, "accepted": self.accepted, "rejected": self.rejected,
                "total_reward": str(self.total_reward)}


@dataclass(frozen=True)
class AuditReport:
    """Every round's finding and the overall verdict."""

    registry: str
    chain_id: int
    task_hash: str
    rounds: tuple[RoundAudit, ...]
    findings: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        verdicts = {r.verdict for r in self.rounds}
        if self.findings or Verdict.MISMATCH in verdicts:
            return Verdict.MISMATCH
        if Verdict.UNVERIFIABLE in verdicts:
            return Verdict.UNVERIFIABLE
        return Verdict.VERIFIED

    def to_json(self) -> dict[str, Any]:
        return {"registry": self.registry, "chain_id": self.chain_id, "task_hash": self.task_hash,
                "verdict": self.verdict.value, "findings": list(self.findings),
                "rounds": [r.to_json() for r in self.rounds]}


class _Unverifiable(FedLedgerError):
    pass


class Auditor:
    """Audits one network's finalized rounds."""

    def __init__(self, network: Network, store: ContentStore, recompute: RoundRecompute) -> None:
        self.network = network
        self.registry = network.registry
        self.store = store
        self.recompute = recompute

    def _fetch(self, cid: str, what: str, max_size: int | None = None) -> bytes:
        try:
            return self.store.get_bytes(cid, max_size=max_size)
        except ContentNotFound as exc:
            raise _Unverifiable(f"{what} {cid} is not in the store: {exc}") from exc
        except IntegrityError:
            raise
        except StoreError as exc:
            raise _Unverifiable(f"{what} {cid} could not be fetched: {exc}") from exc

    def load_task(self) -> TaskSpec:
        info = self.registry.task()
        data = self._fetch(info.task_cid, "task spec", 4 * 1024 * 1024)
        if keccak(data) != info.task_hash:
            raise IntegrityError(f"task spec {info.task_cid} does not match the on-chain task hash")
        return TaskSpec.from_json(data)

    def audit(self, rounds: Sequence[int] | None = None) -> AuditReport:
        try:
            task = self.load_task()
        except (_Unverifiable, IntegrityError, FormatError) as exc:
            return AuditReport(self.registry.address, self.network.info.chain_id, "", (),
                               (f"task spec: {exc}",))
        if rounds is None:
            rounds = range(self.registry.next_round())
        results = [self.audit_round(task, r) for r in rounds]
        return AuditReport(self.registry.address, self.network.info.chain_id,
                           "0x" + task.task_hash().hex(), tuple(results))

    def audit_round(self, task: TaskSpec, round_: int) -> RoundAudit:
        info = self.registry.round_info(round_)
        if info.status in (RoundStatus.NONE, RoundStatus.OPEN):
            return RoundAudit(round_, Verdict.UNVERIFIABLE, (f"round {round_} is not finalized",))
        try:
            return self._audit_finalized(task, round_, info)
        except _Unverifiable as exc:
            return RoundAudit(round_, Verdict.UNVERIFIABLE, (str(exc),))
        except (IntegrityError, FormatError) as exc:
            return RoundAudit(round_, Verdict.MISMATCH, (str(exc),))

    def _audit_finalized(self, task: TaskSpec, round_: int, info: Any) -> RoundAudit:
        findings: list[str] = []
        task_hash = task.task_hash()
        if info.task_hash != task_hash:
            findings.append(f"round ran task 0x{info.task_hash.hex()}, the registry's task is "
                            f"0x{task_hash.hex()}")
        events = self.registry.events_round_finalized(round=round_)
        if not events:
            raise _Unverifiable(f"round {round_} has no RoundFinalized event")
        fin = events[-1]
        report_bytes = self._fetch(fin.report_cid, "round report")
        if keccak(report_bytes) != fin.report_hash:
            raise IntegrityError(f"report {fin.report_cid} does not hash to the on-chain reportHash")
        report = parse_report(report_bytes)
        if report.rewards_root != fin.rewards_root:
            findings.append("report rewards root differs from the on-chain rewards root")
        if report.total_reward != fin.total_reward:
            findings.append(f"report pays {report.total_reward}, chain finalized {fin.total_reward}")
        if report.new_model_hash != fin.new_model_hash or report.new_model_cid != fin.new_model_cid:
            findings.append("report's new model differs from the on-chain new model")

        # The base model: content-addressed and hash-pinned by openRound.
        base_bytes = self._fetch(info.model_cid, "base model", task.layout.numel * 4 + 65536)
        if keccak(base_bytes) != info.model_hash:
            raise IntegrityError(f"base model {info.model_cid} does not hash to the round's modelHash")
        base = decode_model(base_bytes, task.layout, round_, task_hash).vector
        if round_ == 0 and weights_hash(base) != task.initial_model_hash:
            findings.append("round 0 did not start from the task's initial weights")

        # Every reveal, re-checked from scratch; and only reveals may appear in the report.
        reveals = self.registry.events_update_revealed(round=round_)
        checks = []
        for ev in reveals:
            sub = RevealedSubmission(ev.round, ev.participant, ev.update_cid, ev.update_hash,
                                     ev.proof_cid, ev.proof_hash, ev.num_samples)
            checks.append(check_submission(self.store, sub, task, info.model_hash,
                                           self.network.info.chain_id, self.registry.address))
        revealed = {ev.participant for ev in reveals}
        reported = {s.participant for s in report.submissions}
        for p in sorted(reported - revealed):
            findings.append(f"report includes {p}, who has no reveal on chain (unrevealed or late)")
        for p in sorted(revealed - reported):
            findings.append(f"report omits the revealed update of {p}")
        if any(c.code == "content.missing" for c in checks):
            missing = [c.submission.participant for c in checks if c.code == "content.missing"]
            raise _Unverifiable(f"updates of {', '.join(missing)} are missing from the store")

        outcome = self.recompute(task, base, checks, task.reward_per_round)
        ours = {s.participant: s for s in outcome.submissions}
        for pub in report.submissions:
            mine = ours.get(pub.participant)
            if mine is None:
                continue
            if (pub.verification, pub.accepted) != (mine.verification, mine.accepted):
                findings.append(
                    f"{pub.participant}: report says verification={pub.verification} "
                    f"accepted={pub.accepted}, recomputed {mine.verification} / {mine.accepted}")
            elif abs(pub.score - mine.score) > 2:
                findings.append(f"{pub.participant}: score {pub.score} published, "
                                f"{mine.score} recomputed")
            elif pub.reward != mine.reward:
                findings.append(f"{pub.participant}: reward {pub.reward} published, "
                                f"{mine.reward} recomputed")
        model_bytes = encode_model(task.layout.unflatten(outcome.new_vector), round_ + 1, task_hash,
                                   layout=task.layout)
        if keccak(model_bytes) != fin.new_model_hash:
            findings.append(f"new model hash: chain 0x{fin.new_model_hash.hex()}, recomputed "
                            f"0x{keccak(model_bytes).hex()}")
        leaves = [(s.participant, round_, s.reward) for s in outcome.submissions if s.reward > 0]
        if rewards_root(leaves) != fin.rewards_root:
            findings.append(f"rewards root: chain 0x{fin.rewards_root.hex()}, recomputed "
                            f"0x{rewards_root(leaves).hex()}")
        findings.extend(self._check_claims(round_, report))
        acc = report.validation_metrics.get("accuracy")
        return RoundAudit(
            round_, Verdict.MISMATCH if findings else Verdict.VERIFIED, tuple(findings),
            accuracy=None if acc is None else acc / 10**report.decimals,
            accepted=sum(s.accepted for s in report.submissions),
            rejected=sum(not s.accepted for s in report.submissions),
            total_reward=report.total_reward,
        )

    def _check_claims(self, round_: int, report: RoundReport) -> list[str]:
        owed = {a: amount for a, _, amount in rewards_leaves(report)}
        findings = []
        for ev in self.registry.events_reward_claimed(round=round_):
            if owed.get(ev.account) != ev.amount:
                findings.append(f"{ev.account} claimed {ev.amount}, the report owes "
                                f"{owed.get(ev.account, 0)}")
        return findings
