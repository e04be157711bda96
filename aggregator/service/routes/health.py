"""`GET /api/health`: is the chain reachable, is the store reachable, where are the rounds."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from aggregator.service.context import ServiceContext
from aggregator.service.deps import Context
from aggregator.service.schemas import ComponentHealth, HealthOut, LoopOut
from ledger.errors import FedLedgerError

router = APIRouter(prefix="/api", tags=["health"])


def loop_out(context: ServiceContext) -> LoopOut:
    """The loop's status as its read model."""
    s = context.loop.status()
    return LoopOut(state=s.state.value, paused=s.paused, running=s.running,
                   target_rounds=s.target_rounds, auto_open=s.auto_open,
                   last_opened=s.last_opened, last_finalized=s.last_finalized, errors=s.errors,
                   last_error=s.last_error)


def _probe_chain(context: ServiceContext) -> tuple[ComponentHealth, int | None, str | None]:
    registry = context.network.registry
    try:
        with context.gate:
            block = context.network.backend.block_number()
            nxt = registry.next_round()
            current = nxt - 1 if nxt > 0 else None
            round_status = (registry.round_info(current).status.name.lower()
                            if current is not None else None)
    except (FedLedgerError, OSError) as exc:  # OSError: connection refused/reset
        return ComponentHealth(ok=False, detail=f"{type(exc).__name__}: {exc}"), None, None
    return ComponentHealth(ok=True, detail=f"block {block}"), current, round_status


def _probe_store(context: ServiceContext) -> ComponentHealth:
    try:
        with context.gate:
            task_cid = context.network.registry.task().task_cid
            present = context.store.has(task_cid)
    except (FedLedgerError, OSError) as exc:  # OSError: connection refused/reset
        return ComponentHealth(ok=False, detail=f"{type(exc).__name__}: {exc}")
    if not present:
        return ComponentHealth(ok=False, detail=f"the task spec {task_cid} is not in "
                                                f"{context.store.describe()}")
    return ComponentHealth(ok=True, detail=context.store.describe())


@router.get("/health", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "chain or store unreachable"}})
def health(context: Context, response: Response) -> HealthOut:
    """Chain and store reachability, the current round and the round loop's state.

    Answers 503 (with the same body) when the chain or the store does not answer.
    """
    chain, current, round_status = _probe_chain(context)
    store = _probe_store(context) if chain.ok else ComponentHealth(
        ok=False, detail="not checked: the chain (which names the task CID) is unreachable")
    ok = chain.ok and store.ok
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut(status="ok" if ok else "degraded", chain=chain, store=store,
                     chain_id=context.network.info.chain_id,
                     registry=context.network.registry.address, aggregator=context.aggregator,
                     current_round=current, current_round_status=round_status,
                     loop=loop_out(context))
