"""The privacy section of a round report: the clipping norm used and the budget spent.

A round report of a DP task records, for that round: the clipping norm ``C`` in force,
how many updates were aggregated, the noised unclipped fraction and the next round's
``C`` (adaptive clipping), where the sealed server-noise seed is (server-side noise), and
the cumulative budget: for every participant ever aggregated, the number of rounds its
update was aggregated in and the epsilon that gives, plus the network's worst case. The
auditor recomputes every one of these numbers from the task's published parameters, the
previous report and this round's updates (`ledger.audit.privacy`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from eth_typing import ChecksumAddress

from ledger.formats.canonical import format_decimal
from ledger.formats.errors import FieldError
from ledger.formats.fields import (
    ObjectReader,
    address_json,
    check_safe_uint,
    hash_json,
    to_address,
    to_bytes32,
)

__all__ = ["ParticipantBudget", "PrivacyRecord", "sorted_budgets"]

_EPSILON = r"inf|0|[1-9][0-9]*(\.[0-9]*[1-9])?|0\.[0-9]*[1-9]"
_MAX_CID = 4096


@dataclass(frozen=True)
class ParticipantBudget:
    """One participant's cumulative budget: rounds aggregated in, and the epsilon spent."""

    participant: ChecksumAddress
    rounds: int
    epsilon: str

    def __post_init__(self) -> None:
        """Normalise the address; refuse a negative count or a malformed epsilon."""
        object.__setattr__(self, "participant", to_address(self.participant, "participant"))
        check_safe_uint(self.rounds, "privacy.budgets.rounds")
        if not isinstance(self.epsilon, str) or re.fullmatch(_EPSILON, self.epsilon) is None:
            raise FieldError("privacy.budgets.epsilon",
                             f"expected a canonical decimal string or 'inf', got {self.epsilon!r}")

    def to_json_value(self) -> dict[str, object]:
        """The JSON object form."""
        return {"epsilon": self.epsilon, "participant": address_json(self.participant),
                "rounds": self.rounds}


@dataclass(frozen=True)
class PrivacyRecord:
    """What a DP round report says about privacy (see the module docstring).

    `unclipped_fraction` is set exactly under adaptive clipping; `noise_seed_cid` and
    `noise_seed_hash` exactly under server-side noise (with at least one update).
    `budgets` is sorted by address, one entry per participant.
    """

    clipping_norm: Decimal
    next_clipping_norm: Decimal
    aggregated: int
    unclipped_fraction: Decimal | None
    noise_seed_cid: str | None
    noise_seed_hash: bytes | None
    budgets: tuple[ParticipantBudget, ...]
    total_epsilon: str
    delta: Decimal

    def __post_init__(self) -> None:
        """Validate types and ranges; refuse unsorted or repeated budgets."""
        for name in ("clipping_norm", "next_clipping_norm", "delta"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise FieldError(f"privacy.{name}", f"expected a positive Decimal, got {value!r}")
        check_safe_uint(self.aggregated, "privacy.aggregated")
        if self.unclipped_fraction is not None and (
            not isinstance(self.unclipped_fraction, Decimal)
            or not self.unclipped_fraction.is_finite()
        ):
            raise FieldError("privacy.unclipped_fraction", "expected a finite Decimal or None")
        if (self.noise_seed_cid is None) != (self.noise_seed_hash is None):
            raise FieldError("privacy.noise_seed_cid",
                             "noise_seed_cid and noise_seed_hash come together")
        if self.noise_seed_hash is not None:
            object.__setattr__(self, "noise_seed_hash",
                               to_bytes32(self.noise_seed_hash, "privacy.noise_seed_hash"))
            if not isinstance(self.noise_seed_cid, str) or not (
                0 < len(self.noise_seed_cid) <= _MAX_CID
            ):
                raise FieldError("privacy.noise_seed_cid", "expected a CID string")
        object.__setattr__(self, "budgets", tuple(self.budgets))
        keys = [address_json(b.participant) for b in self.budgets]
        if keys != sorted(set(keys)):
            raise FieldError("privacy.budgets", "must be sorted by participant, one entry each")
        if not isinstance(self.total_epsilon, str) or re.fullmatch(
            _EPSILON, self.total_epsilon) is None:
            raise FieldError("privacy.total_epsilon", f"expected a canonical decimal string or "
                                                      f"'inf', got {self.total_epsilon!r}")

    def rounds_by_participant(self) -> dict[str, int]:
        """Cumulative aggregated-round counts keyed by checksummed address."""
        return {b.participant: b.rounds for b in self.budgets}

    def to_json_value(self) -> dict[str, object]:
        """The JSON object written into the round report under ``privacy``."""
        value: dict[str, object] = {
            "aggregated": self.aggregated,
            "budgets": [b.to_json_value() for b in self.budgets],
            "clipping_norm": format_decimal(self.clipping_norm),
            "delta": format_decimal(self.delta),
            "next_clipping_norm": format_decimal(self.next_clipping_norm),
            "total_epsilon": self.total_epsilon,
        }
        if self.unclipped_fraction is not None:
            value["unclipped_fraction"] = format_decimal(self.unclipped_fraction)
        if self.noise_seed_hash is not None:
            value["noise_seed_cid"] = self.noise_seed_cid
            value["noise_seed_hash"] = hash_json(self.noise_seed_hash)
        return value

    @classmethod
    def from_json_value(cls, value: object, path: str = "privacy") -> PrivacyRecord:
        """Read the JSON form, refusing wrong types and unknown fields."""
        reader = ObjectReader(value, path)
        budgets: list[ParticipantBudget] = []
        for i, item in enumerate(reader.array("budgets")):
            entry = ObjectReader(item, f"{path}.budgets[{i}]")
            budgets.append(ParticipantBudget(entry.address("participant"),
                                             entry.integer("rounds"),
                                             entry.string("epsilon", max_length=64)))
            entry.finish()
        raw = value if isinstance(value, dict) else {}
        record = cls(
            clipping_norm=reader.decimal("clipping_norm"),
            next_clipping_norm=reader.decimal("next_clipping_norm"),
            aggregated=reader.integer("aggregated"),
            unclipped_fraction=(reader.decimal("unclipped_fraction")
                                if "unclipped_fraction" in raw else None),
            noise_seed_cid=(reader.string("noise_seed_cid", max_length=_MAX_CID)
                            if "noise_seed_cid" in raw else None),
            noise_seed_hash=reader.hash("noise_seed_hash") if "noise_seed_hash" in raw else None,
            budgets=tuple(budgets),
            total_epsilon=reader.string("total_epsilon", max_length=64),
            delta=reader.decimal("delta"),
        )
        reader.finish()
        return record


def sorted_budgets(items: Sequence[ParticipantBudget]) -> tuple[ParticipantBudget, ...]:
    """Budgets in the record's order (by lowercase address)."""
    return tuple(sorted(items, key=lambda b: b.participant.lower()))
