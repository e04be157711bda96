"""Errors the data layer raises on purpose, each naming what a user must fix.

A participant's data arrives from folders we did not write, so every failure here
is about the user's files or settings; each error derives from the project root
exception so the CLI can show it as a message instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path

from ledger.errors import ConfigError, FormatError


class DatasetFormatError(FormatError):
    """A dataset file is corrupt, truncated or not in the format its loader reads.

    `path` names the offending file so the user knows which download to repeat.
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DatasetNotFoundError(ConfigError):
    """The files a loader needs are not where the user pointed it."""


class MissingDependencyError(ConfigError):
    """An optional package a loader needs (Pillow, mlxtend) is not installed."""


class PartitionError(ConfigError):
    """The requested split of samples across clients cannot be made."""
