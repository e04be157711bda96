"""The participant's local journal: what it has done in each round, on disk.

A node can be killed at any moment (power cut, OOM, operator's Ctrl-C). On restart
it must neither lose an update it already trained and committed (the salt lives only
here: without it the commitment can never be revealed and the stake is slashable) nor
send a second commit or reveal, which the contract would reject and the node would
pay gas for. Every step is therefore recorded *before* the transaction that depends
on it is sent, and the record is written atomically (temp file + fsync + rename), so
the file is always either the old or the new state, never half of each.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError

JOURNAL_FORMAT = "fedledger-journal/1"


class Stage(str, Enum):
    """How far a round has progressed for this participant, in lifecycle order."""

    PREPARED = "prepared"  # update + proof stored, salt chosen, nothing sent yet
    COMMITTED = "committed"
    REVEALED = "revealed"
    CLAIMED = "claimed"
    SKIPPED = "skipped"  # deliberately not taking part (e.g. deadline passed)

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Stage.PREPARED: 0,
    Stage.COMMITTED: 1,
    Stage.REVEALED: 2,
    Stage.CLAIMED: 3,
    Stage.SKIPPED: 3,
}


class JournalError(ConfigError):
    """The journal file is unreadable, or a step was recorded out of order."""


@dataclass(frozen=True)
class RoundEntry:
    """Everything a restarted node needs to finish a round it started."""

    round: int
    stage: Stage
    base_model_hash: str
    update_cid: str
    update_hash: str
    proof_cid: str
    proof_hash: str
    num_samples: int
    salt: str
    commitment: str
    commit_tx: str | None = None
    reveal_tx: str | None = None
    claim_tx: str | None = None
    reward: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stage"] = self.stage.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundEntry:
        try:
            return cls(**{**data, "stage": Stage(data["stage"])})
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalError(f"journal entry is malformed: {exc}") from exc


class Journal:
    """A per-participant, per-network JSON journal with atomic updates."""

    def __init__(self, path: Path, participant: str, registry: str) -> None:
        self.path = Path(path)
        self.participant = participant.lower()
        self.registry = registry.lower()
        self._rounds: dict[int, RoundEntry] = {}
        if self.path.exists():
            self._load()

    # -- reading -------------------------------------------------------------
    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != JOURNAL_FORMAT:
            raise JournalError(f"{self.path} is not a {JOURNAL_FORMAT} journal")
        if raw.get("participant") != self.participant or raw.get("registry") != self.registry:
            raise JournalError(
                f"{self.path} belongs to participant {raw.get('participant')} on registry "
                f"{raw.get('registry')}, not {self.participant} on {self.registry}"
            )
        self._rounds = {int(k): RoundEntry.from_json(v) for k, v in raw.get("rounds", {}).items()}

    def get(self, round_: int) -> RoundEntry | None:
        return self._rounds.get(round_)

    def entries(self) -> list[RoundEntry]:
        return [self._rounds[r] for r in sorted(self._rounds)]

    # -- writing -------------------------------------------------------------
    def record(self, entry: RoundEntry) -> RoundEntry:
        """Store `entry`, refusing to move a round backwards in its lifecycle."""
        current = self._rounds.get(entry.round)
        if current is not None and entry.stage.rank < current.stage.rank:
            raise JournalError(
                f"round {entry.round}: cannot go from {current.stage.value} back to "
                f"{entry.stage.value}"
            )
        updated = {**self._rounds, entry.round: entry}
        self._save(updated)
        self._rounds = updated  # only once it is on disk
        return entry

    def advance(self, round_: int, stage: Stage, **changes: Any) -> RoundEntry:
        """Move an existing round to `stage`, recording e.g. the transaction hash."""
        current = self._rounds.get(round_)
        if current is None:
            raise JournalError(f"round {round_} has no journal entry to advance")
        return self.record(replace(current, stage=stage, **changes))

    def _save(self, rounds: dict[int, RoundEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": JOURNAL_FORMAT,
            "participant": self.participant,
            "registry": self.registry,
            "rounds": {str(r): e.to_json() for r, e in sorted(rounds.items())},
        }
        fd, tmp = tempfile.mkstemp(prefix=".journal-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
