"""`fedledger node ...`: set up, run and inspect a participant node.

`init` drafts the TOML configuration and creates the encrypted keystore; `import-key`
encrypts an existing key read from a file; `run` follows the chain and takes part in
rounds; `status` reads the journal against the chain. The passphrase comes from
`--passphrase-file`, the `FEDLEDGER_PASSPHRASE` environment variable, or a hidden prompt,
never from a flag: command lines end up in shell history and process listings. For the
same reason no command takes a raw key as an argument.

Logs and progress bars go to stderr; results (the address, the summary) to stdout. A
refused input exits with status 1 and one line naming what is wrong; a malformed flag
exits with status 2 (Typer's usage error).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fedledger.cli.errors import reported as _reported
from ledger.errors import ConfigError
from ledger.keys import KeystoreError, Signer, create_keystore, keystore_address
from node.config import CONFIG_FILE, NodeConfig, load_config, parse_config, render_config

app = typer.Typer(
    help="Run a participant node: train on local data, commit, reveal and claim rewards.",
    no_args_is_help=True,
)

PASSPHRASE_ENV = "FEDLEDGER_PASSPHRASE"
DEFAULT_SCRYPT_N = 2**18  # geth's standard cost
TOKEN = 10**18

_stderr = Console(stderr=True)
_stdout = Console(highlight=False, soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Node configuration file (TOML).")
]
PassphraseFileOption = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help=f"File holding the keystore passphrase (else "
                                           f"${PASSPHRASE_ENV}, else a prompt).",
                 exists=True, dir_okay=False, readable=True),
]
RpcOption = Annotated[str | None, typer.Option("--rpc-url", help="Chain JSON-RPC URL "
                                                                 "(overrides chain.rpc_url).")]
StoreOption = Annotated[str | None, typer.Option("--store", help="Store spec (overrides "
                                                                 "store.spec).")]


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    """The keystore passphrase from a file, the environment, or a hidden prompt."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read passphrase file {path}: {exc}") from None
        if not text:
            raise ConfigError(f"passphrase file {path} is empty")
        return text
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    value: str = typer.prompt("Keystore passphrase", hide_input=True,
                              confirmation_prompt=confirm, err=True)
    if not value:
        raise ConfigError("the passphrase must not be empty")
    return value


def _tokens(amount: int) -> str:
    return f"{amount / TOKEN:,.4f}"


