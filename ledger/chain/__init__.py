"""Chain backends: one interface (`ChainBackend`), three ways to reach a chain.

`open_chain(spec)` picks one; `TestChainBackend` adds clock/mining/snapshot powers on chains
the project runs itself (embedded eth-tester, managed anvil).
"""

from ledger.chain.base import (
    ChainBackend,
    DeployableArtifact,
    TestChainBackend,
    TxOutcome,
    TxRequest,
    TxSigner,
)
from ledger.chain.factory import open_chain

__all__ = [
    "ChainBackend",
    "DeployableArtifact",
    "TestChainBackend",
    "TxOutcome",
    "TxRequest",
    "TxSigner",
    "open_chain",
]
