"""The node's chain-following loop: join each new round, commit, reveal, claim, on chain time.

The runner keeps no state that matters outside the journal. Each pass reads where every
round stands on chain and does whatever is due *now*: train and commit in a fresh round,
reveal once the commit phase has closed, claim once the challenge window has passed. A
node killed at any point and started again re-reads the same journal and the same chain
and carries on: a commitment sent just before the kill is found on chain and recorded
instead of being sent twice, and an update already trained and stored is revealed from
the journal (its salt lives only there) instead of being trained again.

Time is the chain's (latest block timestamp), never this machine's clock: deadlines are
enforced by the contract against block time, and a test chain may move it at will.
When a deadline has passed, the round is recorded as skipped with the reason, so the
journal always says how each round ended for this node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from rich.console import Console

from ledger.contracts.registry import RoundInfo, RoundStatus
from ledger.errors import ChainError, ContractRevert, FormatError, IntegrityError, StoreError
from node.journal import RoundEntry, Stage
from node.participant import Participant, RoundClosedError
from node.training.errors import TrainingDivergedError

TOKEN = 10**18


class Outcome(str, Enum):
    """How a round ended for this node."""

    CLAIMED = "claimed"  # revealed, finalized, reward (possibly 0) settled
    SKIPPED = "skipped"  # started, then a deadline passed (or a no-reveal attack)
    REFUSED = "refused"  # the round's inputs failed verification: nothing was sent
    MISSED = "missed"  # the commit phase closed before the node could take part

    @property
    def counts(self) -> bool:
        """Whether the round counts toward `--rounds N` (a round the node took on)."""
        return self is not Outcome.MISSED


@dataclass(frozen=True)
class RoundResult:
    """The end of one round for this node."""

    round: int
    outcome: Outcome
    reward: int = 0
    detail: str = ""


@dataclass(frozen=True)
class RunSummary:
    """What one `NodeRunner.run` did."""

    results: tuple[RoundResult, ...]

    @property
    def earned(self) -> int:
        """Token base units claimed during the run."""
        return sum(r.reward for r in self.results)

    @property
    def rounds_done(self) -> int:
        return sum(r.outcome.counts for r in self.results)


def _tokens(amount: int) -> str:
    return f"{amount / TOKEN:,.4f}"


class NodeRunner:
    """Follows one network's rounds for one participant (see the module docstring)."""

    def __init__(
        self,
        participant: Participant,
        *,
        poll_seconds: float = 2.0,
        console: Console | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.participant = participant
        self.registry = participant.registry
        self.backend = participant.network.backend
        self.journal = participant.journal
        self.address = participant.address
        self.poll_seconds = poll_seconds
        self.console = console or Console(quiet=True)
        self.sleep = sleep
        self._ended: dict[int, RoundResult] = {}  # rounds ended without a journal entry
        self._said: set[str] = set()

    # -- logging ----------------------------------------------------------------------------
    def _log(self, round_: int, message: str) -> None:
        self.console.log(f"[bold]round {round_}[/]: {message}")

    def _log_once(self, key: str, round_: int, message: str) -> None:
        if key not in self._said:
            self._said.add(key)
            self._log(round_, message)

    # -- one pass ---------------------------------------------------------------------------
    def step(self) -> list[RoundResult]:
        """Do everything that is due at the current chain time; return rounds that ended."""
        results: list[RoundResult] = []
        for entry in self.journal.entries():
            if entry.stage in (Stage.CLAIMED, Stage.SKIPPED):
                continue
            ended = self._advance(entry)
            if ended is not None:
                results.append(ended)
        latest = self.registry.next_round() - 1
        if latest >= 0 and self.journal.get(latest) is None and latest not in self._ended:
            info = self.registry.round_info(latest)
            if info.status is RoundStatus.OPEN:
                ended = self._join(info)
                if ended is not None:
                    results.append(ended)
        return results

    def pending(self) -> list[RoundEntry]:
        """Journal rounds that still have a step to take (commit, reveal or claim)."""
        return [e for e in self.journal.entries()
                if e.stage not in (Stage.CLAIMED, Stage.SKIPPED)]

    # -- joining a round -------------------------------------------------------------------
    def _end(self, result: RoundResult) -> RoundResult:
        self._ended[result.round] = result
        return result

    def _join(self, info: RoundInfo) -> RoundResult | None:
        r = info.round
        now = self.backend.now()
        if now > info.commit_deadline:
            self._log(r, f"commit phase closed at {info.commit_deadline} (chain time {now}): "
                         "waiting for the next round")
            return self._end(RoundResult(r, Outcome.MISSED, detail="commit phase already closed"))
        self._log(r, f"opened on model {info.model_cid}; commit deadline in "
                     f"{info.commit_deadline - now} s")
        try:
            entry = self.participant.prepare_round(r)
        except (IntegrityError, FormatError, StoreError, TrainingDivergedError) as exc:
            self._log(r, f"[red]refused[/]: {exc}")
            return self._end(RoundResult(r, Outcome.REFUSED, detail=str(exc)))
        except RoundClosedError as exc:
            self._log(r, f"[yellow]missed[/]: {exc}")
            return self._end(RoundResult(r, Outcome.MISSED, detail=str(exc)))
        self._log(r, f"update {entry.update_cid} ({entry.num_samples} samples) and proof "
                     f"{entry.proof_cid} stored")
        return self._advance(entry)

    # -- moving a started round on ---------------------------------------------------------
    def _skip(self, round_: int, note: str) -> RoundResult:
        self.journal.advance(round_, Stage.SKIPPED, note=note)
        self._log(round_, f"[yellow]skipped[/]: {note}")
        return RoundResult(round_, Outcome.SKIPPED, detail=note)

    def _advance(self, entry: RoundEntry) -> RoundResult | None:
        r = entry.round
        info = self.registry.round_info(r)
        now = self.backend.now()
        if entry.stage is Stage.PREPARED:
            return self._commit(entry, info, now)
        if entry.stage is Stage.COMMITTED:
            return self._reveal(entry, info, now)
        if entry.stage is Stage.REVEALED:
            return self._claim(entry, info, now)
        return None

    def _commit(self, entry: RoundEntry, info: RoundInfo, now: int) -> RoundResult | None:
        r = entry.round
        sent = self.registry.commitment_of(r, self.address) == bytes.fromhex(entry.commitment[2:])
        if now > info.commit_deadline and not sent:
            return self._skip(r, f"commit deadline {info.commit_deadline} passed before the "
                                 "commitment was sent")
        try:
            entry = self.participant.commit(r)
        except ContractRevert as exc:
            if exc.error_name == "RegistryCommitClosed":
                return self._skip(r, f"commit deadline {info.commit_deadline} passed while "
                                     "the commitment was in flight")
            raise
        self._log(r, f"committed {entry.commitment[:18]}… (tx {entry.commit_tx or 'found on chain'})")
        return self._reveal(entry, info, self.backend.now())

    def _reveal(self, entry: RoundEntry, info: RoundInfo, now: int) -> RoundResult | None:
        r = entry.round
        if now <= info.commit_deadline:
            self._log_once(f"wait-reveal-{r}", r, f"reveal opens after {info.commit_deadline} "
                                                   f"(in {info.commit_deadline - now + 1} s)")
            return None
        if now > info.reveal_deadline and not self.registry.has_revealed(r, self.address):
            return self._skip(r, f"reveal deadline {info.reveal_deadline} passed before the "
                                 "reveal was sent: the commitment stays unopened")
        try:
            entry = self.participant.reveal(r)
        except ContractRevert as exc:
            if exc.error_name == "RegistryRevealClosed":
                return self._skip(r, f"reveal deadline {info.reveal_deadline} passed while "
                                     "the reveal was in flight")
            raise
        if entry.stage is Stage.SKIPPED:
            self._log(r, f"[yellow]{entry.note}[/]")
            return RoundResult(r, Outcome.SKIPPED, detail=entry.note or "")
        self._log(r, f"revealed (tx {entry.reveal_tx or 'found on chain'})")
        return None

    def _claim(self, entry: RoundEntry, info: RoundInfo, now: int) -> RoundResult | None:
        r = entry.round
        if info.status is RoundStatus.OPEN:
            self._log_once(f"wait-final-{r}", r, "waiting for the aggregator to finalize")
            return None
        if info.status is RoundStatus.CHALLENGED:
            self._log_once(f"challenged-{r}", r, "challenged: claims are frozen until "
                                                 "governance resolves it")
            return None
        if info.status is not RoundStatus.FINALIZED:
            self._log_once(f"status-{r}", r, f"round status is {info.status.name}: waiting")
            return None
        if now < info.claimable_at:
            self._log_once(f"wait-claim-{r}", r, f"finalized; claims open at {info.claimable_at} "
                                                 f"(in {info.claimable_at - now} s)")
            return None
        amount = self.participant.claim(r)
        self._log(r, f"claimed {_tokens(amount)} tokens" if amount else
                     "finalized without a reward for this node (see the round report)")
        return RoundResult(r, Outcome.CLAIMED, reward=amount)

    # -- the loop ---------------------------------------------------------------------------
    def run(self, rounds: int | None = None, *, once: bool = False,
            stop: Callable[[], bool] = lambda: False) -> RunSummary:
        """Follow the chain until `rounds` rounds have ended for this node (None: forever).

        `once` makes a single pass (do what is due now, then return), for cron-style use.
        A failing chain call is logged and retried on the next poll unless `once` is set.
        """
        results: list[RoundResult] = []
        waiting_said = False
        while True:
            try:
                ended = self.step()
            except ChainError as exc:
                if once or isinstance(exc, ContractRevert):
                    raise
                self.console.log(f"[red]chain call failed[/]: {exc}; retrying in "
                                 f"{self.poll_seconds:g} s")
                ended = []
            results.extend(ended)
            done = sum(r.outcome.counts for r in results)
            if once or stop() or (rounds is not None and done >= rounds):
                return RunSummary(tuple(results))
            if not self.pending() and not waiting_said:
                self.console.log("waiting for the next round to open…")
                waiting_said = True
            if ended:
                waiting_said = False
            self.sleep(self.poll_seconds)


__all__ = ["NodeRunner", "Outcome", "RoundResult", "RunSummary"]
