"""Prometheus metrics of one aggregator service, in a registry of its own.

Each app gets its own `CollectorRegistry` (not prometheus-client's process-global
default), so two apps in one process (tests, or a future multi-network service) never
share or double-register counters. Label values are bounded: a rejection is labelled
with its verification code or a small fixed set of rule outcomes (`rejection_kind`),
never with free text from a participant.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from aggregator.round_compute import REASON_ZERO
from ledger.formats.report import RoundReport, SubmissionRecord

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics", "rejection_kind"]

KIND_FREE_RIDER = "free_rider_zero"
KIND_COPY = "copy"
KIND_RULE = "rule_rejected"


def rejection_kind(record: SubmissionRecord) -> str:
    """A bounded label for why `record` was rejected ("" if it was accepted).

    A failed check is named by its verification code (``tensor.non_finite``,
    ``content.cid_mismatch``, ...); an update that passed every check was refused
    as a zero update, as a copy, or by the aggregation rule.
    """
    if record.accepted:
        return ""
    if record.verification != "ok":
        return record.verification
    if record.reason == REASON_ZERO:
        return KIND_FREE_RIDER
    if record.reason.endswith("(copy)"):
        return KIND_COPY
    return KIND_RULE


class ServiceMetrics:
    """The counters and gauges `/metrics` exposes, fed by the round loop."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.rounds_finalized = Counter(
            "fedledger_rounds_finalized", "Rounds this service finalized on chain.",
            registry=self.registry)
        self.rounds_opened = Counter(
            "fedledger_rounds_opened", "Rounds this service opened on chain.",
            registry=self.registry)
        self.updates_accepted = Counter(
            "fedledger_updates_accepted", "Revealed updates accepted into an aggregate.",
            registry=self.registry)
        self.updates_rejected = Counter(
            "fedledger_updates_rejected",
            "Revealed updates rejected, by reason (verification code or rule outcome).",
            ["reason"], registry=self.registry)
        self.last_round_duration = Gauge(
            "fedledger_last_round_duration_seconds",
            "Wall time from opening to finalizing the last round this process saw both of.",
            registry=self.registry)
        self.last_finalize_duration = Gauge(
            "fedledger_last_finalize_duration_seconds",
            "Wall time of the last finalization step (fetch, verify, aggregate, evaluate, "
            "publish, finalize).", registry=self.registry)
        self.current_round = Gauge(
            "fedledger_current_round", "Latest round opened on chain (-1 before round 0).",
            registry=self.registry)
        self.loop_errors = Counter(
            "fedledger_loop_errors", "Errors the round loop caught and retried, by type.",
            ["kind"], registry=self.registry)
        self.loop_paused = Gauge(
            "fedledger_loop_paused", "1 while an operator has paused the round loop.",
            registry=self.registry)
        self.current_round.set(-1)

    def record_finalized(self, report: RoundReport, finalize_seconds: float) -> None:
        """Count one finalization this service performed."""
        self.rounds_finalized.inc()
        for record in report.submissions:
            if record.accepted:
                self.updates_accepted.inc()
            else:
                self.updates_rejected.labels(reason=rejection_kind(record)).inc()
        self.last_finalize_duration.set(finalize_seconds)

    def record_error(self, exc: BaseException) -> None:
        """Count one error the loop survived."""
        self.loop_errors.labels(kind=type(exc).__name__).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
