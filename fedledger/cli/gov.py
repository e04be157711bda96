"""`fedledger gov ...`: consortium members propose, vote on and execute governance actions.

Every admin power of a network (admit or remove a participant, appoint the aggregator, set the
task and parameters, resolve a challenge, slash, change the consortium) belongs to its timelock,
so a member changes the network by `propose` (one or more `--action NAME:ARGS`), the members
`vote`, and anyone `execute`s a passed proposal (which first queues it in the timelock, then runs
it once the delay is over). `status` lists proposals or shows one with its tally.

The network comes from a network file (`NetworkInfo` JSON with a `governor`); the signer from an
encrypted keystore whose passphrase comes from `--passphrase-file`, `$FEDLEDGER_PASSPHRASE` or a
hidden prompt, never a flag. Results go to stdout as rich tables; a refused input exits with
status 1 and one line naming what is wrong.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fedledger.cli.errors import reported as _reported
from ledger.chain.base import ChainBackend
from ledger.chain.factory import open_chain
from ledger.contracts.deploy import Network, NetworkInfo, attach_network
from ledger.contracts.governance import (
    Governance,
    ProposalCreated,
    ProposalState,
    ProposalStatus,
    VoteType,
)
from ledger.contracts.proposals import (
    MembershipActions,
    Proposal,
    ProposalAction,
    RegistryActions,
)
from ledger.contracts.registry import AUDITOR_ROLE
from ledger.errors import ConfigError
from ledger.keys import Signer, load_keystore

app = typer.Typer(
    help="Consortium governance: propose, vote on and execute changes to the network.",
    no_args_is_help=True,
)

PASSPHRASE_ENV = "FEDLEDGER_PASSPHRASE"
TOKEN = 10**18

_stdout = Console(highlight=False, soft_wrap=True)
_stderr = Console(stderr=True)

#: Opens (and on exit closes) the chain a command talks to; tests replace it to reach a chain
#: already running in their process.
ChainOpener = Callable[[str], AbstractContextManager[ChainBackend]]
open_backend: ChainOpener = open_chain

ChainOption = Annotated[str, typer.Option(
    "--chain", help="embedded, anvil, or a JSON-RPC URL (http://...).")]
NetworkOption = Annotated[Path, typer.Option(
    "--network", help="Network file (NetworkInfo JSON) naming the governor.", exists=True,
    dir_okay=False, readable=True)]
KeystoreOption = Annotated[Path, typer.Option(
    "--keystore", help="Encrypted keystore of the signing member.", exists=True,
    dir_okay=False, readable=True)]
PassphraseFileOption = Annotated[Path | None, typer.Option(
    "--passphrase-file", help=f"File holding the keystore passphrase (else ${PASSPHRASE_ENV}, "
                              "else a prompt).", exists=True, dir_okay=False, readable=True)]

ACTIONS_HELP = (
    "NAME:ARGS, repeatable, run in order: admit-participant:ADDR, remove-participant:ADDR, "
    "appoint-aggregator:ADDR, grant-auditor:ADDR, revoke-auditor:ADDR, slash:ADDR,AMOUNT, "
    "withdraw-treasury:ADDR,AMOUNT, resolve-challenge:ROUND,upheld|rejected, "
    "set-task:HASH,CID, add-member:ADDR, remove-member:ADDR (amounts in base units)"
)


def _passphrase(path: Path | None) -> str:
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
    value: str = typer.prompt("Keystore passphrase", hide_input=True, err=True)
    return value


@dataclass(frozen=True)
class _Session:
    network: Network
    governance: Governance


@contextmanager
def _session(chain: str, network_file: Path) -> Iterator[_Session]:
    info = NetworkInfo.load(network_file)
    if info.governor is None:
        raise ConfigError(
            f"network file {network_file} names no governor: the network was deployed without "
            "governance (deploy_governance + hand_over) or the file predates it"
        )
    with open_backend(chain) as backend:
        network = attach_network(backend, info)
        assert network.governance is not None
        yield _Session(network, network.governance)


def _address(text: str, what: str) -> str:
    from ledger.contracts.binding import as_address

    return as_address(text.strip(), what)


def _amount(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{what} must be an integer number of base units, got {text!r}") from None
    if value < 0:
        raise ConfigError(f"{what} must not be negative, got {value}")
    return value


def parse_action(spec: str, network: Network, governance: Governance) -> ProposalAction:
    """One `--action NAME:ARGS` as the call the timelock will make."""
    name, sep, raw = spec.partition(":")
    name = name.strip()
    args = [a for a in raw.split(",")] if sep else []
    registry = RegistryActions(network.registry)
    membership = MembershipActions(governance.membership)
    single: dict[str, Callable[[str], ProposalAction]] = {
        "admit-participant": registry.admit_participant,
        "remove-participant": registry.remove_participant,
        "appoint-aggregator": registry.appoint_aggregator,
        "grant-auditor": lambda a: registry.grant_role(AUDITOR_ROLE, a, "AUDITOR_ROLE"),
        "revoke-auditor": lambda a: registry.revoke_role(AUDITOR_ROLE, a, "AUDITOR_ROLE"),
        "add-member": membership.add_member,
        "remove-member": membership.remove_member,
    }
    if name in single:
        if len(args) != 1:
            raise ConfigError(f"action {name} takes one address: {name}:0x...")
        return single[name](_address(args[0], f"{name} address"))
    if name in ("slash", "withdraw-treasury"):
        if len(args) != 2:
            raise ConfigError(f"action {name} takes an address and an amount: {name}:0x...,AMOUNT")
        target, amount = _address(args[0], f"{name} address"), _amount(args[1], f"{name} amount")
        if name == "slash":
            return registry.slash(target, amount)
        return registry.withdraw_treasury(target, amount)
    if name == "resolve-challenge":
        if len(args) != 2 or args[1].strip() not in ("upheld", "rejected"):
            raise ConfigError("action resolve-challenge takes a round and a verdict: "
                              "resolve-challenge:ROUND,upheld or resolve-challenge:ROUND,rejected")
        return registry.resolve_challenge(_amount(args[0], "round"), args[1].strip() == "upheld")
    if name == "set-task":
        if len(args) != 2:
            raise ConfigError("action set-task takes a hash and a CID: set-task:0xHASH,CID")
        try:
            digest = bytes.fromhex(args[0].strip().removeprefix("0x"))
        except ValueError:
            raise ConfigError(f"set-task hash must be hex, got {args[0]!r}") from None
        return registry.set_task(digest, args[1].strip())
    known = ", ".join([*single, "slash", "withdraw-treasury", "resolve-challenge", "set-task"])
    raise ConfigError(f"unknown action {name!r}: expected one of {known}")


def _when(timestamp: int) -> str:
    if timestamp == 0:
        return "-"
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_STATE_STYLE = {
    ProposalState.PENDING: "yellow", ProposalState.ACTIVE: "cyan",
    ProposalState.CANCELED: "dim", ProposalState.DEFEATED: "red",
    ProposalState.SUCCEEDED: "green", ProposalState.QUEUED: "blue",
    ProposalState.EXPIRED: "dim", ProposalState.EXECUTED: "bold green",
}


def _state(state: ProposalState) -> Text:
    return Text(state.name.lower(), style=_STATE_STYLE[state])


def _detail(created: ProposalCreated, status: ProposalStatus, now: int) -> Table:
    table = Table(title=f"proposal {status.proposal_id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("description", created.description)
    table.add_row("state", _state(status.state))
    table.add_row("proposer", status.proposer)
    table.add_row("voting", f"{_when(status.snapshot)} -> {_when(status.deadline)}")
    quorum = "fixed at the snapshot" if status.quorum is None else str(status.quorum)
    table.add_row("votes", f"for {status.votes.for_}, against {status.votes.against}, "
                           f"abstain {status.votes.abstain} (quorum {quorum})")
    if status.eta:
        ready = "ready" if now >= status.eta else "waiting"
        table.add_row("timelock", f"executable from {_when(status.eta)} ({ready})")
    for index, (target, data) in enumerate(zip(created.targets, created.calldatas, strict=True)):
        table.add_row(f"action {index + 1}", f"0x{data[:4].hex()} on {target}")
    return table


@app.command("propose")
def propose_command(
    description: Annotated[str, typer.Option("--description", "-d",
                                             help="What the proposal does and why.")],
    action: Annotated[list[str], typer.Option("--action", "-a", help=ACTIONS_HELP)],
    chain: ChainOption,
    network: NetworkOption,
    keystore: KeystoreOption,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Submit a proposal (the signer must be a consortium member)."""
    with _reported(), _session(chain, network) as session:
        actions = tuple(parse_action(a, session.network, session.governance) for a in action)
        proposal = Proposal(actions, description)
        signer = load_keystore(keystore, _passphrase(passphrase_file))
        proposal_id, receipt = session.governance.governor.propose(proposal, sender=signer)
        status = session.governance.governor.status(proposal_id)
        table = Table(title="proposal submitted", show_header=False, title_justify="left")
        table.add_column("field", style="bold")
        table.add_column("value")
        table.add_row("id", str(proposal_id))
        for index, item in enumerate(actions):
            table.add_row(f"action {index + 1}", item.summary)
        table.add_row("voting", f"{_when(status.snapshot)} -> {_when(status.deadline)}")
        table.add_row("block", str(receipt["blockNumber"]))
        _stdout.print(table)


