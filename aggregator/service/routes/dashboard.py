"""The dashboard page: static HTML/CSS/JS shipped in the package, no CDN, no build step."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(tags=["dashboard"])

STATIC = files("aggregator.service") / "static"


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    """Accuracy and loss per round, rewards per participant, rejected updates; live refresh."""
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))
