"""Krum and Multi-Krum (Blanchard et al., 2017, "Machine Learning with Adversaries:
Byzantine Tolerant Gradient Descent").

Each update's score is the sum of squared distances to its ``n - f - 2`` nearest
neighbours; Multi-Krum keeps the ``m`` lowest scores and averages them weighted by
sample count (as Flower does), Krum keeps one. Distances come from one float Gram
product (:mod:`aggregator.rules.geometry`). The published decision carries every
score (9 significant digits) and the selected set; the auditor accepts the set when
no unselected update beats a selected one by more than the float error bound
:data:`SCORE_RTOL` x (the squared norms involved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from aggregator.fixedpoint import FixedPointGrid
from aggregator.rules import exact
from aggregator.rules.base import (
    AggregationInputError,
    AggregationMismatch,
    AggregationRule,
    Batch,
    Decision,
    JSONScalar,
    Outcome,
    RuleConfigError,
    index_list,
    int_param,
    round_sig,
)
from aggregator.rules.geometry import gram_matrix, squared_distances

#: Relative float error allowed on a Krum score, per unit of squared norm involved.
SCORE_RTOL = 1e-4


def num_closest(n: int, num_malicious: int) -> int:
    """Neighbours per score: ``n - f - 2`` (at least 1, at most ``n - 1``)."""
    return max(0, min(n - 1, max(1, n - num_malicious - 2)))


def krum_scores(distances: torch.Tensor, num_malicious: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Krum scores from squared distances (float64 [n, n]), and each row's neighbours.

    Row ``i`` sums its ``num_closest`` smallest distances to other rows (ties to the
    lower index); the neighbour indices feed :func:`score_bounds`.
    """
    n = distances.shape[0]
    k = num_closest(n, num_malicious)
    if k == 0:
        return torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.long)
    masked = distances.clone()
    masked.fill_diagonal_(float("inf"))
    nearest = torch.sort(masked, dim=1, stable=True)
    return nearest.values[:, :k].sum(dim=1), nearest.indices[:, :k]


