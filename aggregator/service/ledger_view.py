"""Read side of the service: the network's rounds, reports, participants and models, verified.

The service shows only what it has checked against the chain: a round report is served
when its keccak256 equals the round's `reportHash`, a model when its keccak256 equals
the model hash recorded on chain. Content that fails the check is an `IntegrityError`
(the routes answer 502 naming both hashes), never a silently served forgery.

A finalized round's report changes only if an upheld challenge reopens the round and it
is finalized again, so verified reports are cached by (round, report hash); registrations and claims are read incrementally from the last
block seen. All chain and store access holds the service `gate`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from eth_utils.crypto import keccak

from aggregator.service.metrics import rejection_kind
from aggregator.service.schemas import (
    LeaderboardEntry,
    ParticipantOut,
    RejectionOut,
    RoundDetail,
    RoundSummary,
    SubmissionOut,
)
from ledger.contracts.deploy import Network
from ledger.contracts.registry import RoundInfo, RoundStatus
from ledger.errors import FedLedgerError, IntegrityError
from ledger.formats.report import RoundReport, parse_report
from ledger.formats.task import TaskSpec
from ledger.store.base import ContentStore

TOKEN_UNIT = 10**18
MAX_REPORT_BYTES = 32 * 1024 * 1024
MODEL_HEADER_ALLOWANCE = 64 * 1024


class RoundNotFound(FedLedgerError):
    """The round was never opened."""


class RoundNotFinalized(FedLedgerError):
    """The round has no published result yet."""


@dataclass(frozen=True)
class VerifiedReport:
    """A report whose bytes hash to the chain's `reportHash`."""

    round: int
    cid: str
    report_hash: bytes
    report: RoundReport


@dataclass(frozen=True)
class VerifiedModel:
    """Model bytes whose keccak256 equals the hash the chain recorded for them."""

    round: int
    which: str
    cid: str
    model_hash: bytes
    data: bytes


def _tokens(amount: int) -> float:
    return amount / TOKEN_UNIT


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _has_result(info: RoundInfo) -> bool:
    return info.status in (RoundStatus.FINALIZED, RoundStatus.CHALLENGED)


