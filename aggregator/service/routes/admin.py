"""Operator actions on the round loop; every route here requires the admin bearer token."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from aggregator.service.deps import AdminOnly, Context
from aggregator.service.routes.health import loop_out
from aggregator.service.schemas import AdminResult, PauseRequest

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[AdminOnly],
                   responses={401: {"description": "missing or wrong bearer token"},
                              403: {"description": "no admin token configured"}})
_log = logging.getLogger("fedledger.aggregator.admin")


@router.post("/pause", response_model=AdminResult)
def pause(context: Context, body: PauseRequest | None = None) -> AdminResult:
    """Stop the round loop after its current step (nothing half-done is left behind)."""
    reason = body.reason if body is not None else ""
    context.loop.pause()
    _log.warning("round loop paused by the operator%s", f": {reason}" if reason else "")
    return AdminResult(action="pause", detail=reason or "paused", loop=loop_out(context))


@router.post("/resume", response_model=AdminResult)
def resume(context: Context) -> AdminResult:
    """Let the round loop take steps again."""
    context.loop.resume()
    _log.warning("round loop resumed by the operator")
    return AdminResult(action="resume", detail="resumed", loop=loop_out(context))


@router.post("/open-round", response_model=AdminResult,
             responses={409: {"description": "a round is still open"}})
def open_round(context: Context) -> AdminResult:
    """Open the next round now (also beyond the target round count, or with auto-open off)."""
    round_ = context.loop.open_next_now()
    _log.warning("round %d opened by the operator", round_)
    return AdminResult(action="open-round", detail=f"opened round {round_}",
                       loop=loop_out(context))
