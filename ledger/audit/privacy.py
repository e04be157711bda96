"""Auditing what privacy allows: clipping bounds, budgets, and encrypted content.

For a task with DP parameters the auditor runs the round's DP steps
(`ledger.privacy.mechanism`) around the rule exactly as the aggregator must, and checks:

- every update the report accepts respects the round's clipping norm (client-side
  clipping: its exact norm; the refusals the auditor derives must match the report's);
- the report's privacy section follows from the task's published parameters: the
  clipping norm in force (fixed, or the previous report's next norm), the number of
  aggregated updates, the cumulative rounds per participant, every epsilon (recomputed
  with the same accountant) and the total, the delta, and under adaptive clipping the
  next norm from the published noised fraction;
- under server-side noise, the sealed noise seed opens to a seed whose keccak is the
  published one, and then the noised fraction and the noised model are reproduced.

What cannot be checked without a reader key is reported *unverifiable*, never
*mismatch*: an encrypted update or proof (``content.encrypted``, "unverifiable:
encrypted"), and a server noise seed (without it the noised model cannot be re-derived;
the budgets are still checked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import torch
from eth_utils.crypto import keccak

from ledger.audit import findings as F
from ledger.audit.findings import Finding, mismatch, unverifiable
from ledger.formats.norm import exact_squared_norm
from ledger.formats.report import RoundReport
from ledger.formats.task import TaskSpec
from ledger.privacy.accountant import PrivacyBudget
from ledger.privacy.clipping import next_clipping_norm, within_clip_bound
from ledger.privacy.envelope import open_envelope
from ledger.privacy.errors import NotAReaderError, PrivacyFormatError
from ledger.privacy.mechanism import (
    PreparedChecks,
    clipping_norm_for,
    finish_round,
    prepare_checks,
)
from ledger.privacy.params import DpParams
from ledger.privacy.readers import ReaderSecret
from ledger.privacy.record import ParticipantBudget, PrivacyRecord
from ledger.privacy.submission import UNVERIFIABLE_ENCRYPTED
from ledger.submissions import SubmissionCheck

__all__ = [
    "EPSILON_TOLERANCE",
    "PRIVACY_BUDGET",
    "PRIVACY_CLIP_BOUND",
    "PRIVACY_NOISE_SEED",
    "PRIVACY_RECORD",
    "RoundPrivacyAudit",
    "encrypted_findings",
]

PRIVACY_CLIP_BOUND = "privacy.clip_bound"
PRIVACY_RECORD = "privacy.record"
PRIVACY_BUDGET = "privacy.budget"
PRIVACY_NOISE_SEED = "privacy.noise_seed"
EPSILON_TOLERANCE = Decimal("0.000002")
"""Published and recomputed epsilons may differ by float rounding across machines."""

#: (cid, what, max_size) -> bytes proven to match the CID (raises the auditor's gap).
Fetch = Callable[[str, str, int], bytes]


def encrypted_findings(checks: Sequence[SubmissionCheck]) -> list[Finding]:
    """One ``content.encrypted`` gap per submission the auditor holds no key for.

    That is: no reader key at all, or a key the envelope is not addressed to (the
    auditor's key not being a reader says nothing about the participant).
    """
    found = []
    for c in checks:
        if c.code == UNVERIFIABLE_ENCRYPTED:
            found.append(unverifiable(F.CONTENT_ENCRYPTED, c.detail, c.submission.participant))
        elif c.code == NotAReaderError.code:
            found.append(unverifiable(F.CONTENT_ENCRYPTED, f"unverifiable: encrypted: "
                                      f"{c.detail}", c.submission.participant))
    return found


def _epsilon_close(published: str, recomputed: str) -> bool:
    if "inf" in (published, recomputed):
        return published == recomputed
    return abs(Decimal(published) - Decimal(recomputed)) <= EPSILON_TOLERANCE


@dataclass
class RoundPrivacyAudit:
    """The DP steps of one audited round: `prepare` before the rule, `finish` after it."""

    params: DpParams
    previous: PrivacyRecord | None
    reader: ReaderSecret | None
    fetch: Fetch
    prepared: PreparedChecks | None = None

    @classmethod
    def for_task(cls, task: TaskSpec, previous: PrivacyRecord | None,
                 reader: ReaderSecret | None, fetch: Fetch) -> RoundPrivacyAudit | None:
        """The audit steps, or None for a task without DP parameters."""
        if task.privacy is None:
            return None
        return cls(task.privacy, previous, reader, fetch)

    def prepare(self, checks: Sequence[SubmissionCheck]) -> list[SubmissionCheck]:
        """The checks as the rule must see them (clip bound enforced or clipping applied)."""
        self.prepared = prepare_checks(self.params, checks,
                                       clipping_norm_for(self.params, self.previous))
        return list(self.prepared.checks)

    def finish(self, report: RoundReport | None, raw: Sequence[SubmissionCheck],
               accepted: Mapping[str, bool], new_vector: torch.Tensor,
               found: list[Finding]) -> torch.Tensor | None:
        """Check the report's privacy claims; return the noised model (None if unknowable).

        `raw` are the checks before `prepare` (to test the clipping bound on what the
        participants published), `accepted` the recomputed acceptance per participant.
        """
        assert self.prepared is not None, "prepare() runs before finish()"
        clip = self.prepared.clipping_norm
        if report is not None:
            self._check_accepted_bounds(report, raw, clip, found)
        record = None if report is None else report.privacy
        if report is not None and record is None:
            found.append(mismatch(PRIVACY_RECORD, "the task has DP parameters but the round "
                                  "report has no privacy section"))
        if record is not None:
            self._check_record(record, accepted, found)
        noise_due = self.params.noise_side == "server" and any(accepted.values())
        seed_cid = None if record is None else record.noise_seed_cid
        if seed_cid is None or not noise_due:
            if noise_due:
                if record is not None:
                    found.append(mismatch(PRIVACY_NOISE_SEED, "server-side noise was due but "
                                          "the report names no sealed noise seed"))
                return None
            if seed_cid is not None:
                found.append(mismatch(PRIVACY_NOISE_SEED, "the report names a noise seed for "
                                      "a round that adds no server noise"))
            return finish_round(self.params, self.prepared, accepted, new_vector,
                                self.previous, None, None).new_vector
        assert record is not None
        seed = self._seed(record, found)
        if seed is None:
            return None
        finished = finish_round(self.params, self.prepared, accepted, new_vector, self.previous,
                                seed, record.noise_seed_cid)
        if finished.record != record:
            self._compare_noised(record, finished.record, found)
        return finished.new_vector

    # -- the pieces ----------------------------------------------------------------------
    def _check_accepted_bounds(self, report: RoundReport, raw: Sequence[SubmissionCheck],
                               clip: Decimal, found: list[Finding]) -> None:
        if self.params.clip_side != "client" or self.params.noise_side != "server":
            return
        vectors = {c.submission.participant: c.vector for c in raw if c.vector is not None}
        for sub in report.submissions:
            vector = vectors.get(sub.participant)
            if sub.accepted and vector is not None and not within_clip_bound(
                    exact_squared_norm(vector), clip):
                found.append(mismatch(
                    PRIVACY_CLIP_BOUND, f"{sub.participant}'s update has L2 norm "
                    f"{float(exact_squared_norm(vector)) ** 0.5:.9g} above the round's "
                    f"clipping norm {clip}, yet the report accepts it", sub.participant))

    def _check_record(self, record: PrivacyRecord, accepted: Mapping[str, bool],
                      found: list[Finding]) -> None:
        assert self.prepared is not None
        expected_clip = self.prepared.clipping_norm
        aggregated = sorted(who for who, ok in accepted.items() if ok)
        facts = (("clipping norm", record.clipping_norm, expected_clip),
                 ("number of aggregated updates", record.aggregated, len(aggregated)),
                 ("delta", record.delta, self.params.delta))
        for what, said, derived in facts:
            if said != derived:
                found.append(mismatch(PRIVACY_RECORD, f"the report's {what} is {said}, the "
                                      f"task's parameters give {derived}"))
        rounds = self.previous.rounds_by_participant() if self.previous else {}
        for who in aggregated:
            rounds[who] = rounds.get(who, 0) + 1
        budget = PrivacyBudget.from_rounds(self.params, rounds)
        published: dict[str, ParticipantBudget] = {b.participant: b for b in record.budgets}
        for who in sorted(set(published) | set(rounds), key=str.lower):
            entry = published.get(who)
            if entry is None or entry.rounds != rounds.get(who):
                found.append(mismatch(
                    PRIVACY_BUDGET, f"{who} was aggregated in {rounds.get(who, 0)} rounds, the "
                    f"report counts {None if entry is None else entry.rounds}", who))
            elif not _epsilon_close(entry.epsilon, budget.epsilons[who]):
                found.append(mismatch(
                    PRIVACY_BUDGET, f"{who}: the report says epsilon {entry.epsilon}, "
                    f"{self.params.accountant} accounting of {entry.rounds} rounds at noise "
                    f"multiplier {self.params.noise_multiplier} gives {budget.epsilons[who]}",
                    who))
        if not _epsilon_close(record.total_epsilon, budget.total_epsilon):
            found.append(mismatch(PRIVACY_BUDGET, f"the report's total epsilon is "
                                  f"{record.total_epsilon}, the participants' budgets give "
                                  f"{budget.total_epsilon}"))
        if self.params.adaptive != (record.unclipped_fraction is not None):
            found.append(mismatch(PRIVACY_RECORD, "the unclipped fraction must be published "
                                  "exactly under adaptive clipping"))
        elif record.unclipped_fraction is not None and aggregated:
            following = next_clipping_norm(self.params, expected_clip, record.unclipped_fraction)
            if following != record.next_clipping_norm:
                found.append(mismatch(PRIVACY_RECORD, f"the next clipping norm is "
                                      f"{record.next_clipping_norm}, the published fraction "
                                      f"{record.unclipped_fraction} gives {following}"))

    def _seed(self, record: PrivacyRecord, found: list[Finding]) -> bytes | None:
        assert record.noise_seed_cid is not None
        if self.reader is None:
            found.append(unverifiable(
                F.CONTENT_ENCRYPTED, f"unverifiable: encrypted: the server noise seed "
                f"{record.noise_seed_cid} is sealed to the reader set and no reader key was "
                "given, so the noised model cannot be re-derived (budgets were checked)"))
            return None
        data = self.fetch(record.noise_seed_cid, "noise seed envelope", 64 * 1024)
        try:
            seed = open_envelope(data, self.reader, expected_kind="noise_seed", max_plaintext=32)
        except PrivacyFormatError as exc:
            found.append(mismatch(PRIVACY_NOISE_SEED, f"noise seed {record.noise_seed_cid}: "
                                  f"{exc}"))
            return None
        if keccak(seed) != record.noise_seed_hash or len(seed) != 32:
            found.append(mismatch(PRIVACY_NOISE_SEED, f"the sealed noise seed hashes to "
                                  f"0x{keccak(seed).hex()}, the report commits to "
                                  f"0x{(record.noise_seed_hash or b'').hex()}"))
            return None
        return seed

    def _compare_noised(self, published: PrivacyRecord, derived: PrivacyRecord,
                        found: list[Finding]) -> None:
        if published.unclipped_fraction != derived.unclipped_fraction:
            found.append(mismatch(PRIVACY_RECORD, f"the noised unclipped fraction is "
                                  f"{published.unclipped_fraction}, the sealed seed gives "
                                  f"{derived.unclipped_fraction}"))