@app.command("init")
def init_command(
    rpc_url: Annotated[str, typer.Option("--rpc-url", help="Chain JSON-RPC URL.")],
    network: Annotated[Path, typer.Option("--network", help="Network file (NetworkInfo JSON) "
                                                            "published by the deployer.")],
    store: Annotated[str, typer.Option("--store", help="Store directory, embedded:<dir> or "
                                                       "IPFS RPC URL.")],
    config: ConfigOption = Path(CONFIG_FILE),
    keystore: Annotated[Path | None, typer.Option(
        "--keystore", help="Keystore path (default: keystore.json beside the config).")] = None,
    journal_dir: Annotated[Path | None, typer.Option(
        "--journal-dir", help="Journal folder (default: journal/ beside the config).")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="Dataset name (default: the task's).")] = None,
    data_root: Annotated[Path | None, typer.Option(
        "--data-root", help="File or folder of the dataset, for datasets that need one.")] = None,
    partition: Annotated[str, typer.Option(
        "--partition", help="'none' (whole training split) or a partitioner name.")] = "none",
    clients: Annotated[int, typer.Option("--clients", min=1, help="Parts to cut the dataset "
                                                                  "into.")] = 1,
    client_index: Annotated[int, typer.Option("--client-index", min=0,
                                              help="This node's part.")] = 0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Partition seed.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", min=0.01,
                                                help="Seconds between chain polls.")] = 2.0,
    passphrase_file: PassphraseFileOption = None,
    scrypt_n: Annotated[int, typer.Option(
        "--scrypt-n", min=2, help="Keystore scrypt cost (2**18, the geth standard, by "
                                  "default; lower only for throwaway test keys).")] = DEFAULT_SCRYPT_N,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config file "
                                                        "(never a keystore).")] = False,
) -> None:
    """Write a node configuration and create its encrypted keystore (a new key)."""
    with _reported():
        if config.exists() and not force:
            raise ConfigError(f"{config} already exists: edit it, or pass --force to rewrite it")
        base = config.resolve().parent
        raw: dict[str, Any] = {
            "chain": {"rpc_url": rpc_url, "network": str(network.resolve())},
            "store": {"spec": store},
            "data": {"partition": partition, "clients": clients, "client_index": client_index,
                     "seed": seed},
            "node": {
                "keystore": str((keystore or base / "keystore.json").resolve()),
                "journal_dir": str((journal_dir or base / "journal").resolve()),
                "device": device,
                "poll_seconds": poll_seconds,
            },
        }
        if dataset is not None:
            raw["data"]["dataset"] = dataset
        if data_root is not None:
            raw["data"]["root"] = str(data_root.resolve())
        checked = parse_config(raw, path=config.resolve())
        key_path = checked.node.keystore
        if key_path.exists():
            address = keystore_address(key_path)
            _stderr.print(f"using the existing keystore {key_path} ({address})")
        else:
            passphrase = _passphrase(passphrase_file, confirm=True)
            address = create_keystore(key_path, passphrase, work_factor=scrypt_n).address
            _stderr.print(f"created keystore {key_path}")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(render_config(checked), encoding="utf-8")
        _stderr.print(f"wrote {config}; get {address} registered on the network, then run "
                      f"`fedledger node run --config {config}`")
        _stdout.print(address)


@app.command("import-key")
def import_key_command(
    key_file: Annotated[Path, typer.Argument(help="File holding the private key as 64 hex "
                                                  "digits (0x optional).",
                                             exists=True, dir_okay=False, readable=True)],
    config: ConfigOption = Path(CONFIG_FILE),
    passphrase_file: PassphraseFileOption = None,
    scrypt_n: Annotated[int, typer.Option("--scrypt-n", min=2, help="Keystore scrypt cost.")
                        ] = DEFAULT_SCRYPT_N,
) -> None:
    """Encrypt an existing private key (read from a file) into the configured keystore."""
    with _reported():
        checked = load_config(config)
        try:
            text = key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read key file {key_file}: {exc}") from None
        signer = Signer.from_key(text)  # malformed: ConfigError that never quotes the key
        if checked.node.keystore.exists():
            raise KeystoreError(
                f"keystore {checked.node.keystore} already exists: move it away first (it may "
                "hold the only copy of another key)"
            )
        passphrase = _passphrase(passphrase_file, confirm=True)
        create_keystore(checked.node.keystore, passphrase, private_key=text,
                        work_factor=scrypt_n)
        _stderr.print(f"imported {signer.address} into {checked.node.keystore}; you may now "
                      f"delete {key_file}")
        _stdout.print(signer.address)


def _run_overrides(rpc_url: str | None, store: str | None, device: str | None,
                   poll_seconds: float | None) -> dict[str, tuple[str, Any]]:
    return {
        "chain.rpc_url": ("--rpc-url", rpc_url),
        "store.spec": ("--store", store),
        "node.device": ("--device", device),
        "node.poll_seconds": ("--poll-seconds", poll_seconds),
    }


