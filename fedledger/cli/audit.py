"""`fedledger audit`: re-derive every round of a network and say whether it was told the truth.

An outsider needs only a JSON-RPC URL, the registry (its address, or a network file) and a
content store that has the artifacts. The exit code is the verdict, so a script or CI job
can gate on it: 0 verified, 1 mismatch, 3 unverifiable (content missing), 4 the audit
could not run (no chain, wrong address, unreadable keystore, refused challenge); 2 stays
Click's usage error. `--challenge` turns each mismatched round still inside its challenge
window into an on-chain challenge, paying the bond from the auditor's keystore.

This module is the one place the audit path imports aggregation code, and only the pure
rule functions (`default_rules`); tests/ledger/audit/test_boundary.py checks it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from eth_utils.address import is_address, to_checksum_address
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ledger.audit import Auditor, AuditReport, AuditRules, Verdict
from ledger.audit.challenge import ChallengeRefused, submit_challenge
from ledger.audit.html import render_html
from ledger.audit.terminal import render_terminal
from ledger.chain.base import ChainBackend
from ledger.chain.factory import open_chain
from ledger.contracts.deploy import Network, NetworkInfo, attach_network
from ledger.contracts.registry import TrainingRegistry
from ledger.errors import ConfigError, FedLedgerError
from ledger.keys import load_keystore
from ledger.privacy.readers import ReaderSecret
from ledger.store.factory import default_spec, open_store

EXIT_VERIFIED = 0
EXIT_MISMATCH = 1
EXIT_UNVERIFIABLE = 3
EXIT_ERROR = 4
PASSPHRASE_ENV = "FEDLEDGER_PASSPHRASE"

app = typer.Typer(help="Audit a fedledger network from its chain and content hashes.",
                  no_args_is_help=True)


def default_rules() -> AuditRules:
    """The pure aggregation functions the auditor re-runs (and nothing else from aggregator)."""
    from aggregator.rewards import allocate_rewards
    from aggregator.round_compute import compute_round

    return AuditRules(compute_round=compute_round, allocate_rewards=allocate_rewards)


def exit_code(verdict: Verdict) -> int:
    """The process exit status for an overall verdict."""
    return {Verdict.VERIFIED: EXIT_VERIFIED, Verdict.MISMATCH: EXIT_MISMATCH,
            Verdict.UNVERIFIABLE: EXIT_UNVERIFIABLE}[verdict]


def write_outputs(report: AuditReport, json_path: Path | None, html_path: Path | None) -> None:
    """Write the JSON report and/or the HTML page (parent folders created)."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(report.to_json_bytes())
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(report), encoding="utf-8")


def attach(backend: ChainBackend, network_file: Path | None, registry: str | None,
           from_block: int) -> Network:
    """The network named by exactly one of a network file or a registry address."""
    if (network_file is None) == (registry is None):
        raise ConfigError("give exactly one of --network FILE or --registry ADDRESS")
    if network_file is not None:
        return attach_network(backend, NetworkInfo.load(network_file))
    assert registry is not None
    if not is_address(registry):
        raise ConfigError(f"--registry {registry!r} is not a 20-byte hex address")
    if not backend.w3.eth.get_code(to_checksum_address(registry)):
        raise ConfigError(f"no contract at {registry} on chain {backend.chain_id}: check "
                          "--registry and --rpc")
    address = to_checksum_address(registry)
    token = TrainingRegistry(backend, address).token_address()
    return attach_network(backend, NetworkInfo(backend.chain_id, token, address, from_block))


