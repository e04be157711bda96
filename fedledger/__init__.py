"""Composition root of fedledger: the command line that wires `ledger`, `node` and `aggregator`."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fedledger")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
