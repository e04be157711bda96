"""One `APIRouter` per resource; `app.py` includes them all."""

from __future__ import annotations

from aggregator.service.routes import admin, dashboard, health, metrics, participants, rounds

ROUTERS = (health.router, rounds.router, participants.router, admin.router, metrics.router,
           dashboard.router)

__all__ = ["ROUTERS"]
