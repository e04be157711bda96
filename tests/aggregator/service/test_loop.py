"""The round loop: one decision per step from chain state, a thread that survives errors,
the operator's pause/resume/open-now. Every test here works inside a chain snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from aggregator.orchestrator import RoundStateError
from aggregator.service.app import create_app
from aggregator.service.context import ServiceContext
from aggregator.service.loop import LoopState, StepResult
from aggregator.service.settings import AdminToken
from ledger.contracts.registry import RoundStatus
from ledger.errors import StoreError
from tests.aggregator.service.served import ADMIN_TOKEN, ServedNetwork

WAIT_LIMIT_S = 60.0


@pytest.fixture
def snapshot(served: ServedNetwork) -> Iterator[ServedNetwork]:
    """The served network, reverted to its state before the test afterwards."""
    snap = served.chain.snapshot()
    yield served
    served.chain.revert(snap)


def _past_round_1(served: ServedNetwork) -> None:
    info = served.harness.network.registry.round_info(1)
    served.chain.mine(info.reveal_deadline + 1)


def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll until `condition` holds; fail (not hang) if the loop never gets there."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the loop did not get there within {WAIT_LIMIT_S} s")
        time.sleep(0.05)


def test_step_waits_for_reveals_finalizes_waits_for_settlement_then_opens(
        snapshot: ServedNetwork) -> None:
    # Prepare
    context = snapshot.new_context(rounds=3)
    registry = snapshot.harness.network.registry

    # Execute / Assert
    assert context.loop.step() is StepResult.WAITING
    assert context.loop.status().state is LoopState.WAITING
    _past_round_1(snapshot)
    assert context.loop.step() is StepResult.FINALIZED
    assert registry.round_info(1).status is RoundStatus.FINALIZED
    assert context.loop.step() is StepResult.WAITING  # round 1's challenge window runs
    assert context.loop.status().state is LoopState.SETTLING
    snapshot.chain.mine(registry.round_info(1).claimable_at)
    assert context.loop.step() is StepResult.OPENED
    assert registry.next_round() == 3
    assert context.loop.step() is StepResult.WAITING


def test_step_stays_idle_once_the_target_is_reached_or_auto_open_is_off(
        snapshot: ServedNetwork) -> None:
    # Prepare
    _past_round_1(snapshot)
    capped = snapshot.new_context(rounds=2)
    manual = snapshot.new_context(auto_open=False)

    # Execute
    finalized = capped.loop.step()
    results = [capped.loop.step(), manual.loop.step()]

    # Assert
    assert finalized is StepResult.FINALIZED
    assert results == [StepResult.IDLE, StepResult.IDLE]
    assert snapshot.harness.network.registry.next_round() == 2
    assert capped.loop.status().state is LoopState.IDLE


def test_open_now_opens_beyond_the_target_but_not_over_an_open_round(
        snapshot: ServedNetwork) -> None:
    # Prepare
    context = snapshot.new_context(rounds=2, admin_token=AdminToken(ADMIN_TOKEN))
    with pytest.raises(RoundStateError, match="round 1 is still open"):
        context.loop.open_next_now()
    _past_round_1(snapshot)
    assert context.loop.step() is StepResult.FINALIZED
    settles = snapshot.harness.network.registry.round_info(1).claimable_at
    now = snapshot.chain.now()
    with pytest.raises(RoundStateError) as unsettled:
        context.loop.open_next_now()
    snapshot.chain.mine(settles)

    # Execute
    with TestClient(create_app(context)) as client:
        response = client.post("/api/admin/open-round",
                               headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    # Assert
    assert str(unsettled.value) == (
        f"round 1 settles at chain time {settles} (end of its challenge window); it is {now}")
    assert response.status_code == 200
    assert response.json()["detail"] == "opened round 2"
    assert snapshot.harness.network.registry.round_info(2).status is RoundStatus.OPEN
    assert context.loop.status().last_opened == 2


def test_the_thread_survives_a_failing_step_and_finalizes_on_retry(
        snapshot: ServedNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: the first model fetch fails as if the store were down
    context: ServiceContext = snapshot.new_context(rounds=2, run_loop=True, poll_seconds=0.05)
    orchestrator = context.loop.orchestrator
    real_load = orchestrator.load_model
    calls = {"n": 0}

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError("store daemon at 127.0.0.1:5001 refused the connection")
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(orchestrator, "load_model", flaky)
    _past_round_1(snapshot)

    # Execute: the app's lifespan starts the thread and stops it on exit
    with TestClient(create_app(context)) as client:
        _wait_for(lambda: context.loop.status().last_finalized == 1)
        health = client.get("/api/health").json()
        metrics = client.get("/metrics").text

    # Assert
    status = context.loop.status()
    assert (status.errors, status.running, status.state) == (1, False, LoopState.STOPPED)
    assert status.last_error == "StoreError: store daemon at 127.0.0.1:5001 refused the connection"
    assert health["loop"]["errors"] == 1 and health["loop"]["running"] is True
    assert 'fedledger_loop_errors_total{kind="StoreError"} 1.0' in metrics
    assert "fedledger_rounds_finalized_total 1.0" in metrics
    assert snapshot.harness.network.registry.round_info(1).status is RoundStatus.FINALIZED
    assert len(snapshot.harness.network.registry.events_round_finalized(round=1)) == 1


def test_a_paused_loop_takes_no_step_until_resumed(snapshot: ServedNetwork) -> None:
    # Prepare
    context = snapshot.new_context(rounds=2, run_loop=True, poll_seconds=0.05)
    registry = snapshot.harness.network.registry
    context.loop.pause()
    _past_round_1(snapshot)

    # Execute
    with TestClient(create_app(context)):
        paused_state = context.loop.status()
        status_while_paused = registry.round_info(1).status
        context.loop.resume()
        _wait_for(lambda: context.loop.status().last_finalized == 1)

    # Assert
    assert (paused_state.state, paused_state.paused) == (LoopState.PAUSED, True)
    assert status_while_paused is RoundStatus.OPEN
    assert registry.round_info(1).status is RoundStatus.FINALIZED
