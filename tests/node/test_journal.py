"""The journal is what lets a killed node finish its round: test that it survives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.journal import Journal, JournalError, RoundEntry, Stage

ME = "0x" + "ab" * 20
REG = "0x" + "cd" * 20


def _entry(round_: int = 3, stage: Stage = Stage.PREPARED) -> RoundEntry:
    return RoundEntry(
        round=round_,
        stage=stage,
        base_model_hash="0x" + "11" * 32,
        update_cid="bafkreiupdate",
        update_hash="0x" + "22" * 32,
        proof_cid="bafkreiproof",
        proof_hash="0x" + "33" * 32,
        num_samples=120,
        salt="0x" + "44" * 32,
        commitment="0x" + "55" * 32,
        metrics={"acc_after": "0.912000"},
    )


def test_entries_survive_a_restart(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "journal.json"
    journal = Journal(path, ME, REG)
    journal.record(_entry())
    journal.advance(3, Stage.COMMITTED, commit_tx="0xabc")

    # Execute
    reopened = Journal(path, ME.upper().replace("0X", "0x"), REG)

    # Assert
    entry = reopened.get(3)
    assert entry is not None
    assert entry.stage is Stage.COMMITTED
    assert entry.commit_tx == "0xabc"
    assert entry.salt == "0x" + "44" * 32
    assert entry.metrics == {"acc_after": "0.912000"}


def test_a_round_cannot_move_backwards(tmp_path: Path) -> None:
    # Prepare
    journal = Journal(tmp_path / "j.json", ME, REG)
    journal.record(_entry(stage=Stage.REVEALED))

    # Execute / Assert
    with pytest.raises(JournalError, match="cannot go from revealed back to committed"):
        journal.advance(3, Stage.COMMITTED)
    assert journal.get(3).stage is Stage.REVEALED  # type: ignore[union-attr]


def test_advancing_an_unknown_round_is_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json", ME, REG)
    with pytest.raises(JournalError, match="round 9 has no journal entry"):
        journal.advance(9, Stage.COMMITTED)


def test_a_journal_of_another_participant_is_refused(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "j.json"
    Journal(path, ME, REG).record(_entry())

    # Execute / Assert
    with pytest.raises(JournalError, match="belongs to participant"):
        Journal(path, "0x" + "ef" * 20, REG)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "cannot read journal"),
        (json.dumps({"format": "other"}), "is not a fedledger-journal/1 journal"),
        (
            json.dumps(
                {"format": "fedledger-journal/1", "participant": ME, "registry": REG,
                 "rounds": {"1": {"round": 1}}}
            ),
            "journal entry is malformed",
        ),
    ],
)
def test_a_corrupt_journal_gives_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "j.json"
    path.write_text(content)
    with pytest.raises(JournalError, match=message):
        Journal(path, ME, REG)


def test_a_failed_write_keeps_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    path = tmp_path / "j.json"
    journal = Journal(path, ME, REG)
    journal.record(_entry())
    before = path.read_bytes()

    def boom(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("node.journal.os.replace", boom)

    # Execute
    with pytest.raises(OSError, match="disk full"):
        journal.advance(3, Stage.COMMITTED, commit_tx="0x1")

    # Assert
    assert path.read_bytes() == before
    assert journal.get(3).stage is Stage.PREPARED  # type: ignore[union-attr]
    assert [p.name for p in tmp_path.iterdir()] == ["j.json"]
