"""Shared route dependencies as `Annotated` aliases (STYLE.md: FastAPI "bigger applications")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aggregator.service.auth import require_admin
from aggregator.service.context import ServiceContext


def get_context(request: Request) -> ServiceContext:
    """The context the app was built with (`create_app`)."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]
"""The running service's context."""

AdminOnly = Depends(require_admin)
"""Add to a route's `dependencies` to require the operator's bearer token."""