@app.command("run")
def run_command(
    config: ConfigOption = Path(CONFIG_FILE),
    rounds: Annotated[int | None, typer.Option(
        "--rounds", min=1, help="Stop after this many rounds ended for this node "
                                "(claimed, skipped or refused).")] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Do what is due now (train, commit, reveal, claim), then exit.")] = False,
    device: Annotated[str | None, typer.Option(
        "--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")] = None,
    rpc_url: RpcOption = None,
    store: StoreOption = None,
    poll_seconds: Annotated[float | None, typer.Option(
        "--poll-seconds", min=0.01, help="Seconds between chain polls.")] = None,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Follow the chain: train in each new round, commit, reveal, and claim rewards."""
    if once and rounds is not None:
        raise typer.BadParameter("--once and --rounds exclude each other", param_hint="--once")
    from node.bootstrap import load_signer, open_node
    from node.runner import NodeRunner

    with _reported():
        checked = load_config(config, _run_overrides(rpc_url, store, device, poll_seconds))
        signer = load_signer(checked.node.keystore, _passphrase(passphrase_file, confirm=False))
        session = open_node(checked, signer, console=_stderr, progress=True)
        try:
            p = session.participant
            _stderr.log(
                f"node {signer.address} on chain {session.network.info.chain_id}, registry "
                f"{session.network.registry.address}; task {session.task.task_id} "
                f"({session.task_cid}); {len(p.data.y)} local examples; device "
                f"{session.device}; journal {p.journal.path}"
            )
            runner = NodeRunner(p, poll_seconds=checked.node.poll_seconds, console=_stderr)
            try:
                summary = runner.run(rounds=rounds, once=once)
            except KeyboardInterrupt:
                _stderr.log("stopped; the journal holds every step taken: run again to "
                            "continue where it left off")
                raise typer.Exit(130) from None
        finally:
            session.close()
    for result in summary.results:
        detail = f" ({result.detail})" if result.detail else ""
        _stdout.print(f"round {result.round}: {result.outcome.value}, reward "
                      f"{_tokens(result.reward)}{detail}")
    _stdout.print(f"{summary.rounds_done} round(s) done, {_tokens(summary.earned)} tokens "
                  "claimed")


@app.command("status")
def status_command(
    config: ConfigOption = Path(CONFIG_FILE),
    rpc_url: RpcOption = None,
) -> None:
    """Rounds joined, rewards earned and pending claims, from the journal and the chain."""
    from node.bootstrap import journal_path, node_address, open_chain_url, open_network
    from node.journal import Journal
    from node.status import collect_status

    with _reported():
        checked: NodeConfig = load_config(config, {"chain.rpc_url": ("--rpc-url", rpc_url)})
        address = node_address(checked.node.keystore)
        backend = open_chain_url(checked.chain.rpc_url)
        try:
            network = open_network(checked, backend)
            journal = Journal(journal_path(checked.node.journal_dir, network.info, address),
                              address, network.registry.address)
            status = collect_status(network, journal, address)
        finally:
            backend.close()
    table = Table(title=f"Rounds of {status.address}")
    for column in ("round", "stage", "round status", "reward", "note"):
        table.add_column(column, justify="right" if column in ("round", "reward") else "left")
    for line in status.rounds:
        note = line.note or ""
        if line.pending_claim and line.claimable_at is not None:
            when = ("now" if line.claimable_at <= status.chain_time
                    else f"at {line.claimable_at}")
            note = f"claimable {when}"
        table.add_row(str(line.round), line.stage.value, line.chain_status.name.lower(),
                      "-" if line.reward is None else _tokens(line.reward), note)
    _stdout.print(table)
    state = "registered" if status.registered else "NOT registered"
    _stdout.print(f"participant {status.address}: {state}, stake {_tokens(status.stake)}, "
                  f"balance {_tokens(status.balance)}")
    _stdout.print(f"rounds joined: {status.rounds_joined}; rewards earned: "
                  f"{_tokens(status.rewards_earned)} (claimed on chain: "
                  f"{_tokens(status.claimed_on_chain)})")
    pending = ", ".join(str(line.round) for line in status.pending_claims) or "none"
    _stdout.print(f"pending claims: {pending}; next round on chain: {status.next_round}")


__all__ = ["app"]


if __name__ == "__main__":  # `python -m fedledger.cli.node`: the group without the root app
    app()
