"""The round loop in a background thread, with the operator's pause, resume and "open now".

It repeats one decision, `step`, read entirely from the chain: if the latest round is
open and its reveal deadline has passed, finalize it; if it is open and the deadline has
not passed, wait; if no round is open and fewer than `rounds` were opened, open the next
once the last one has settled (its challenge window over, no challenge pending: the
registry refuses to open a round before that).
Since the decision is re-read every time and the orchestrator's steps are idempotent
(content-addressed artifacts, a contract that refuses a second `finalizeRound`), the
thread can die at any instant and a restarted service carries on where the chain says.

An error in a step (chain unreachable, store down) is counted, shown in /health and
retried after `poll_seconds`; it never kills the thread. Every step holds the service's
`gate`, the one lock that serialises use of the chain and store connections, which
not every backend allows from several threads at once.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from aggregator.orchestrator import RoundOrchestrator, RoundStateError
from aggregator.service.metrics import ServiceMetrics
from ledger.contracts.registry import RoundInfo, RoundStatus

_log = logging.getLogger("fedledger.aggregator.loop")


class LoopState(str, enum.Enum):
    """What the loop is doing now, as /health reports it."""

    STARTING = "starting"
    OPENING = "opening"
    WAITING = "waiting_for_reveals"
    SETTLING = "waiting_for_settlement"  # the last round's challenge window is still running
    CHALLENGED = "waiting_for_challenge_resolution"  # governance must resolve a challenge
    FINALIZING = "finalizing"
    IDLE = "idle"  # nothing open and nothing to open (all rounds run, or auto-open off)
    PAUSED = "paused"
    RETRYING = "retrying"  # the last step failed; it is retried after poll_seconds
    STOPPED = "stopped"


class StepResult(str, enum.Enum):
    """What one `step` did."""

    OPENED = "opened"
    FINALIZED = "finalized"
    WAITING = "waiting"
    IDLE = "idle"


@dataclass(frozen=True)
class LoopStatus:
    """A consistent snapshot of the loop for /health and the dashboard."""

    state: LoopState
    paused: bool
    running: bool
    target_rounds: int
    auto_open: bool
    last_opened: int | None
    last_finalized: int | None
    errors: int
    last_error: str | None


class RoundLoop:
    """Drives `orchestrator` round after round until `rounds` rounds were opened and finalized."""

    def __init__(
        self,
        orchestrator: RoundOrchestrator,
        gate: threading.RLock,
        metrics: ServiceMetrics,
        *,
        rounds: int,
        poll_seconds: float,
        auto_open: bool = True,
        initial_vector: torch.Tensor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.orchestrator = orchestrator
        self.gate = gate
        self.metrics = metrics
        self.rounds = rounds
        self.poll_seconds = poll_seconds
        self.auto_open = auto_open
        self.initial_vector = initial_vector
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below, never held across I/O
        self._state = LoopState.STARTING
        self._paused = False
        self._last_opened: int | None = None
        self._last_finalized: int | None = None
        self._opened_at: dict[int, float] = {}
        self._errors = 0
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one decision --------------------------------------------------------------------------
    def step(self) -> StepResult:
        """Take the one action the chain's state calls for now (see the module docstring)."""
        registry = self.orchestrator.registry
        with self.gate:
            nxt = registry.next_round()
            self.metrics.current_round.set(nxt - 1)
            if nxt > 0:
                last = registry.round_info(nxt - 1)
                if last.status is RoundStatus.OPEN:
                    if self.orchestrator.network.backend.now() <= last.reveal_deadline:
                        self._set_state(LoopState.WAITING)
                        return StepResult.WAITING
                    self._finalize(nxt - 1)
                    return StepResult.FINALIZED
            if nxt >= self.rounds or not self.auto_open:
                self._set_state(LoopState.IDLE)
                return StepResult.IDLE
            if nxt > 0:
                blocked = self._unsettled(last)
                if blocked is not None:
                    self._set_state(blocked)
                    return StepResult.WAITING
            self._open(nxt)
            return StepResult.OPENED

    def _unsettled(self, last: RoundInfo) -> LoopState | None:
        """Why the round after `last` cannot open yet (None: it can).

        The registry opens a round only once its predecessor has settled: finalized and
        past its challenge window without a pending challenge.
        """
        if last.status is RoundStatus.CHALLENGED:
            return LoopState.CHALLENGED
        if self.orchestrator.network.backend.now() < last.claimable_at:
            return LoopState.SETTLING
        return None

    def _open(self, expected: int) -> int:
        self._set_state(LoopState.OPENING)
        round_ = self.orchestrator.open_next_round(self.initial_vector if expected == 0 else None)
        self.metrics.rounds_opened.inc()
        self.metrics.current_round.set(round_)
        with self._lock:
            self._last_opened = round_
            self._opened_at[round_] = self._clock()
        self._set_state(LoopState.WAITING)
        _log.info("opened round %d", round_)
        return round_

    def _finalize(self, round_: int) -> None:
        self._set_state(LoopState.FINALIZING)
        started = self._clock()
        done = self.orchestrator.finalize_round(round_)
        finished = self._clock()
        if done.outcome is not None:  # None: finalized before (by an earlier process)
            self.metrics.record_finalized(done.report, finished - started)
            with self._lock:
                opened = self._opened_at.pop(round_, None)
            if opened is not None:
                self.metrics.last_round_duration.set(finished - opened)
        with self._lock:
            self._last_finalized = round_
        self._set_state(LoopState.IDLE)
        _log.info("finalized round %d", round_)

    # -- operator actions ----------------------------------------------------------------------
    def open_next_now(self) -> int:
        """Open the next round immediately (beyond `rounds`, or with auto-open off).

        Raises `RoundStateError` while the last round is open, in its challenge window, or
        challenged.
        """
        registry = self.orchestrator.registry
        with self.gate:
            nxt = registry.next_round()
            if nxt > 0:
                last = registry.round_info(nxt - 1)
                if last.status is RoundStatus.OPEN:
                    raise RoundStateError(f"round {nxt - 1} is still open: it must be finalized "
                                          f"before round {nxt} opens")
                blocked = self._unsettled(last)
                if blocked is LoopState.CHALLENGED:
                    raise RoundStateError(f"round {nxt - 1} is challenged: governance must "
                                          f"resolve the challenge before round {nxt} opens")
                if blocked is LoopState.SETTLING:
                    raise RoundStateError(
                        f"round {nxt - 1} settles at chain time {last.claimable_at} (end of its "
                        f"challenge window); it is {self.orchestrator.network.backend.now()}")
            round_ = self._open(nxt)
        self._wake.set()
        return round_

    def pause(self) -> None:
        """Stop taking steps after the one in progress (if any) completes."""
        with self._lock:
            self._paused = True
            self._state = LoopState.PAUSED
        self.metrics.loop_paused.set(1)

    def resume(self) -> None:
        """Take steps again."""
        with self._lock:
            self._paused = False
            if self._state is LoopState.PAUSED:
                self._state = LoopState.STARTING
        self.metrics.loop_paused.set(0)
        self._wake.set()

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the loop in a daemon thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="fedledger-round-loop",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the step in progress to finish."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._state = LoopState.STOPPED

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                paused = self._paused
            if paused:
                self._sleep()
                continue
            try:
                result = self.step()
            # The loop must outlive any one failure: it is counted, shown in /health, retried.
            except Exception as exc:  # noqa: BLE001
                self._record_error(exc)
                self._sleep()
                continue
            if result in (StepResult.WAITING, StepResult.IDLE):
                self._sleep()

    def _sleep(self) -> None:
        self._wake.wait(self.poll_seconds)
        self._wake.clear()

    def _record_error(self, exc: Exception) -> None:
        self.metrics.record_error(exc)
        _log.warning("round loop step failed (retrying in %.1f s): %s: %s",
                     self.poll_seconds, type(exc).__name__, exc)
        with self._lock:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
            if not self._paused:
                self._state = LoopState.RETRYING

    def _set_state(self, state: LoopState) -> None:
        with self._lock:
            if not self._paused:
                self._state = state

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> LoopStatus:
        """A snapshot of the loop's state."""
        with self._lock:
            return LoopStatus(
                state=self._state,
                paused=self._paused,
                running=self.running,
                target_rounds=self.rounds,
                auto_open=self.auto_open,
                last_opened=self._last_opened,
                last_finalized=self._last_finalized,
                errors=self._errors,
                last_error=self._last_error,
            )
