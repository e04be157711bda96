"""`fedledger store ...` and `fedledger cid`: content-store commands for operators.

`cid` answers "what CID will this file have on IPFS?" without storing anything
(`ipfs add --only-hash --cid-version 1 --raw-leaves -Q`); the `store` group
adds, fetches (always verified), pins, checks and copies content on any store
spec: a directory / `embedded:<dir>` or an IPFS daemon URL. Every command
prints only results on stdout (CIDs, content) so it scripts well; progress and
errors go to stderr, and a refused input exits with status 1 and a message
naming what is wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from fedledger.cli.errors import fail as _fail
from fedledger.cli.errors import reported as _reported
from ledger.store import ContentStore, cid_of_file, copy_content, normalize_cid, open_store
from ledger.store.builder import hash_stream
from ledger.store.disk import DiskStore
from ledger.store.errors import IntegrityError
from ledger.store.factory import DEFAULT_SPEC, ENV_SPEC

app = typer.Typer(
    help="Put, get, pin and verify content on the embedded store or an IPFS daemon.",
    no_args_is_help=True,
)

_stderr = Console(stderr=True)

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        "-s",
        envvar=ENV_SPEC,
        help="Store spec: a directory, embedded:<dir>, or an IPFS RPC URL such as "
        "http://127.0.0.1:5001.",
    ),
]
CidArgument = Annotated[str, typer.Argument(help="CID of the content (any multibase).")]


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A byte progress bar on stderr (shown only on a terminal)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=_stderr,
        transient=True,
        disable=not _stderr.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda count: progress.advance(task, count)


@contextmanager
def _opened(spec: str) -> Iterator[ContentStore]:
    with _reported():
        store = open_store(spec)
    try:
        with _reported():
            yield store
    finally:
        store.close()


def cid_command(
    file: Annotated[Path, typer.Argument(help="File to hash; '-' reads standard input.")],
) -> None:
    """Print the CIDv1 a file gets from `ipfs add --cid-version 1 --raw-leaves`, storing nothing."""
    with _reported():
        if str(file) == "-":
            cid = str(hash_stream(sys.stdin.buffer))
        else:
            with _progress(f"hashing {file.name}", file.stat().st_size) as advance:
                cid = cid_of_file(file, progress=advance)
    typer.echo(cid)


app.command("cid")(cid_command)


@app.command("put")
def put_command(
    files: Annotated[list[Path], typer.Argument(help="Files to add.")],
    store: StoreOption = DEFAULT_SPEC,
    pin: Annotated[bool, typer.Option("--pin/--no-pin", help="Pin what is added.")] = True,
) -> None:
    """Add files to the store; print one CID per file, in order."""
    with _opened(store) as target:
        for path in files:
            with _progress(f"adding {path.name}", path.stat().st_size) as advance:
                cid = target.put_file(path, pin=pin, progress=advance)
            typer.echo(cid)


@app.command("get")
def get_command(
    cid: CidArgument,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (atomically) instead of stdout."),
    ] = None,
    store: StoreOption = DEFAULT_SPEC,
    max_size: Annotated[
        int | None,
        typer.Option("--max-size", min=0, help="Refuse content larger than this many bytes."),
    ] = None,
) -> None:
    """Fetch content, verified block by block against its CID."""
    with _opened(store) as source:
        if output is None:
            data = source.get_bytes(cid, max_size=max_size)
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        with _progress(f"fetching {cid[:16]}...", source.size(cid)) as advance:
            source.get_file(cid, output, max_size=max_size, progress=advance)


@app.command("has")
def has_command(cid: CidArgument, store: StoreOption = DEFAULT_SPEC) -> None:
    """Exit 0 if the store holds all of the content, 1 if not."""
    with _opened(store) as source:
        present = source.has(cid)
    typer.echo("yes" if present else "no")
    if not present:
        raise typer.Exit(1)


@app.command("pin")
def pin_command(cid: CidArgument, store: StoreOption = DEFAULT_SPEC) -> None:
    """Pin content the store holds completely."""
    with _opened(store) as target:
        target.pin(cid)


@app.command("unpin")
def unpin_command(cid: CidArgument, store: StoreOption = DEFAULT_SPEC) -> None:
    """Release a pin (the content may then be garbage-collected)."""
    with _opened(store) as target:
        target.unpin(cid)


@app.command("verify")
def verify_command(
    cid: CidArgument,
    file: Annotated[Path, typer.Argument(help="File whose content must match the CID.")],
) -> None:
    """Check that a file's content is exactly what the CID names (no store needed)."""
    with _reported():
        with _progress(f"hashing {file.name}", file.stat().st_size) as advance:
            actual = cid_of_file(file, progress=advance)
        expected = normalize_cid(cid)
        if actual != expected:
            raise IntegrityError(f"{file} does not match CID {expected}: its CID is {actual}")
    typer.echo("ok")


@app.command("copy")
def copy_command(
    cid: CidArgument,
    source: Annotated[str, typer.Option("--from", help="Store spec to copy from.")],
    target: Annotated[str, typer.Option("--to", help="Store spec to copy to.")],
) -> None:
    """Copy content between stores block by block (e.g. embedded store -> IPFS daemon)."""
    with _opened(source) as origin, _opened(target) as destination:
        count = copy_content(origin, destination, cid)
    _stderr.print(f"copied {count} blocks", highlight=False, soft_wrap=True)


@app.command("gc")
def gc_command(store: StoreOption = DEFAULT_SPEC) -> None:
    """Delete blocks no pinned content needs (embedded store only)."""
    with _opened(store) as target:
        if not isinstance(target, DiskStore):
            raise _fail(f"gc runs on the embedded store; use the daemon's own gc for {store}")
        result = target.gc()
    typer.echo(
        f"removed {result.removed_blocks} blocks ({result.freed_bytes} bytes), "
        f"kept {result.kept_blocks}"
    )
