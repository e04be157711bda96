"""How every command group reports a deliberate failure: one red line on stderr, exit 1.

fedledger raises `FedLedgerError` subclasses whose messages already say what is wrong and
what to do, so a command shows that message alone, without a traceback. One module keeps
the groups consistent: the same prefix, the same exit status, the same stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.text import Text

from ledger.errors import FedLedgerError

stderr = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit(1) for the caller to raise."""
    stderr.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def reported() -> Iterator[None]:
    """Turn fedledger's deliberate errors (and OS errors on user paths) into `fail`."""
    try:
        yield
    except FedLedgerError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"{exc.filename or ''} {exc.strerror or exc}".strip()) from exc
