"""Re-deriving a network's rounds from the chain and content hashes alone.

The auditor trusts two things: the chain (its events, state, transactions and block
times) and hashes. Everything else (task spec, models, updates, proofs, reports) is
fetched by CID, re-hashed, compared with what the chain recorded, and recomputed. For each
round it replays (`ledger.audit.history`):

1. the task the round ran (by the hash the round recorded) and the base model, whose hash
   must be the previous round's new model (round 0: the task's initial weights);
2. every reveal: its commitment recomputed from the reveal's calldata salt must equal the
   committed one, it must lie inside the reveal window, and its update and proof are
   re-checked exactly as an aggregator must (`ledger.submissions.check_submission`: CID,
   keccak, format, norm, EIP-712 signature bound to this update, round, base and chain);
3. the round report: its bytes must hash to `reportHash`, it must agree with the
   finalization event, list exactly the revealed submissions, and state the verdicts,
   scores and rewards the auditor recomputes;
4. the declared rule and reward allocation, re-run (`AuditRules`): the new model hash,
   rewards root and total must equal the chain's bit for bit;
5. every claim paid: a leaf of the recomputed rewards tree, minted exactly once by the
   token in the same transaction, never more in total than the round's `totalReward`.

Each discrepancy is a `Finding` with a stable code (`ledger.audit.findings`). A round
whose content is missing is *unverifiable*, not *mismatch*: absence is not proof of a lie.
`ledger` must not import the aggregator, so the rule functions are handed in
(`ledger.audit.rules`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from eth_utils.crypto import keccak

from ledger.audit import findings as F
from ledger.audit.findings import Finding, Verdict, mismatch, unverifiable, verdict_of
from ledger.audit.history import CalldataReader, NetworkHistory, RoundEvents, replay
from ledger.audit.privacy import RoundPrivacyAudit, encrypted_findings
from ledger.audit.result import (
    AuditReport,
    ChallengeView,
    ClaimView,
    RoundAudit,
    SubmissionView,
)
from ledger.audit.rules import AuditRules, RecomputedRound, RoundRecompute
from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundFinalized, RoundInfo, RoundStatus, commitment
from ledger.errors import ContentNotFound, FormatError, IntegrityError, StoreError
from ledger.formats.model import decode_model, encode_model
from ledger.formats.report import RoundReport, parse_report, rewards_leaves, rewards_root
from ledger.formats.task import TaskSpec
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.record import PrivacyRecord
from ledger.store.base import ContentStore
from ledger.submissions import RevealedSubmission, SubmissionCheck, check_submission
from ledger.weights import weights_hash

#: Codes of `check_submission` that mean "could not fetch", not "the participant lied".
_GAP_CODES = {"content.missing": F.CONTENT_MISSING, "content.unavailable": F.CONTENT_UNAVAILABLE}
_MAX_TASK_BYTES = 4 * 1024 * 1024
_MODEL_HEADER_ALLOWANCE = 64 * 1024

#: Called after each round with (rounds done, rounds in all): drives a progress bar.
Progress = Callable[[int, int], None]


class _Stop(Exception):
    """Internal: a finding after which the round's remaining checks cannot run."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


@dataclass(frozen=True)
class _Published:
    """The round's report, once its bytes are proven to be what the chain committed to."""

    report: RoundReport | None
    cid: str


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _challenges(events: RoundEvents) -> tuple[ChallengeView, ...]:
    """Each challenge paired with its resolution (the contract allows one pending at a time)."""
    outcomes = ["upheld" if r.upheld else "rejected" for r in events.resolutions]
    return tuple(ChallengeView(c.challenger, c.evidence_cid, c.bond,
                               outcomes[i] if i < len(outcomes) else "pending")
                 for i, c in enumerate(events.challenges))