class LedgerView:
    """Verified reads of one network for the HTTP routes."""

    def __init__(self, network: Network, store: ContentStore, task: TaskSpec,
                 gate: threading.RLock) -> None:
        self.network = network
        self.registry = network.registry
        self.store = store
        self.task = task
        self.gate = gate
        self._reports: dict[int, VerifiedReport] = {}
        self._accounts: list[str] = []
        self._claimed: dict[str, int] = {}
        self._scanned_to = network.info.deployment_block - 1

    # -- rounds -----------------------------------------------------------------------------
    def next_round(self) -> int:
        with self.gate:
            return self.registry.next_round()

    def round_info(self, round_: int) -> RoundInfo:
        with self.gate:
            if round_ < 0 or round_ >= self.registry.next_round():
                raise RoundNotFound(f"round {round_} was never opened")
            return self.registry.round_info(round_)

    def report(self, info: RoundInfo) -> VerifiedReport | None:
        """The verified report of a round with a result; None for a round still open."""
        if not _has_result(info):
            return None
        cached = self._reports.get(info.round)
        if cached is not None and cached.report_hash == info.report_hash:
            return cached
        with self.gate:
            events = self.registry.events_round_finalized(round=info.round)
            if not events:
                raise IntegrityError(f"round {info.round} is {info.status.name.lower()} but the "
                                     "chain has no RoundFinalized event for it")
            cid = events[-1].report_cid
            data = self.store.get_bytes(cid, max_size=MAX_REPORT_BYTES)
        digest = keccak(data)
        if digest != info.report_hash:
            raise IntegrityError(
                f"the report of round {info.round} at {cid} hashes to {_hex(digest)}, "
                f"the chain's reportHash is {_hex(info.report_hash)}"
            )
        verified = VerifiedReport(info.round, cid, digest, parse_report(data))
        self._reports[info.round] = verified
        return verified

    def summary(self, info: RoundInfo, verified: VerifiedReport | None) -> RoundSummary:
        metrics: dict[str, float] = {}
        accepted = rejected = None
        if verified is not None:
            report = verified.report
            scale = 10 ** report.decimals
            metrics = {k: v / scale for k, v in report.validation_metrics.items()}
            accepted = sum(s.accepted for s in report.submissions)
            rejected = len(report.submissions) - accepted
        return RoundSummary(
            round=info.round,
            status=info.status.name.lower(),
            model_cid=info.model_cid,
            model_hash=_hex(info.model_hash),
            commit_deadline=info.commit_deadline,
            reveal_deadline=info.reveal_deadline,
            commit_count=info.commit_count,
            reveal_count=info.reveal_count,
            total_reward=str(info.total_reward),
            total_reward_tokens=_tokens(info.total_reward),
            claimed_reward=str(info.claimed_reward),
            report_cid=verified.cid if verified else None,
            new_model_cid=verified.report.new_model_cid if verified else None,
            accuracy=metrics.get("accuracy"),
            loss=metrics.get("loss"),
            accepted=accepted,
            rejected=rejected,
        )

    def rounds(self) -> list[RoundSummary]:
        """Every opened round, oldest first."""
        with self.gate:
            infos = [self.registry.round_info(r) for r in range(self.registry.next_round())]
        return [self.summary(info, self.report(info)) for info in infos]

    def round_detail(self, round_: int) -> RoundDetail:
        info = self.round_info(round_)
        verified = self.report(info)
        submissions: list[SubmissionOut] = []
        if verified is not None:
            scale = 10 ** verified.report.decimals
            submissions = [
                SubmissionOut(
                    participant=s.participant, num_samples=s.num_samples,
                    update_cid=s.update_cid, verification=s.verification, accepted=s.accepted,
                    rejection_kind=rejection_kind(s), reason=s.reason, score=s.score / scale,
                    reward=str(s.reward), reward_tokens=_tokens(s.reward),
                )
                for s in verified.report.submissions
            ]
        return RoundDetail(
            summary=self.summary(info, verified),
            report_verified=verified is not None,
            report_hash=_hex(verified.report_hash) if verified else None,
            report=verified.report.to_json_value() if verified else None,
            submissions=submissions,
        )

    def reports(self) -> list[VerifiedReport]:
        """Verified reports of every round with a result, oldest first."""
        with self.gate:
            infos = [self.registry.round_info(r) for r in range(self.registry.next_round())]
        found = (self.report(info) for info in infos)
        return [v for v in found if v is not None]

    def rejections(self) -> list[RejectionOut]:
        """Every rejected submission of every finalized round, newest round first."""
        out: list[RejectionOut] = []
        for verified in reversed(self.reports()):
            for s in verified.report.submissions:
                if not s.accepted:
                    out.append(RejectionOut(round=verified.round, participant=s.participant,
                                            verification=s.verification, kind=rejection_kind(s),
                                            reason=s.reason))
        return out

    # -- participants ------------------------------------------------------------------------
    def _refresh_accounts(self) -> None:
        with self.gate:
            latest = self.network.backend.block_number()
            if latest <= self._scanned_to:
                return
            start = self._scanned_to + 1
            for ev in self.registry.events_participant_registered(start, latest):
                if ev.account not in self._accounts:
                    self._accounts.append(ev.account)
            for claim in self.registry.events_reward_claimed(start, latest):
                self._claimed[claim.account] = self._claimed.get(claim.account, 0) + claim.amount
            self._scanned_to = latest

    def _tally(self) -> dict[str, tuple[int, int, int]]:
        """address -> (earned, accepted updates, rejected updates) over finalized rounds."""
        tally: dict[str, tuple[int, int, int]] = {}
        for verified in self.reports():
            for s in verified.report.submissions:
                earned, ok, bad = tally.get(s.participant, (0, 0, 0))
                tally[s.participant] = (earned + s.reward, ok + s.accepted, bad + (not s.accepted))
        return tally

    def participants(self) -> list[ParticipantOut]:
        """Every account that ever registered, in registration order."""
        self._refresh_accounts()
        tally = self._tally()
        out: list[ParticipantOut] = []
        for account in self._accounts:
            with self.gate:
                info = self.registry.participant(account)
            earned, ok, bad = tally.get(account, (0, 0, 0))
            out.append(ParticipantOut(
                address=account, status="active" if info.active else "removed",
                stake=str(info.stake), stake_tokens=_tokens(info.stake), earned=str(earned),
                earned_tokens=_tokens(earned), claimed=str(self._claimed.get(account, 0)),
                accepted_updates=ok, rejected_updates=bad,
            ))
        return out

    def leaderboard(self) -> list[LeaderboardEntry]:
        """Participants by tokens earned (rewards in the reports of finalized rounds)."""
        rows = sorted(self.participants(), key=lambda p: (-int(p.earned), p.address.lower()))
        return [
            LeaderboardEntry(rank=i + 1, address=p.address, earned=p.earned,
                             earned_tokens=p.earned_tokens, claimed=p.claimed,
                             accepted_updates=p.accepted_updates)
            for i, p in enumerate(rows)
        ]

    # -- models ----------------------------------------------------------------------------------
    def model(self, round_: int, which: str) -> VerifiedModel:
        """The model round `round_` started from (`base`) or produced (`new`), verified."""
        info = self.round_info(round_)
        if which == "base":
            cid, expected = info.model_cid, info.model_hash
        elif which == "new":
            verified = self.report(info)
            if verified is None:
                raise RoundNotFinalized(f"round {round_} is {info.status.name.lower()}: "
                                        "it has produced no model yet")
            cid, expected = verified.report.new_model_cid, info.new_model_hash
        else:
            raise ValueError(f"which must be 'base' or 'new', got {which!r}")
        with self.gate:
            data = self.store.get_bytes(
                cid, max_size=self.task.layout.numel * 4 + MODEL_HEADER_ALLOWANCE)
        digest = keccak(data)
        if digest != expected:
            raise IntegrityError(f"the {which} model of round {round_} at {cid} hashes to "
                                 f"{_hex(digest)}, the chain says {_hex(expected)}")
        return VerifiedModel(round_, which, cid, digest, data)
