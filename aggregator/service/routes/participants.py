"""Participants (membership, stake, record) and the leaderboard of tokens earned."""

from __future__ import annotations

from fastapi import APIRouter

from aggregator.service.deps import Context
from aggregator.service.schemas import LeaderboardEntry, ParticipantOut

router = APIRouter(prefix="/api", tags=["participants"])


@router.get("/participants", response_model=list[ParticipantOut])
def list_participants(context: Context) -> list[ParticipantOut]:
    """Every account that ever registered: status, stake, tokens earned and claimed."""
    return context.view.participants()


@router.get("/leaderboard", response_model=list[LeaderboardEntry])
def leaderboard(context: Context) -> list[LeaderboardEntry]:
    """Participants ranked by tokens earned in the reports of finalized rounds."""
    return context.view.leaderboard()
