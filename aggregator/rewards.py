"""Reward allocation: integer token amounts proportional to integer scores.

``allocate_rewards(pool, scores)`` gives ``floor(pool * s_i / S)`` to each update
(``S = sum(scores)``) and hands the ``pool - sum(floors)`` leftover units, one each, to
the largest remainders ``pool * s_i mod S``, ties to the lower index (participants are
in address order, so the tie-break is public). The amounts then sum to exactly
``pool`` whenever some score is positive; a zero score gets 0 (its remainder is 0 and
fewer units are left over than positive remainders). When every score is 0 nobody
contributed and nothing is paid: the result is all zeros and the pool stays unminted.
All integer arithmetic: an auditor reproduces the rewards Merkle root bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import FormatError


class RewardInputError(FormatError):
    """The pool or a score is not a non-negative integer."""


def allocate_rewards(pool: int, scores: Sequence[int]) -> list[int]:
    """Split ``pool`` base units proportionally to ``scores`` (largest remainder)."""
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 0:
        raise RewardInputError(f"pool must be a non-negative int, got {pool!r}")
    for i, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, int) or score < 0:
            raise RewardInputError(f"score {i} must be a non-negative int, got {score!r}")
    total = sum(scores)
    if total == 0:
        return [0] * len(scores)
    shares = [divmod(pool * score, total) for score in scores]
    amounts = [share for share, _ in shares]
    leftover = pool - sum(amounts)
    by_remainder = sorted(range(len(scores)), key=lambda i: (-shares[i][1], i))
    for i in by_remainder[:leftover]:
        amounts[i] += 1
    return amounts