class Auditor:
    """Audits one network's rounds from `network`'s chain and `store`'s content.

    `rules` is the explicit boundary to aggregation code (`AuditRules`). A bare
    `RoundRecompute` is also accepted (tests inject lying ones): rewards are then compared
    with the recomputed rewards instead of being re-allocated from the published scores.
    """

    def __init__(self, network: Network, store: ContentStore,
                 rules: AuditRules | RoundRecompute, *,
                 reader: ReaderSecret | None = None) -> None:
        """`reader` is a registered reader key: it opens encrypted updates and noise seeds
        (`ledger.audit.privacy`); without it those are reported unverifiable."""
        self.reader = reader
        self.network = network
        self.registry = network.registry
        self.store = store
        self.rules = rules if isinstance(rules, AuditRules) else None
        self.recompute: RoundRecompute = rules.compute_round if isinstance(rules, AuditRules) \
            else rules
        self._tasks: dict[bytes, TaskSpec] = {}
        self._calldata = CalldataReader(network)

    # -- fetching ------------------------------------------------------------------------
    def _fetch(self, cid: str, what: str, max_size: int | None = None,
               participant: str | None = None) -> bytes:
        try:
            return self.store.get_bytes(cid, max_size=max_size)
        except ContentNotFound as exc:
            raise _Stop(unverifiable(F.CONTENT_MISSING, f"{what} {cid} is not in the store "
                                     f"({exc}): pin it or point --store at a node that has it",
                                     participant)) from exc
        except IntegrityError as exc:
            raise _Stop(unverifiable(F.CONTENT_UNAVAILABLE, f"the store served bytes for {what} "
                                     f"{cid} that do not match the CID: {exc}", participant)) from exc
        except StoreError as exc:
            raise _Stop(unverifiable(F.CONTENT_UNAVAILABLE, f"{what} {cid} could not be "
                                    f"fetched: {exc}", participant)) from exc

    def _task(self, history: NetworkHistory, task_hash: bytes) -> TaskSpec:
        if task_hash in self._tasks:
            return self._tasks[task_hash]
        cid = history.tasks.get(task_hash)
        if cid is None:
            raise _Stop(mismatch(F.TASK_UNKNOWN, f"no TaskSet event published task "
                                 f"{_hex(task_hash)}"))
        data = self._fetch(cid, "task spec", _MAX_TASK_BYTES)
        if keccak(data) != task_hash:
            raise _Stop(mismatch(F.TASK_HASH, f"task spec {cid} hashes to {_hex(keccak(data))}, "
                                 f"the chain says {_hex(task_hash)}"))
        try:
            task = TaskSpec.from_json(data)
        except FormatError as exc:
            raise _Stop(mismatch(F.TASK_MALFORMED, f"task spec {cid} matches its hash but is "
                                 f"not a valid task spec: {exc}")) from exc
        self._tasks[task_hash] = task
        return task

    # -- the audit -----------------------------------------------------------------------
    def audit(self, rounds: Sequence[int] | None = None, *, head_block: int | None = None,
              progress: Progress | None = None) -> AuditReport:
        """Audit `rounds` (default: every opened round) as of `head_block` (default: now)."""
        history = replay(self.network, head_block)
        numbers = sorted(history.rounds) if rounds is None else list(rounds)
        numbers = [r for r in numbers if history.of(r).opened]
        results = []
        for done, r in enumerate(numbers, start=1):
            results.append(self.audit_round(history, r))
            if progress is not None:
                progress(done, len(numbers))
        info = self.network.info
        return AuditReport(info.chain_id, info.registry, info.token, history.head_block,
                           tuple(results))

    def audit_round(self, history: NetworkHistory, round_: int) -> RoundAudit:
        """Audit one round of a replayed history."""
        events = history.of(round_)
        info = self.registry.round_info(round_)
        status = info.status.name.lower()
        if info.status in (RoundStatus.NONE, RoundStatus.OPEN) or not events.finalized:
            if info.status in (RoundStatus.NONE, RoundStatus.OPEN):
                return RoundAudit(round_, Verdict.PENDING, status=status,
                                  challenges=_challenges(events),
                                  finalizations=len(events.finalized))
            gap = unverifiable(F.ROUND_NO_EVENT, f"round {round_} is {status} on chain but no "
                               "RoundFinalized event was found up to the audited block")
            return RoundAudit(round_, Verdict.UNVERIFIABLE, (gap,), status=status)
        fin = events.finalized[-1]
        found: list[Finding] = []
        published = _Published(None, fin.report_cid)
        try:
            published = self._report(fin, found)
            self._check_report_against_chain(round_, info, fin, published.report, found)
            task = self._task(history, info.task_hash)
            self._check_new_model(task, fin, found)
            self._audit_content(history, events, task, info, fin, published.report, found)
        except _Stop as stop:
            found.append(stop.finding)
        return self._round_result(round_, status, fin, published, events, found)

    def _round_result(self, round_: int, status: str, fin: RoundFinalized,
                      published: _Published, events: RoundEvents,
                      found: list[Finding]) -> RoundAudit:
        report = published.report
        accuracy = loss = None
        subs: tuple[SubmissionView, ...] = ()
        if report is not None:
            scale = 10 ** report.decimals
            metrics = report.validation_metrics
            accuracy = metrics["accuracy"] / scale if "accuracy" in metrics else None
            loss = metrics["loss"] / scale if "loss" in metrics else None
            subs = tuple(SubmissionView(s.participant, s.accepted, s.verification, s.reason,
                                        s.score, s.reward) for s in report.submissions)
        claims = tuple(ClaimView(c.account, c.amount, _hex(c.tx_hash)) for c in events.claims)
        challenges = _challenges(events)
        return RoundAudit(
            round=round_, verdict=verdict_of(found), findings=tuple(found), status=status,
            accuracy=accuracy, loss=loss, new_model_hash=_hex(fin.new_model_hash),
            report_cid=fin.report_cid, total_reward=fin.total_reward,
            claimed=sum(c.amount for c in claims), submissions=subs, claims=claims,
            challenges=challenges, finalizations=len(events.finalized))

    # -- the report ----------------------------------------------------------------------
    def _report(self, fin: RoundFinalized, found: list[Finding]) -> _Published:
        try:
            data = self._fetch(fin.report_cid, "round report")
        except _Stop as stop:
            found.append(stop.finding)
            return _Published(None, fin.report_cid)
        digest = keccak(data)
        if digest != fin.report_hash:
            found.append(mismatch(F.REPORT_HASH, f"report {fin.report_cid} hashes to "
                                  f"{_hex(digest)}, finalizeRound published reportHash "
                                  f"{_hex(fin.report_hash)}"))
            return _Published(None, fin.report_cid)
        try:
            return _Published(parse_report(data), fin.report_cid)
        except FormatError as exc:
            found.append(mismatch(F.REPORT_MALFORMED, f"report {fin.report_cid} matches its "
                                  f"hash but is not a valid round report: {exc}"))
            return _Published(None, fin.report_cid)

    def _check_report_against_chain(self, round_: int, info: RoundInfo, fin: RoundFinalized,
                                    report: RoundReport | None, found: list[Finding]) -> None:
        if report is None:
            return
        pairs = (
            ("round", report.round, round_),
            ("task hash", _hex(report.task_hash), _hex(info.task_hash)),
            ("base model hash", _hex(report.base_model_hash), _hex(info.model_hash)),
            ("new model hash", _hex(report.new_model_hash), _hex(fin.new_model_hash)),
            ("new model CID", report.new_model_cid, fin.new_model_cid),
            ("rewards root", _hex(report.rewards_root), _hex(fin.rewards_root)),
            ("total reward", report.total_reward, fin.total_reward),
        )
        for what, said, chain in pairs:
            if said != chain:
                found.append(mismatch(F.REPORT_CHAIN, f"the report's {what} is {said}, the "
                                      f"chain's is {chain}"))

    def _check_new_model(self, task: TaskSpec, fin: RoundFinalized, found: list[Finding]) -> None:
        try:
            data = self._fetch(fin.new_model_cid, "new model",
                               task.layout.numel * 4 + _MODEL_HEADER_ALLOWANCE)
        except _Stop as stop:
            found.append(stop.finding)
            return
        if keccak(data) != fin.new_model_hash:
            found.append(mismatch(F.MODEL_HASH, f"new model {fin.new_model_cid} hashes to "
                                  f"{_hex(keccak(data))}, the chain's newModelHash is "
                                  f"{_hex(fin.new_model_hash)}"))

    # -- reveals, recomputation, rewards and claims ----------------------------------------
    def _base_model(self, history: NetworkHistory, task: TaskSpec, info: RoundInfo,
                    found: list[Finding]) -> torch.Tensor:
        data = self._fetch(info.model_cid, "base model",
                           task.layout.numel * 4 + _MODEL_HEADER_ALLOWANCE)
        if keccak(data) != info.model_hash:
            raise _Stop(mismatch(F.BASE_MODEL_HASH, f"base model {info.model_cid} hashes to "
                                 f"{_hex(keccak(data))}, the round's modelHash is "
                                 f"{_hex(info.model_hash)}"))
        try:
            base = decode_model(data, task.layout, info.round, task.task_hash()).vector
        except FormatError as exc:
            raise _Stop(mismatch(F.BASE_MODEL_MALFORMED, f"base model {info.model_cid} matches "
                                 f"its hash but is not this task's model: {exc}")) from exc
        if info.round == 0:
            if weights_hash(base) != task.initial_model_hash:
                found.append(mismatch(F.BASE_MODEL_INITIAL, "round 0 did not start from the "
                                      "task's initial weights"))
        else:
            previous = history.of(info.round - 1).finalized
            if previous and previous[-1].new_model_hash != info.model_hash and not any(
                    r.upheld for r in history.of(info.round - 1).resolutions):
                found.append(mismatch(F.BASE_MODEL_CHAIN, f"round {info.round} started from "
                                      f"{_hex(info.model_hash)}, round {info.round - 1} "
                                      f"published {_hex(previous[-1].new_model_hash)}"))
        return base

    def _check_reveals(self, events: RoundEvents, info: RoundInfo, found: list[Finding]) -> None:
        for ev in events.reveals:
            calldata = self._calldata.reveal(ev)
            if not info.commit_deadline < calldata.timestamp <= info.reveal_deadline:
                found.append(mismatch(F.REVEAL_WINDOW, f"{ev.participant} revealed at "
                                      f"{calldata.timestamp}, outside the reveal window "
                                      f"({info.commit_deadline}, {info.reveal_deadline}]",
                                      ev.participant))
            committed = events.commitment_of(ev.participant)
            if calldata.salt is None:
                found.append(unverifiable(F.COMMIT_UNREADABLE, f"reveal of {ev.participant}: "
                                          f"{calldata.why_unreadable}", ev.participant))
                continue
            opened = commitment(ev.round, ev.participant, ev.update_hash, ev.proof_hash,
                                calldata.salt)
            if committed != opened or calldata.sender != ev.participant:
                found.append(mismatch(
                    F.COMMIT_BINDING, f"reveal of {ev.participant} opens commitment "
                    f"{_hex(opened)}, the participant committed "
                    f"{'nothing' if committed is None else _hex(committed)}", ev.participant))

    def _audit_content(self, history: NetworkHistory, events: RoundEvents, task: TaskSpec,
                       info: RoundInfo, fin: RoundFinalized, report: RoundReport | None,
                       found: list[Finding]) -> None:
        self._check_reveals(events, info, found)
        if report is not None:
            self._check_membership(events, report, found)
        base = self._base_model(history, task, info, found)
        chain_id, registry = self.network.info.chain_id, self.registry.address
        checks: list[SubmissionCheck] = []
        for ev in events.reveals:
            sub = RevealedSubmission(ev.round, ev.participant, ev.update_cid, ev.update_hash,
                                     ev.proof_cid, ev.proof_hash, ev.num_samples)
            checks.append(check_submission(self.store, sub, task, info.model_hash, chain_id,
                                           registry, reader=self.reader,
                                           required_reader=info.aggregator))
        gaps = [c for c in checks if c.code in _GAP_CODES]
        for c in gaps:
            found.append(unverifiable(_GAP_CODES[c.code], f"the revealed update or proof of "
                                      f"{c.submission.participant} cannot be fetched: "
                                      f"{c.detail}", c.submission.participant))
        sealed = encrypted_findings(checks)
        found.extend(sealed)
        if gaps or sealed:
            self._check_claims(history, events, fin,
                               None if report is None else rewards_leaves(report), found)
            return
        raw, privacy = checks, None
        if task.privacy is not None:
            privacy = RoundPrivacyAudit(task.privacy, self._previous_privacy(history, info.round),
                                        self.reader, self._fetch)
            checks = privacy.prepare(checks)
        outcome = self.recompute(task, base, checks, task.reward_per_round)
        new_vector: torch.Tensor | None = outcome.new_vector
        if privacy is not None:
            new_vector = privacy.finish(report, raw, {s.participant: s.accepted
                                                      for s in outcome.submissions},
                                        outcome.new_vector, found)
        if report is not None:
            self._compare_submissions(report, checks, outcome, task, found)
        encoded = b"" if new_vector is None else encode_model(
            task.layout.unflatten(new_vector), info.round + 1, task.task_hash(),
            layout=task.layout)
        if new_vector is not None and keccak(encoded) != fin.new_model_hash:
            found.append(mismatch(F.MODEL_RECOMPUTED, f"new model hash: the chain says "
                                  f"{_hex(fin.new_model_hash)}, re-running "
                                  f"{task.aggregation_rule} gives {_hex(keccak(encoded))}"))
        leaves = [(s.participant, info.round, s.reward) for s in outcome.submissions
                  if s.reward > 0]
        root = rewards_root(leaves)
        if root != fin.rewards_root:
            found.append(mismatch(F.REWARDS_ROOT, f"rewards root: the chain says "
                                  f"{_hex(fin.rewards_root)}, the recomputed rewards give "
                                  f"{_hex(root)}"))
        if outcome.total_reward != fin.total_reward:
            found.append(mismatch(F.REWARDS_TOTAL, f"total reward: the chain says "
                                  f"{fin.total_reward}, recomputed {outcome.total_reward}"))
        self._check_claims(history, events, fin, leaves, found)

    def _previous_privacy(self, history: NetworkHistory, round_: int) -> PrivacyRecord | None:
        """The previous round's privacy record (clipping norm in force, budgets so far)."""
        if round_ == 0:
            return None
        previous = history.of(round_ - 1).finalized
        if not previous:
            raise _Stop(unverifiable(F.ROUND_NO_EVENT, f"round {round_ - 1} has no "
                                     "RoundFinalized event: the privacy budget so far is unknown"))
        data = self._fetch(previous[-1].report_cid, f"round {round_ - 1} report")
        if keccak(data) != previous[-1].report_hash:
            raise _Stop(mismatch(F.REPORT_HASH, f"round {round_ - 1}'s report does not hash to "
                                 "its reportHash: the privacy budget so far is unknown"))
        try:
            return parse_report(data).privacy
        except FormatError as exc:
            raise _Stop(mismatch(F.REPORT_MALFORMED, f"round {round_ - 1}'s report: {exc}")) \
                from exc

    def _check_membership(self, events: RoundEvents, report: RoundReport,
                          found: list[Finding]) -> None:
        reveals = {ev.participant: ev for ev in events.reveals}
        committed = {c.participant for c in events.commits}
        for sub in report.submissions:
            ev = reveals.get(sub.participant)
            if ev is None:
                if sub.participant in committed:
                    found.append(mismatch(
                        F.SUBMISSION_UNREVEALED, f"the report includes {sub.participant}, who "
                        f"committed in round {report.round} but has no reveal on chain (never "
                        "revealed, or too late: the reveal window closed)", sub.participant))
                else:
                    found.append(mismatch(
                        F.SUBMISSION_NOT_COMMITTED, f"the report includes {sub.participant}, "
                        f"who neither committed nor revealed in round {report.round}",
                        sub.participant))
                continue
            said = (sub.update_cid, sub.update_hash, sub.proof_cid, sub.proof_hash,
                    sub.num_samples)
            chain = (ev.update_cid, ev.update_hash, ev.proof_cid, ev.proof_hash, ev.num_samples)
            if said != chain:
                found.append(mismatch(F.SUBMISSION_RECORD, f"the report's record of "
                                      f"{sub.participant} differs from its reveal on chain",
                                      sub.participant))
        listed = {s.participant for s in report.submissions}
        for participant in sorted(set(reveals) - listed):
            found.append(mismatch(F.SUBMISSION_OMITTED, f"the report omits the revealed update "
                                  f"of {participant}", participant))

    def _compare_submissions(self, report: RoundReport, checks: Sequence[SubmissionCheck],
                             outcome: RecomputedRound, task: TaskSpec,
                             found: list[Finding]) -> None:
        ours = {s.participant: s for s in outcome.submissions}
        detail = {c.submission.participant: c.detail for c in checks}
        tolerance = self.rules.score_tolerance if self.rules is not None else 2
        for pub in report.submissions:
            mine = ours.get(pub.participant)
            if mine is None:
                continue
            if (pub.verification, pub.accepted) != (mine.verification, mine.accepted):
                why = f" ({detail[pub.participant]})" if detail.get(pub.participant) else ""
                found.append(mismatch(
                    F.SUBMISSION_VERIFICATION, f"{pub.participant}: the report says "
                    f"verification={pub.verification} accepted={pub.accepted}, the auditor "
                    f"finds verification={mine.verification}{why} accepted={mine.accepted}",
                    pub.participant))
                continue
            if abs(pub.score - mine.score) > tolerance:
                found.append(mismatch(F.SUBMISSION_SCORE, f"{pub.participant}: score "
                                      f"{pub.score} published, {mine.score} recomputed "
                                      f"(tolerance {tolerance})", pub.participant))
        if self.rules is None:
            expected = {p: s.reward for p, s in ours.items()}
        else:
            valid = [s for s in report.submissions if s.verification == "ok"]
            amounts = self.rules.allocate_rewards(
                task.reward_per_round, [s.score if s.accepted else 0 for s in valid])
            expected = {s.participant: a for s, a in zip(valid, amounts, strict=True)}
        for pub in report.submissions:
            if pub.participant in expected and pub.reward != expected[pub.participant]:
                basis = "recomputed" if self.rules is None else "owed for the published scores"
                found.append(mismatch(F.SUBMISSION_REWARD, f"{pub.participant}: reward "
                                      f"{pub.reward} published, {expected[pub.participant]} "
                                      f"{basis}", pub.participant))

    def _check_claims(self, history: NetworkHistory, events: RoundEvents, fin: RoundFinalized,
                      leaves: Sequence[tuple[str, int, int]] | None,
                      found: list[Finding]) -> None:
        """Every claim is a leaf, minted once in its own transaction, within the total."""
        owed = None if leaves is None else {(a, amount) for a, _, amount in leaves}
        total = 0
        for claim in events.claims:
            total += claim.amount
            if owed is not None and (claim.account, claim.amount) not in owed:
                found.append(mismatch(F.CLAIM_NOT_IN_TREE, f"{claim.account} was paid "
                                      f"{claim.amount} in round {claim.round} (tx "
                                      f"{_hex(claim.tx_hash)}), which is no leaf of the "
                                      "recomputed rewards tree", claim.account))
            mints = history.mints_by_tx.get(claim.tx_hash, [])
            claims_in_tx = [c for c in events.claims if c.tx_hash == claim.tx_hash]
            minted = sorted((m.to, m.value) for m in mints)
            claimed = sorted((c.account, c.amount) for c in claims_in_tx)
            if minted != claimed and claim is claims_in_tx[0]:
                found.append(mismatch(F.CLAIM_TRANSFER, f"transaction {_hex(claim.tx_hash)} "
                                      f"logs claims {claimed} but the token minted {minted}",
                                      claim.account))
        if total > fin.total_reward:
            found.append(mismatch(F.CLAIM_OVER_TOTAL, f"round {fin.round} paid {total} in "
                                  f"claims, more than its totalReward {fin.total_reward}"))
