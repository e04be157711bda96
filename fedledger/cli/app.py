"""The `fedledger` command: wires each command group's module into one Typer app.

Only wiring lives here (STYLE.md: a thin CLI, one module per command group), so a
group can be tested on its own `app` and this file stays a table of contents.
"""

from __future__ import annotations

import typer

from fedledger import __version__

app = typer.Typer(
    name="fedledger",
    help="Federated learning whose every round anyone can re-derive from the chain and IPFS.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"fedledger {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """fedledger: participants train, the chain records, anyone audits."""


def _wire() -> None:
    from fedledger.cli import aggregator, audit, demo, gov, node, store

    app.add_typer(store.app, name="store")
    app.add_typer(node.app, name="node")
    app.add_typer(aggregator.app, name="aggregator")
    app.add_typer(gov.app, name="gov")
    app.command("cid")(store.cid_command)
    app.registered_commands.extend(demo.app.registered_commands)
    app.registered_commands.extend(audit.app.registered_commands)


_wire()


def main() -> None:
    """Console-script entry point."""
    app()
