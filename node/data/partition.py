"""Seeded non-IID partitioners: how a simulation spreads one dataset over many clients.

Robust-aggregation results only mean something under realistic skew, and a
consortium must be able to reproduce a simulation exactly, so each partitioner
is a pure function of (labels, number of clients, parameters, seed) built on one
`numpy.random.Generator`. Every client receives at least `min_samples` samples,
or the call fails with a `PartitionError` that says which knob to turn; no sample
is dropped or duplicated.

Schemes:
- ``iid``: a seeded shuffle cut into near-equal parts.
- ``dirichlet``: per-class client proportions drawn from Dirichlet(alpha), as in
  Hsu, Qi & Brown, "Measuring the Effects of Non-Identical Data Distribution for
  Federated Visual Classification" (2019); smaller alpha = stronger label skew.
- ``shards``: the pathological split of McMahan et al., "Communication-Efficient
  Learning of Deep Networks from Decentralized Data" (AISTATS 2017): each client
  holds exactly k classes.
- ``quantity-dirichlet`` / ``quantity-power-law``: IID labels, skewed client
  sizes (Dirichlet or power-law shares), as in Li et al., "Federated Learning on
  Non-IID Data Silos: An Experimental Study" (ICDE 2022).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from ledger.errors import ConfigError
from node.data.errors import PartitionError

IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Partition:
    """Which sample indices each client holds.

    Attributes
    ----------
    scheme:
        Name of the partitioner that made it.
    seed:
        Seed of its generator.
    params:
        The scheme's parameters as sorted ``(name, value)`` pairs.
    client_indices:
        One sorted int64 index array per client, disjoint, covering every sample.
    """

    scheme: str
    seed: int
    params: tuple[tuple[str, float | int], ...]
    client_indices: tuple[IndexArray, ...]

    @property
    def num_clients(self) -> int:
        """Number of clients."""
        return len(self.client_indices)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of samples each client holds."""
        return tuple(int(idx.size) for idx in self.client_indices)

    def label_histogram(
        self, labels: npt.ArrayLike | torch.Tensor, num_classes: int
    ) -> npt.NDArray[np.int64]:
        """Count of each class per client, shape ``(num_clients, num_classes)``."""
        y = _as_labels(labels)
        if y.size and int(y.max()) >= num_classes:
            raise ConfigError(f"label {int(y.max())} out of range for {num_classes} classes")
        return np.stack([np.bincount(y[idx], minlength=num_classes) for idx in self.client_indices])


def _as_labels(labels: npt.ArrayLike | torch.Tensor) -> IndexArray:
    array = labels.numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1:
        raise ConfigError(f"labels must be one-dimensional, got shape {array.shape}")
    if array.size and (not np.issubdtype(array.dtype, np.integer) or int(array.min()) < 0):
        raise ConfigError("labels must be non-negative integers")
    return array.astype(np.int64)


def _check_capacity(num_samples: int, num_clients: int, min_samples: int) -> None:
    if num_clients < 1:
        raise ConfigError(f"num_clients must be >= 1, got {num_clients}")
    if min_samples < 1:
        raise ConfigError(f"min_samples must be >= 1, got {min_samples}")
    if num_samples < num_clients * min_samples:
        raise PartitionError(
            f"cannot give each of {num_clients} clients at least {min_samples} samples "
            f"from {num_samples}; use fewer clients or a smaller min_samples"
        )


def _finish(
    scheme: str,
    seed: int,
    params: dict[str, float | int],
    parts: list[IndexArray],
    min_samples: int,
) -> Partition:
    smallest = min(part.size for part in parts)
    if smallest < min_samples:
        raise PartitionError(
            f"{scheme} partition left a client with {smallest} samples (< min_samples "
            f"{min_samples}); {_REMEDY.get(scheme, 'use fewer clients')}"
        )
    return Partition(
        scheme=scheme,
        seed=seed,
        params=tuple(sorted(params.items())),
        client_indices=tuple(np.sort(part).astype(np.int64) for part in parts),
    )


_REMEDY = {
    "dirichlet": "raise alpha, use fewer clients or lower min_samples",
    "shards": "raise classes_per_client, use fewer clients or lower min_samples",
}


def iid_partition(
    labels: npt.ArrayLike | torch.Tensor, num_clients: int, *, seed: int, min_samples: int = 1
) -> Partition:
    """Shuffle all samples with `seed` and cut them into near-equal client parts."""
    y = _as_labels(labels)
    _check_capacity(y.size, num_clients, min_samples)
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(y.size), num_clients)
    return _finish("iid", seed, {}, [p.astype(np.int64) for p in parts], min_samples)


def dirichlet_partition(
    labels: npt.ArrayLike | torch.Tensor,
    num_clients: int,
    *,
    alpha: float,
    seed: int,
    min_samples: int = 1,
    max_attempts: int = 100,
) -> Partition:
    """Split each class over clients with proportions drawn from Dirichlet(alpha).

    Draws are repeated (from the same generator, so still deterministic) until every
    client holds at least `min_samples`, at most `max_attempts` times.
    """
    if not alpha > 0:
        raise ConfigError(f"dirichlet alpha must be > 0, got {alpha}")
    y = _as_labels(labels)
    _check_capacity(y.size, num_clients, min_samples)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    parts: list[IndexArray] = []
    for _ in range(max_attempts):
        buckets: list[list[IndexArray]] = [[] for _ in range(num_clients)]
        for cls in classes:
            members = rng.permutation(np.flatnonzero(y == cls))
            shares = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * members.size).astype(np.int64)
            for client, piece in enumerate(np.split(members, cuts)):
                buckets[client].append(piece)
        parts = [np.concatenate(b).astype(np.int64) for b in buckets]
        if min(p.size for p in parts) >= min_samples:
            break
    else:
        raise PartitionError(
            f"dirichlet(alpha={alpha}) gave some client fewer than {min_samples} samples in "
            f"{max_attempts} attempts; {_REMEDY['dirichlet']}"
        )
    return _finish("dirichlet", seed, {"alpha": alpha}, parts, min_samples)


