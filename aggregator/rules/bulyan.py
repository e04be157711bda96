"""Bulyan (El Mhamdi et al., 2018, "The Hidden Vulnerability of Distributed Learning
in Byzantium").

Two stages. (1) Select ``theta = n - 2f`` updates with a Krum-based rule: by default
Krum applied ``theta`` times, each time on the updates not yet picked (the paper and
Flower's legacy ``aggregate_bulyan``); ``selection="multikrum"`` takes the ``theta``
best Multi-Krum scores at once (Flower's newer ``Bulyan`` strategy). Distances come
from one Gram product, so later Krum rounds only re-read an N x N matrix.
(2) Per coordinate, average the ``beta = theta - 2f`` selected values closest to their
median, exactly on the grid (:func:`aggregator.rules.exact.closest_to_median_mean`).
Needs ``n >= 4f + 3``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
)
from aggregator.rules.geometry import gram_matrix, squared_distances
from aggregator.rules.multikrum import check_choice, krum_scores, score_bounds, select_lowest

SELECTIONS = ("krum", "multikrum")


def bulyan_sizes(n: int, num_malicious: int) -> tuple[int, int]:
    """``(theta, beta)`` for ``n`` updates; raises when ``n < 4f + 3``."""
    if n < 4 * num_malicious + 3:
        raise AggregationInputError(
            f"bulyan needs at least 4f+3 = {4 * num_malicious + 3} updates for "
            f"f={num_malicious}, got {n}"
        )
    theta = n - 2 * num_malicious
    return theta, theta - 2 * num_malicious


def bulyan_selection(
    distances: torch.Tensor, norms2: torch.Tensor, num_malicious: int, selection: str
) -> list[int]:
    """Rows picked by stage 1, in pick order (exact ties go to the smaller norm)."""
    n = distances.shape[0]
    theta, _ = bulyan_sizes(n, num_malicious)
    if selection == "multikrum":
        scores, _ = krum_scores(distances, num_malicious)
        return select_lowest(scores, theta, norms2)
    remaining = list(range(n))
    order: list[int] = []
    for _ in range(theta):
        sub = distances[remaining][:, remaining]
        scores, _ = krum_scores(sub, num_malicious)
        pick = remaining[select_lowest(scores, 1, norms2[remaining])[0]]
        order.append(pick)
        remaining.remove(pick)
    return order


def bulyan(
    updates: torch.Tensor, num_malicious: int, grid: FixedPointGrid, selection: str = "krum"
) -> torch.Tensor:
    """The Bulyan aggregate of the rows of ``updates`` on ``grid``."""
    gram = gram_matrix(updates)
    picked = bulyan_selection(
        squared_distances(gram), torch.diagonal(gram), num_malicious, selection
    )
    _, beta = bulyan_sizes(updates.shape[0], num_malicious)
    return exact.closest_to_median_mean(exact.GridView(updates, grid), sorted(picked), beta)


class Bulyan(AggregationRule):
    """Bulyan over Krum (iterated) or Multi-Krum selection."""

    name = "bulyan"

    def __init__(
        self,
        grid: FixedPointGrid | None = None,
        num_malicious: int = 0,
        selection: str = "krum",
    ) -> None:
        super().__init__(grid)
        self.num_malicious = int_param(self.name, "num_malicious", num_malicious, minimum=0)
        if selection not in SELECTIONS:
            raise RuleConfigError(
                f"bulyan: parameter 'selection' must be one of {SELECTIONS}, got {selection!r}"
            )
        self.selection = selection

    @property
    def params(self) -> dict[str, JSONScalar]:
        return {"num_malicious": self.num_malicious, "selection": self.selection}

    def _geometry(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        gram = gram_matrix(batch.updates, row_factors=batch.row_factors())
        norms2 = torch.diagonal(gram).clone()
        bad = (~torch.isfinite(norms2)).nonzero()
        if bad.numel():
            raise AggregationInputError(
                f"update {int(bad[0, 0])} has a non-finite squared norm (NaN/Inf values)"
            )
        return squared_distances(gram), norms2

    def decide(self, batch: Batch) -> Decision:
        theta, beta = bulyan_sizes(batch.n, self.num_malicious)
        distances, norms2 = self._geometry(batch)
        order = bulyan_selection(distances, norms2, self.num_malicious, self.selection)
        return {
            "rule": self.name,
            "num_malicious": self.num_malicious,
            "selection": self.selection,
            "theta": theta,
            "beta": beta,
            "selected": order,
        }

    def check_decision(
        self, published: Mapping[str, Any], recomputed: Decision, batch: Batch
    ) -> None:
        for key in ("num_malicious", "selection", "theta", "beta"):
            if published.get(key) != recomputed[key]:
                raise AggregationMismatch(
                    f"decision field {key!r} is {published.get(key)!r}, expected {recomputed[key]!r}"
                )
        order = index_list(published, "selected", batch.n)
        theta = int(recomputed["theta"])  # type: ignore[arg-type]
        if len(order) != theta:
            raise AggregationMismatch(
                f"decision selects {len(order)} updates, Bulyan needs {theta}"
            )
        distances, norms2 = self._geometry(batch)
        if self.selection == "multikrum":
            scores, neighbours = krum_scores(distances, self.num_malicious)
            check_choice(scores, score_bounds(norms2, neighbours), range(batch.n), order)
            return
        remaining = list(range(batch.n))
        for pick in order:
            scores, neighbours = krum_scores(distances[remaining][:, remaining], self.num_malicious)
            bounds = score_bounds(norms2[remaining], neighbours)  # local indices, local norms
            local = remaining.index(pick)
            check_choice(scores, bounds, range(len(remaining)), [local])
            remaining.remove(pick)

    def apply(self, decision: Mapping[str, Any], batch: Batch) -> Outcome:
        _, beta = bulyan_sizes(batch.n, self.num_malicious)
        order = index_list(decision, "selected", batch.n)
        chosen = sorted(order)
        aggregate = exact.closest_to_median_mean(batch.view(self.grid), chosen, beta)
        picked = set(chosen)
        reasons = tuple(
            None if i in picked else f"not selected by Bulyan's {self.selection} stage"
            for i in range(batch.n)
        )
        return Outcome(aggregate, tuple(i in picked for i in range(batch.n)), reasons)