@app.command("vote")
def vote_command(
    proposal_id: Annotated[int, typer.Argument(help="The proposal id (from propose or status).")],
    support: Annotated[str, typer.Option("--support", help="for, against or abstain.")],
    chain: ChainOption,
    network: NetworkOption,
    keystore: KeystoreOption,
    passphrase_file: PassphraseFileOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Logged with the vote.")] = "",
) -> None:
    """Vote on an active proposal (members at its snapshot only, once each)."""
    choices = {"for": VoteType.FOR, "against": VoteType.AGAINST, "abstain": VoteType.ABSTAIN}
    with _reported():
        choice = choices.get(support.strip().lower())
        if choice is None:
            raise ConfigError(f"--support must be for, against or abstain, got {support!r}")
        with _session(chain, network) as session:
            governor = session.governance.governor
            signer = load_keystore(keystore, _passphrase(passphrase_file))
            governor.cast_vote(proposal_id, choice, sender=signer, reason=reason)
            status = governor.status(proposal_id)
            _stdout.print(Text.assemble(
                ("voted ", ""), (choice.name.lower(), "bold"), (f" on {proposal_id}: ", ""),
                f"for {status.votes.for_}, against {status.votes.against}, "
                f"abstain {status.votes.abstain}"))


@app.command("execute")
def execute_command(
    proposal_id: Annotated[int, typer.Argument(help="The proposal id.")],
    chain: ChainOption,
    network: NetworkOption,
    keystore: KeystoreOption,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Queue a passed proposal in the timelock, or execute a queued one whose delay is over."""
    with _reported(), _session(chain, network) as session:
        governor = session.governance.governor
        proposal = governor.proposal_of(proposal_id).proposal()
        status = governor.status(proposal_id)
        signer: Signer | None = None
        if status.state is ProposalState.SUCCEEDED:
            signer = load_keystore(keystore, _passphrase(passphrase_file))
            governor.queue(proposal, sender=signer)
            eta = governor.status(proposal_id).eta
            _stdout.print(f"queued {proposal_id} in the timelock: executable from {_when(eta)}")
            if session.network.backend.now() < eta:
                return
            status = governor.status(proposal_id)
        if status.state is not ProposalState.QUEUED:
            raise ConfigError(f"proposal {proposal_id} is {status.state.name.lower()}: only a "
                              "succeeded or queued proposal can be executed")
        if session.network.backend.now() < status.eta:
            raise ConfigError(f"proposal {proposal_id} is queued until {_when(status.eta)}: "
                              "execute it after that")
        if signer is None:
            signer = load_keystore(keystore, _passphrase(passphrase_file))
        receipt = governor.execute(proposal, sender=signer)
        _stdout.print(Text.assemble(("executed ", "bold green"),
                                    f"{proposal_id} in block {receipt['blockNumber']}"))


@app.command("status")
def status_command(
    chain: ChainOption,
    network: NetworkOption,
    proposal_id: Annotated[int | None, typer.Argument(help="One proposal (else all).")] = None,
) -> None:
    """List every proposal with its state and tally, or show one in detail."""
    with _reported(), _session(chain, network) as session:
        governor = session.governance.governor
        now = session.network.backend.now()
        if proposal_id is not None:
            created = governor.proposal_of(proposal_id)
            _stdout.print(_detail(created, governor.status(proposal_id), now))
            return
        members = session.governance.membership.member_count()
        table = Table(title=f"proposals (consortium of {members}, quorum "
                            f"{governor.quorum_numerator()}% rounded up)", title_justify="left")
        for column in ("id", "state", "for", "against", "abstain", "voting ends", "description"):
            table.add_column(column, justify="right" if column in ("for", "against", "abstain")
                             else "left")
        for created in governor.events_proposal_created():
            status = governor.status(created.proposal_id)
            short = str(created.proposal_id)
            table.add_row(f"{short[:8]}…{short[-4:]}", _state(status.state),
                          str(status.votes.for_), str(status.votes.against),
                          str(status.votes.abstain), _when(status.deadline), created.description)
        _stdout.print(table)
