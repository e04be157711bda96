"""`GET /metrics`: Prometheus text exposition of this service's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Response

from aggregator.service.deps import Context
from aggregator.service.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(context: Context) -> Response:
    """Rounds opened/finalized, updates accepted/rejected by reason, durations, loop errors."""
    return Response(content=context.metrics.render(), media_type=CONTENT_TYPE_LATEST)
