"""The service's read models: what each JSON endpoint returns, declared for OpenAPI.

Token amounts are decimal strings of base units (they exceed JavaScript's safe
integers), each with a float `*_tokens` twin for display. Fixed-point report numbers
(scores, metrics) are converted back to floats using the report's own `decimals`.
Hashes are 0x-prefixed hex. Frozen models: a handler builds one and hands it over.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ComponentHealth(_Frozen):
    ok: bool
    detail: str


class LoopOut(_Frozen):
    state: str = Field(description="starting, opening, waiting_for_reveals, finalizing, "
                                   "waiting_for_settlement, waiting_for_challenge_resolution, "
                                   "idle, paused, retrying or stopped")
    paused: bool
    running: bool
    target_rounds: int
    auto_open: bool
    last_opened: int | None
    last_finalized: int | None
    errors: int
    last_error: str | None


class HealthOut(_Frozen):
    status: str = Field(description="'ok' when chain and store answer, else 'degraded'")
    chain: ComponentHealth
    store: ComponentHealth
    chain_id: int
    registry: str
    aggregator: str
    current_round: int | None = Field(description="latest round opened on chain (None: none yet)")
    current_round_status: str | None
    loop: LoopOut


class RoundSummary(_Frozen):
    round: int
    status: str
    model_cid: str
    model_hash: str
    commit_deadline: int
    reveal_deadline: int
    commit_count: int
    reveal_count: int
    total_reward: str
    total_reward_tokens: float
    claimed_reward: str
    report_cid: str | None
    new_model_cid: str | None
    accuracy: float | None = Field(description="validation accuracy of the new model, 0..1")
    loss: float | None
    accepted: int | None
    rejected: int | None


class SubmissionOut(_Frozen):
    participant: str
    num_samples: int
    update_cid: str
    verification: str
    accepted: bool
    rejection_kind: str = Field(description="'' when accepted; a verification code, "
                                            "free_rider_zero, copy or rule_rejected otherwise")
    reason: str
    score: float
    reward: str
    reward_tokens: float


class RoundDetail(_Frozen):
    summary: RoundSummary
    report_verified: bool = Field(description="the report's keccak256 equals reportHash on chain")
    report_hash: str | None
    report: dict[str, object] | None = Field(description="the round report as published")
    submissions: list[SubmissionOut]


class ParticipantOut(_Frozen):
    address: str
    status: str = Field(description="active or removed")
    stake: str
    stake_tokens: float
    earned: str
    earned_tokens: float
    claimed: str
    accepted_updates: int
    rejected_updates: int


class LeaderboardEntry(_Frozen):
    rank: int
    address: str
    earned: str
    earned_tokens: float
    claimed: str
    accepted_updates: int


class RejectionOut(_Frozen):
    round: int
    participant: str
    verification: str
    kind: str
    reason: str


class AdminResult(_Frozen):
    action: str
    detail: str
    loop: LoopOut


class PauseRequest(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(default="", max_length=500,
                        description="why the operator paused (logged)")
