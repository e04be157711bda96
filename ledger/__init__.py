"""The record of a fedledger network: chain, contracts, content store, artifact formats, audit.

`ledger` imports neither `node` nor `aggregator`: it is what every party, including
an outside auditor, must be able to trust on its own.
"""
