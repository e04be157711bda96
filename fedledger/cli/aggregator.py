"""`fedledger aggregator serve`: the round loop plus the HTTP service and dashboard.

Only argument handling lives here; the service is `aggregator.service`. Flags override
the config file; secrets come from the environment (see docs/aggregator.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ledger.errors import FedLedgerError

app = typer.Typer(help="Run the aggregator: round loop, HTTP API, metrics and dashboard.",
                  no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The aggregator's commands (`serve`)."""


@app.command("serve")
def serve_command(
    config: Annotated[Path | None, typer.Option(
        help="TOML config file (keys as in docs/aggregator.md).", dir_okay=False)] = None,
    chain: Annotated[str | None, typer.Option(
        help="Chain JSON-RPC URL (http://...); default http://127.0.0.1:8545.")] = None,
    store: Annotated[str | None, typer.Option(
        help="Content store: an IPFS RPC URL or a directory.")] = None,
    network: Annotated[Path | None, typer.Option(
        help="Network file (chain id, token, registry); default network.json.")] = None,
    keystore: Annotated[Path | None, typer.Option(
        help="Aggregator keystore (passphrase in FEDLEDGER_AGGREGATOR_PASSPHRASE); without "
             "it, FEDLEDGER_AGGREGATOR_KEY holds a dev key.")] = None,
    initial_model: Annotated[Path | None, typer.Option(
        help="Round 0's model file, when the task's seed cannot re-derive it.")] = None,
    rounds: Annotated[int | None, typer.Option(
        min=1, help="Rounds to run (default: the task's).")] = None,
    poll_seconds: Annotated[float | None, typer.Option(
        help="How often the loop re-reads the chain.")] = None,
    auto_open: Annotated[bool | None, typer.Option(
        "--auto-open/--no-auto-open", help="Open rounds by itself (else only via admin).")] = None,
    loop: Annotated[bool | None, typer.Option(
        "--loop/--no-loop", help="Run the round loop (else serve read-only views).")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port to listen on.")] = None,
) -> None:
    """Serve the API and dashboard while the round loop runs in a background thread."""
    from aggregator.service import create_app, load_settings
    from aggregator.service.bootstrap import build_context

    console = Console(stderr=True)
    overrides: dict[str, Any] = {
        "chain": chain, "store": store, "network": network, "keystore": keystore,
        "initial_model": initial_model, "rounds": rounds, "poll_seconds": poll_seconds,
        "auto_open": auto_open, "run_loop": loop, "host": host, "port": port,
    }
    try:
        settings = load_settings(config, overrides=overrides)
        context = build_context(settings)
    except FedLedgerError as exc:
        console.print(f"[red]cannot start the aggregator service:[/] {exc}")
        raise typer.Exit(2) from None
    import uvicorn

    console.print(
        f"aggregator {context.aggregator} on registry {context.network.registry.address} "
        f"(chain {context.network.info.chain_id}); dashboard http://{settings.host}:"
        f"{settings.port}/dashboard, API docs /docs, metrics /metrics; admin actions "
        f"{'enabled' if settings.admin_token else 'disabled (no admin token)'}")
    try:
        uvicorn.run(create_app(context), host=settings.host, port=settings.port,
                    log_level="info")
    finally:
        context.close()
