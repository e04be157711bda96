"""Per-participant and per-round series derived from an `AuditReport`, for the views.

The terminal report and the HTML page show the same history (accuracy per round, rewards
per participant, rejected updates with reasons); computing it once here keeps the two
views from drifting apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ledger.audit.result import AuditReport


@dataclass(frozen=True)
class Rejection:
    """One rejected submission: in which round, and why."""

    round: int
    participant: str
    verification: str
    reason: str


@dataclass(frozen=True)
class ParticipantTotals:
    """What the published reports awarded a participant, and what it claimed."""

    participant: str
    awarded: int
    claimed: int
    accepted: int
    rejected: int


def accuracy_series(report: AuditReport) -> list[tuple[int, float]]:
    """(round, accuracy) for every round whose verified-or-not report states one."""
    return [(r.round, r.accuracy) for r in report.rounds if r.accuracy is not None]


def rejections(report: AuditReport) -> list[Rejection]:
    """Every rejected submission, by round then participant."""
    return [Rejection(r.round, s.participant, s.verification, s.reason)
            for r in report.rounds for s in r.submissions if not s.accepted]


def participant_totals(report: AuditReport) -> list[ParticipantTotals]:
    """Awards, claims and acceptance counts per participant, by address."""
    awarded: dict[str, int] = defaultdict(int)
    claimed: dict[str, int] = defaultdict(int)
    accepted: dict[str, int] = defaultdict(int)
    rejected: dict[str, int] = defaultdict(int)
    for r in report.rounds:
        for s in r.submissions:
            awarded[s.participant] += s.reward
            (accepted if s.accepted else rejected)[s.participant] += 1
        for c in r.claims:
            claimed[c.account] += c.amount
    everyone = sorted(set(awarded) | set(claimed), key=lambda a: int(a, 16))
    return [ParticipantTotals(a, awarded[a], claimed[a], accepted[a], rejected[a])
            for a in everyone]


def tokens(amount: int, decimals: int = 18) -> str:
    """Base units as a token amount with two decimals (``1234.50``)."""
    whole, frac = divmod(amount, 10**decimals)
    cents = frac * 100 // 10**decimals
    return f"{whole:,}.{cents:02d}"
