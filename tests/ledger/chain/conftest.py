"""Fixture contracts for the chain backend tests, compiled once and cached on disk.

The backends are tested against a tiny contract of their own (`solidity/ChainFixture.sol`), not
against fedledger's contracts, so their conformance does not depend on the registry's rules.
Compiling takes seconds with solc-js; the result is cached in the system temp folder keyed by
the sources' hash, shared by xdist workers and later sessions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from ledger.contracts.artifacts import ContractArtifact, artifact_from_json, artifact_to_json
from ledger.errors import FedLedgerError

SOLIDITY_DIR = Path(__file__).parent / "solidity"
CACHE_DIR = Path(tempfile.gettempdir()) / "fedledger-test-solc-cache"
FIXTURE_NAMES = ("ChainFixture", "ChainFixtureCallee")


def _compile_cached() -> dict[str, ContractArtifact]:
    from ledger.contracts.compiler import COMPILER_SETTINGS, compile_contracts

    digest = hashlib.sha256()
    for path in sorted(SOLIDITY_DIR.glob("*.sol")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(repr(sorted(COMPILER_SETTINGS.items())).encode())
    key = digest.hexdigest()[:24]
    cached = {name: CACHE_DIR / f"{key}-{name}.json" for name in FIXTURE_NAMES}
    if all(path.is_file() for path in cached.values()):
        try:
            return {
                name: artifact_from_json(path.read_text(encoding="utf-8"), origin=str(path))
                for name, path in cached.items()
            }
        except FedLedgerError:
            pass  # a torn or stale cache file: compile again and overwrite it
    artifacts = compile_contracts(SOLIDITY_DIR).artifacts
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for name, path in cached.items():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(artifact_to_json(artifacts[name]), encoding="utf-8")
        os.replace(partial, path)
    return {name: artifacts[name] for name in FIXTURE_NAMES}


@pytest.fixture(scope="session")
def fixture_artifacts() -> dict[str, ContractArtifact]:
    """`ChainFixture` and `ChainFixtureCallee` artifacts (skips if solc-js is not installed)."""
    from ledger.contracts.compiler import CompilerUnavailable

    try:
        return _compile_cached()
    except CompilerUnavailable as exc:
        pytest.skip(f"cannot compile the chain fixture contract: {exc}")