def shard_partition(
    labels: npt.ArrayLike | torch.Tensor,
    num_clients: int,
    *,
    classes_per_client: int,
    seed: int,
    min_samples: int = 1,
) -> Partition:
    """Give each client exactly `classes_per_client` classes (pathological non-IID).

    Classes are dealt round-robin over a seeded class order, so every class has at
    least one holder; each class's shuffled samples are split evenly among its holders.
    """
    y = _as_labels(labels)
    _check_capacity(y.size, num_clients, min_samples)
    classes = np.unique(y)
    k = classes_per_client
    if not 1 <= k <= classes.size:
        raise ConfigError(f"classes_per_client must be in [1, {classes.size}], got {k}")
    if num_clients * k < classes.size:
        raise PartitionError(
            f"{num_clients} clients x {k} classes cannot cover all {classes.size} classes; "
            "raise classes_per_client or the number of clients"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(classes)
    holders: dict[int, list[int]] = {int(c): [] for c in classes}
    for client in range(num_clients):
        for j in range(k):
            holders[int(order[(client * k + j) % classes.size])].append(client)
    buckets: list[list[IndexArray]] = [[] for _ in range(num_clients)]
    for cls in classes:
        members = rng.permutation(np.flatnonzero(y == cls))
        owners = holders[int(cls)]
        for client, piece in zip(owners, np.array_split(members, len(owners)), strict=True):
            buckets[client].append(piece.astype(np.int64))
    parts = [np.concatenate(b) for b in buckets]
    return _finish("shards", seed, {"classes_per_client": k}, parts, min_samples)


def _split_by_shares(
    num_samples: int, shares: npt.NDArray[np.float64], min_samples: int, rng: np.random.Generator
) -> list[IndexArray]:
    """IID assignment with client sizes min_samples + shares of the remainder."""
    remainder = num_samples - min_samples * shares.size
    exact = shares / shares.sum() * remainder
    counts = np.floor(exact).astype(np.int64)
    leftover = remainder - int(counts.sum())
    # Largest fractional parts first; the stable sort breaks ties by client index.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:leftover]] += 1
    counts += min_samples
    cuts = np.cumsum(counts)[:-1]
    return [p.astype(np.int64) for p in np.split(rng.permutation(num_samples), cuts)]


def quantity_dirichlet_partition(
    labels: npt.ArrayLike | torch.Tensor,
    num_clients: int,
    *,
    alpha: float,
    seed: int,
    min_samples: int = 1,
) -> Partition:
    """IID labels, client sizes = `min_samples` + Dirichlet(alpha) shares of the rest."""
    if not alpha > 0:
        raise ConfigError(f"quantity-dirichlet alpha must be > 0, got {alpha}")
    y = _as_labels(labels)
    _check_capacity(y.size, num_clients, min_samples)
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(num_clients, alpha))
    parts = _split_by_shares(y.size, shares, min_samples, rng)
    return _finish("quantity-dirichlet", seed, {"alpha": alpha}, parts, min_samples)


def quantity_power_law_partition(
    labels: npt.ArrayLike | torch.Tensor,
    num_clients: int,
    *,
    exponent: float,
    seed: int,
    min_samples: int = 1,
) -> Partition:
    """IID labels, client sizes proportional to ``rank ** -exponent`` (ranks shuffled)."""
    if not exponent >= 0:
        raise ConfigError(f"quantity-power-law exponent must be >= 0, got {exponent}")
    y = _as_labels(labels)
    _check_capacity(y.size, num_clients, min_samples)
    rng = np.random.default_rng(seed)
    ranks = rng.permutation(num_clients) + 1
    shares = ranks.astype(np.float64) ** -exponent
    parts = _split_by_shares(y.size, shares, min_samples, rng)
    return _finish("quantity-power-law", seed, {"exponent": exponent}, parts, min_samples)


PARTITIONERS: dict[str, Callable[..., Partition]] = {
    "iid": iid_partition,
    "dirichlet": dirichlet_partition,
    "shards": shard_partition,
    "quantity-dirichlet": quantity_dirichlet_partition,
    "quantity-power-law": quantity_power_law_partition,
}


def partition_labels(
    scheme: str,
    labels: npt.ArrayLike | torch.Tensor,
    num_clients: int,
    *,
    seed: int,
    **params: Any,
) -> Partition:
    """Run the partitioner registered as `scheme` (a key of `PARTITIONERS`)."""
    try:
        partitioner = PARTITIONERS[scheme]
    except KeyError:
        raise ConfigError(
            f"unknown partition scheme {scheme!r}; known: {', '.join(sorted(PARTITIONERS))}"
        ) from None
    try:
        inspect.signature(partitioner).bind(labels, num_clients, seed=seed, **params)
    except TypeError as exc:
        raise ConfigError(f"partition scheme {scheme!r}: {exc}") from exc
    return partitioner(labels, num_clients, seed=seed, **params)
