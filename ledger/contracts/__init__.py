"""fedledger's Solidity contracts as Python sees them: compiled artifacts and typed bindings.

`load_artifact(name)` returns the committed ABI and bytecode of a contract; the runtime never needs
a Solidity compiler (`ledger.contracts.compiler` is a developer tool used by
`scripts/compile_contracts.py` and the freshness test).
"""

from __future__ import annotations

from ledger.contracts.artifacts import (
    ArtifactNotFound,
    ContractArtifact,
    artifact_names,
    load_artifact,
)

__all__ = ["ArtifactNotFound", "ContractArtifact", "artifact_names", "load_artifact"]