def score_bounds(norms2: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """Float error bound of each score: ``SCORE_RTOL * sum_j (|x_i|^2 + |x_j|^2)``."""
    if neighbours.dim() != 2 or neighbours.shape[1] == 0:
        return torch.zeros(norms2.shape[0], dtype=torch.float64)
    k = neighbours.shape[1]
    return SCORE_RTOL * (k * norms2 + norms2[neighbours].sum(dim=1))


def select_lowest(
    scores: torch.Tensor, count: int, tiebreak: torch.Tensor | None = None
) -> list[int]:
    """Indices of the ``count`` lowest scores, ascending.

    Exact ties (mutual nearest neighbours tie whenever a score sums one distance) go
    to the smaller ``tiebreak`` value (the squared norm: a property of the update, not
    of its position, so the choice survives a reordering), then to the lower index.
    """
    order = torch.arange(scores.shape[0])
    if tiebreak is not None:
        order = torch.sort(tiebreak, stable=True).indices
    order = order[torch.sort(scores[order], stable=True).indices]
    return sorted(int(i) for i in order[:count])


def select_multikrum(updates: torch.Tensor, num_malicious: int, num_selected: int) -> list[int]:
    """Indices of the rows Multi-Krum keeps (ascending)."""
    gram = gram_matrix(updates)
    scores, _ = krum_scores(squared_distances(gram), num_malicious)
    return select_lowest(scores, num_selected, torch.diagonal(gram))


def check_choice(
    scores: torch.Tensor, bounds: torch.Tensor, candidates: Sequence[int], chosen: Sequence[int]
) -> None:
    """Raise unless ``chosen`` holds lowest-score candidates within the error bounds."""
    chosen_set = set(chosen)
    others = [i for i in candidates if i not in chosen_set]
    if not others or not chosen:
        return
    worst = max(chosen, key=lambda i: float(scores[i] - bounds[i]))
    best = min(others, key=lambda i: float(scores[i] + bounds[i]))
    if float(scores[worst] - bounds[worst]) > float(scores[best] + bounds[best]):
        raise AggregationMismatch(
            f"selected update {worst} (Krum score {float(scores[worst]):.9g}) is beaten by "
            f"unselected update {best} (score {float(scores[best]):.9g}) beyond the float "
            "tolerance"
        )


class MultiKrum(AggregationRule):
    """Multi-Krum: average (sample-weighted) of the ``num_selected`` best Krum scores."""

    name = "multikrum"

    def __init__(
        self,
        grid: FixedPointGrid | None = None,
        num_malicious: int = 0,
        num_selected: int = 1,
        weighted: bool = True,
    ) -> None:
        super().__init__(grid)
        self.num_malicious = int_param(self.name, "num_malicious", num_malicious, minimum=0)
        self.num_selected = int_param(self.name, "num_selected", num_selected, minimum=1)
        if not isinstance(weighted, bool):
            raise RuleConfigError(f"{self.name}: parameter 'weighted' must be a bool")
        self.weighted = weighted

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {
            "num_malicious": self.num_malicious,
            "num_selected": self.num_selected,
            "weighted": self.weighted,
        }

    def _scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        gram = gram_matrix(batch.updates, row_factors=batch.row_factors())
        norms2 = torch.diagonal(gram).clone()
        bad = (~torch.isfinite(norms2)).nonzero()
        if bad.numel():
            raise AggregationInputError(
                f"update {int(bad[0, 0])} has a non-finite squared norm (NaN/Inf values)"
            )
        scores, neighbours = krum_scores(squared_distances(gram), self.num_malicious)
        return scores, score_bounds(norms2, neighbours), norms2

    def decide(self, batch: Batch) -> Decision:
        if self.num_selected > batch.n:
            raise AggregationInputError(
                f"{self.name}: cannot select {self.num_selected} of {batch.n} updates"
            )
        scores, _, norms2 = self._scores(batch)
        return {
            "rule": self.name,
            "num_malicious": self.num_malicious,
            "num_closest": num_closest(batch.n, self.num_malicious),
            "selected": select_lowest(scores, self.num_selected, norms2),
            "scores": [round_sig(float(s)) for s in scores],
        }

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        for key in ("num_malicious", "num_closest"):
            if published.get(key) != recomputed[key]:
                raise AggregationMismatch(
                    f"decision field {key!r} is {published.get(key)!r}, expected {recomputed[key]!r}"
                )
        selected = index_list(published, "selected", batch.n)
        if len(selected) != self.num_selected:
            raise AggregationMismatch(
                f"decision selects {len(selected)} updates, rule selects {self.num_selected}"
            )
        scores, bounds, _ = self._scores(batch)
        published_scores = published.get("scores")
        if not isinstance(published_scores, list) or len(published_scores) != batch.n:
            raise AggregationMismatch(f"decision field 'scores' must list {batch.n} numbers")
        for i, value in enumerate(published_scores):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AggregationMismatch(f"published score {i} is not a number: {value!r}")
            allowed = float(bounds[i]) + 1e-8 * abs(float(scores[i]))
            if not abs(float(value) - float(scores[i])) <= allowed:
                raise AggregationMismatch(
                    f"published Krum score of update {i} is {value!r}, recomputed "
                    f"{float(scores[i]):.9g} (tolerance {allowed:.3g})"
                )
        check_choice(scores, bounds, range(batch.n), selected)

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        selected = index_list(decision, "selected", batch.n)
        scores = decision.get("scores")
        weights = [batch.num_samples[i] if self.weighted else 1 for i in selected]
        aggregate = exact.weighted_mean(batch.view(self.grid), selected, weights, sum(weights))
        chosen = set(selected)
        reasons = tuple(
            None
            if i in chosen
            else (
                f"not among the {len(selected)} lowest Krum scores"
                + (f" (score {scores[i]:.6g})" if isinstance(scores, list) else "")
            )
            for i in range(batch.n)
        )
        return Outcome(aggregate, tuple(i in chosen for i in range(batch.n)), reasons)
