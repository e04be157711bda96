"""The TaskSpec: everything a round's outcome depends on, fixed in advance and hashed on chain.

Governance registers ``keccak256(canonical JSON of the spec)`` with `setTask`; each round
records the task hash in force. Participants train by it, the aggregator aggregates and
pays by it, and an auditor re-derives rounds from it, so every quantity that influences a
result is in here, in an exact representation: fractional hyper-parameters are canonical
decimal strings (``"0.05"``), never floats, and token amounts are decimal strings.

`TaskSpec.from_json` treats its input as hostile and names the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from ledger.formats.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json,
    content_hash,
    format_decimal,
    parse_canonical_json,
)
from ledger.formats.errors import FieldError, JsonError
from ledger.formats.fields import (
    UINT256_MAX,
    ObjectReader,
    hash_json,
    scalar_map,
    to_address,
    to_bytes32,
)
from ledger.formats.layout import ParameterLayout
from ledger.privacy.params import DpParams

__all__ = ["SEED_POLICIES", "TASK_FORMAT", "TaskSpec", "TrainingConfig"]

TASK_FORMAT = "fedledger-task/1"
SEED_POLICIES = ("fixed", "round", "participant_round")
"""How a participant derives its torch seed: see `TrainingConfig.derive_seed`."""

_TASK_ID = r"[a-z0-9][a-z0-9._-]{0,63}"
_IDENTIFIER = r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}"
_VERSION = r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}"
_MAX_TASK_BYTES = 4 * 1024 * 1024
_YEAR = 365 * 24 * 3600


def _check_int(value: object, where: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(where, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise FieldError(where, f"{value} is outside [{low}, {high}]")


def _check_decimal(value: object, where: str, low: Decimal,
                   high: Decimal | None = None, *, high_open: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise FieldError(where, f"expected a finite Decimal, got {value!r}")
    if value < low or (high is not None and (value >= high if high_open else value > high)):
        bound = f"[{low}, {high}{')' if high_open else ']'}" if high is not None else f">= {low}"
        raise FieldError(where, f"{value} is outside {bound}")


def _check_text(value: object, where: str, pattern: str | None = None,
                max_length: int = 64) -> None:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise FieldError(where, f"expected a non-empty string of <= {max_length} characters, "
                                f"got {value!r}")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        raise FieldError(where, f"{value!r} does not match {pattern}")


@dataclass(frozen=True)
class TrainingConfig:
    """Local training hyper-parameters every participant must use.

    `lr`, `momentum` and `proximal_mu` (FedProx's mu; 0 disables the proximal term) are
    exact decimals; convert with ``float(cfg.lr)`` at the point of use.
    """

    epochs: int
    batch_size: int
    lr: Decimal
    momentum: Decimal
    proximal_mu: Decimal
    seed_policy: str
    seed: int

    def __post_init__(self) -> None:
        """Refuse out-of-range hyper-parameters, naming the field."""
        _check_int(self.epochs, "training.epochs", 1, 10_000)
        _check_int(self.batch_size, "training.batch_size", 1, 1 << 20)
        _check_decimal(self.lr, "training.lr", Decimal(0))
        _check_decimal(self.momentum, "training.momentum", Decimal(0), Decimal(1), high_open=True)
        _check_decimal(self.proximal_mu, "training.proximal_mu", Decimal(0))
        if self.seed_policy not in SEED_POLICIES:
            raise FieldError("training.seed_policy",
                             f"{self.seed_policy!r} is not one of {', '.join(SEED_POLICIES)}")
        _check_int(self.seed, "training.seed", 0, MAX_SAFE_INTEGER)

    def to_json_value(self) -> dict[str, object]:
        """The JSON object written into the task spec."""
        return {
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "lr": format_decimal(self.lr),
            "momentum": format_decimal(self.momentum),
            "proximal_mu": format_decimal(self.proximal_mu),
            "seed": self.seed,
            "seed_policy": self.seed_policy,
        }

    @classmethod
    def from_json_value(cls, value: object, path: str = "training") -> TrainingConfig:
        """Read the JSON object form, refusing wrong types and unknown fields."""
        reader = ObjectReader(value, path)
        config = cls(
            epochs=reader.integer("epochs"),
            batch_size=reader.integer("batch_size"),
            lr=reader.decimal("lr"),
            momentum=reader.decimal("momentum"),
            proximal_mu=reader.decimal("proximal_mu"),
            seed_policy=reader.string("seed_policy"),
            seed=reader.integer("seed"),
        )
        reader.finish()
        return config

    def config_hash(self) -> bytes:
        """keccak256 of the canonical JSON of this config (the proof's trainingConfigHash)."""
        return content_hash(canonical_json(self.to_json_value()))

    def derive_seed(self, round: int, participant: str) -> int:
        """The torch seed a participant uses in `round` (63 bits, same on every machine).

        ``fixed``: `seed`. ``round``: first 8 bytes of keccak256(abi.encode(uint256 seed,
        uint64 round)) masked to 63 bits. ``participant_round``: the same over
        abi.encode(uint256 seed, uint64 round, address participant).
        """
        if self.seed_policy == "fixed":
            return self.seed
        if self.seed_policy == "round":
            digest = keccak(abi_encode(["uint256", "uint64"], [self.seed, round]))
        else:
            digest = keccak(abi_encode(["uint256", "uint64", "address"],
                                       [self.seed, round, to_address(participant, "participant")]))
        return int.from_bytes(digest[:8], "big") & (2**63 - 1)


@dataclass(frozen=True)
class TaskSpec:
    """The task every round of a network runs: data, model, rule, numbers, schedule.

    Attributes
    ----------
    fixed_point_bits
        Aggregation quantises float32 values to integers on a ``2**-fixed_point_bits``
        grid (24 -> steps of about 6e-8).
    update_norm_bound
        Largest accepted L2 norm of an update delta (exact decimal).
    reward_per_round
        Token base units (18 decimals) a round may pay in total.
    commit_seconds, reveal_seconds
        Lengths of the commit and reveal phases.
    privacy
        Client-level differential privacy (`ledger.privacy.params.DpParams`), or None.
        Optional and written only when set, so tasks without it keep their hashes.
    """

    task_id: str
    name: str
    dataset: str
    model: str
    model_kwargs: Mapping[str, object] = field(hash=False)
    layout: ParameterLayout
    initial_model_hash: bytes
    aggregation_rule: str
    aggregation_params: Mapping[str, object] = field(hash=False)
    fixed_point_bits: int
    update_norm_bound: Decimal
    training: TrainingConfig
    rounds: int
    reward_per_round: int
    commit_seconds: int
    reveal_seconds: int
    score_method: str
    software_version: str
    privacy: DpParams | None = None

    def __post_init__(self) -> None:
        """Validate every field (ranges, identifiers, JSON-ability) and freeze the maps."""
        _check_text(self.task_id, "task_id", _TASK_ID)
        _check_text(self.name, "name", max_length=200)
        _check_text(self.dataset, "dataset", _IDENTIFIER)
        _check_text(self.model, "model.name", _IDENTIFIER)
        if not isinstance(self.layout, ParameterLayout):
            raise FieldError("layout", "expected a ParameterLayout")
        object.__setattr__(self, "initial_model_hash",
                           to_bytes32(self.initial_model_hash, "initial_model_hash"))
        _check_text(self.aggregation_rule, "aggregation.rule", _IDENTIFIER)
        _check_int(self.fixed_point_bits, "aggregation.fixed_point_bits", 1, 48)
        _check_decimal(self.update_norm_bound, "aggregation.update_norm_bound", Decimal(0))
        if self.update_norm_bound == 0:
            raise FieldError("aggregation.update_norm_bound", "must be > 0")
        if not isinstance(self.training, TrainingConfig):
            raise FieldError("training", "expected a TrainingConfig")
        _check_int(self.rounds, "rounds", 1, 2**32)
        _check_int(self.reward_per_round, "reward_per_round", 0, UINT256_MAX)
        _check_int(self.commit_seconds, "deadlines.commit_seconds", 1, _YEAR)
        _check_int(self.reveal_seconds, "deadlines.reveal_seconds", 1, _YEAR)
        _check_text(self.score_method, "score_method", _IDENTIFIER)
        _check_text(self.software_version, "software_version", _VERSION)
        if self.privacy is not None and not isinstance(self.privacy, DpParams):
            raise FieldError("privacy", "expected DpParams or None")
        object.__setattr__(self, "aggregation_params", MappingProxyType(
            scalar_map(dict(self.aggregation_params), "aggregation.params")))
        object.__setattr__(self, "model_kwargs", MappingProxyType(
            _json_object(self.model_kwargs, "model.kwargs")))

    # -- encoding --

    def to_json_value(self) -> dict[str, object]:
        """The JSON object form (see docs/formats.md, "TaskSpec")."""
        value: dict[str, object] = {
            "aggregation": {
                "fixed_point_bits": self.fixed_point_bits,
                "params": dict(self.aggregation_params),
                "rule": self.aggregation_rule,
                "update_norm_bound": format_decimal(self.update_norm_bound),
            },
            "dataset": self.dataset,
            "deadlines": {
                "commit_seconds": self.commit_seconds,
                "reveal_seconds": self.reveal_seconds,
            },
            "format": TASK_FORMAT,
            "initial_model_hash": hash_json(self.initial_model_hash),
            "layout": self.layout.to_json_value(),
            "model": {"kwargs": dict(self.model_kwargs), "name": self.model},
            "name": self.name,
            "reward_per_round": str(self.reward_per_round),
            "rounds": self.rounds,
            "score_method": self.score_method,
            "software_version": self.software_version,
            "task_id": self.task_id,
            "training": self.training.to_json_value(),
        }
        if self.privacy is not None:
            value["privacy"] = self.privacy.to_json_value()
        return value

    def canonical_bytes(self) -> bytes:
        """The canonical JSON bytes registered on chain (by hash) and stored on IPFS."""
        return canonical_json(self.to_json_value())

    def task_hash(self) -> bytes:
        """keccak256 of `canonical_bytes` (the on-chain ``taskHash``)."""
        return content_hash(self.canonical_bytes())

    # -- decoding --

    @classmethod
    def from_json(cls, data: bytes) -> TaskSpec:
        """Parse and validate untrusted task-spec bytes (which must be canonical JSON).

        Raises
        ------
        JsonError
            Not canonical JSON (subclass says why).
        FieldError
            A field is missing, unknown, mistyped or out of range (``field`` names it).
        """
        value = parse_canonical_json(data, max_bytes=_MAX_TASK_BYTES)
        reader = ObjectReader(value, "")
        reader.expect("format", TASK_FORMAT)
        model = reader.obj("model")
        aggregation = reader.obj("aggregation")
        deadlines = reader.obj("deadlines")
        spec = cls(
            task_id=reader.string("task_id"),
            name=reader.string("name", max_length=200),
            dataset=reader.string("dataset"),
            model=model.string("name"),
            model_kwargs=_json_object(model.raw("kwargs"), "model.kwargs"),
            layout=ParameterLayout.from_json_value(reader.raw("layout")),
            initial_model_hash=reader.hash("initial_model_hash"),
            aggregation_rule=aggregation.string("rule"),
            aggregation_params=scalar_map(aggregation.raw("params"), "aggregation.params"),
            fixed_point_bits=aggregation.integer("fixed_point_bits"),
            update_norm_bound=aggregation.decimal("update_norm_bound"),
            training=TrainingConfig.from_json_value(reader.raw("training")),
            rounds=reader.integer("rounds"),
            reward_per_round=reader.amount("reward_per_round"),
            commit_seconds=deadlines.integer("commit_seconds"),
            reveal_seconds=deadlines.integer("reveal_seconds"),
            score_method=reader.string("score_method"),
            software_version=reader.string("software_version"),
            privacy=(DpParams.from_json_value(reader.raw("privacy"))
                     if "privacy" in value else None),  # type: ignore[operator]
        )
        for part in (model, aggregation, deadlines, reader):
            part.finish()
        return spec


def _json_object(value: object, where: str) -> dict[str, object]:
    """A JSON object of identifier keys whose values canonical JSON can hold (no floats)."""
    if not isinstance(value, Mapping):
        raise FieldError(where, f"expected a JSON object, got {type(value).__name__}")
    result = dict(value)
    for key in result:
        if not isinstance(key, str) or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key) is None:
            raise FieldError(where, f"key {key!r} is not an identifier of <= 64 characters")
    try:
        canonical_json(result)
    except JsonError as exc:
        raise FieldError(where, str(exc)) from exc
    return result