def _audit_with_progress(auditor: Auditor, console: Console,
                         rounds: list[int] | None) -> AuditReport:
    with Progress(TextColumn("auditing rounds"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("audit", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return auditor.audit(rounds or None, progress=step)


@app.command("audit")
def audit_command(
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of any node of the chain.")],
    network: Annotated[Path | None, typer.Option(
        "--network", help="Network file (fedledger-network/1) naming registry and token.")] = None,
    registry: Annotated[str | None, typer.Option(
        help="Registry address (instead of --network); events are read from --from-block.")] = None,
    from_block: Annotated[int, typer.Option(min=0, help="With --registry: first block to "
                                            "read events from (its deployment block).")] = 0,
    store: Annotated[str | None, typer.Option(
        help="Content store: a directory or a Kubo-compatible http:// API URL "
             "(default $FEDLEDGER_STORE or .fedledger/store).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML page here.")] = None,
    round_: Annotated[list[int] | None, typer.Option(
        "--round", help="Audit only this round (repeatable).")] = None,
    challenge: Annotated[bool, typer.Option(
        help="Challenge every mismatched round still in its window (needs --keystore).")] = False,
    keystore: Annotated[Path | None, typer.Option(
        help=f"Auditor keystore for --challenge; passphrase from ${PASSPHRASE_ENV} or a prompt.")
    ] = None,
    reader_keystore: Annotated[Path | None, typer.Option(
        help="Keystore of a registered reader (the auditor's own account): opens sealed "
             "updates, proofs and DP noise seeds. Without it such rounds are 'unverifiable: "
             f"encrypted'. Passphrase from ${PASSPHRASE_ENV} or a prompt.")] = None,
) -> None:
    """Replay every event, fetch every artifact by CID, re-run every round; exit with the verdict."""
    console = Console()
    if not rpc.startswith(("http://", "https://")):
        console.print(f"[red]--rpc takes an http(s):// JSON-RPC URL, got {rpc!r}[/]")
        raise typer.Exit(EXIT_ERROR)
    if challenge and keystore is None:
        console.print("[red]--challenge needs --keystore: the bond is paid from the auditor's "
                      "own account[/]")
        raise typer.Exit(EXIT_ERROR)
    reader: ReaderSecret | None = None
    if reader_keystore is not None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or typer.prompt(
            "reader keystore passphrase", hide_input=True)
        try:
            reader = ReaderSecret(load_keystore(reader_keystore, passphrase).local_account().key)
        except FedLedgerError as exc:
            console.print(f"[red]cannot open the reader keystore {reader_keystore}:[/] {exc}")
            raise typer.Exit(EXIT_ERROR) from None
    try:
        backend = open_chain(rpc)
    except FedLedgerError as exc:
        console.print(f"[red]cannot reach the chain at {rpc}:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    try:
        try:
            net = attach(backend, network, registry, from_block)
            content = open_store(store if store is not None else default_spec())
        except FedLedgerError as exc:
            console.print(f"[red]cannot open the network:[/] {exc}")
            raise typer.Exit(EXIT_ERROR) from None
        auditor = Auditor(net, content, default_rules(), reader=reader)
        report = _audit_with_progress(auditor, console, round_)
        render_terminal(report, console)
        write_outputs(report, json_out, html_out)
        for path in (json_out, html_out):
            if path is not None:
                console.print(f"wrote {path}")
        if challenge:
            assert keystore is not None
            _challenge(console, net, content, keystore, report)
        raise typer.Exit(exit_code(report.verdict))
    finally:
        backend.close()


def _challenge(console: Console, net: Network, content: object, keystore: Path,
               report: AuditReport) -> None:
    mismatched = [r.round for r in report.rounds if r.verdict is Verdict.MISMATCH]
    if not mismatched:
        console.print("nothing to challenge: no round mismatched")
        return
    passphrase = os.environ.get(PASSPHRASE_ENV) or typer.prompt("keystore passphrase",
                                                                hide_input=True)
    try:
        signer = load_keystore(keystore, passphrase)
        for number in mismatched:
            done = submit_challenge(net, content, signer, report, number)  # type: ignore[arg-type]
            console.print(f"[bold]challenged round {done.round}[/]: evidence {done.evidence_cid}, "
                          f"bond {done.bond}, tx 0x{done.tx_hash.hex()}; its claims are frozen "
                          "until governance resolves the challenge")
    except (ChallengeRefused, FedLedgerError) as exc:
        console.print(f"[red]challenge not sent:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
