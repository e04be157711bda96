"""`fedledger gov`: a proposal goes propose -> vote -> execute (queue, then run) through the CLI
against a live network, and every refused input exits 1 with one line naming the problem."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fedledger.cli import gov
from ledger.chain.base import ChainBackend, TestChainBackend, TxSigner
from ledger.contracts.deploy import DevNetwork, NetworkInfo
from ledger.contracts.devgov import advance_to
from ledger.contracts.governance import ProposalState
from ledger.keys import create_keystore

PASSPHRASE = "correct horse battery staple"

pytestmark = pytest.mark.parametrize("chain_kind", ["embedded"], indirect=True)


@pytest.fixture
def cli(network: DevNetwork, chain: TestChainBackend, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, list[str], Path]]:
    """A runner, the common options (chain, network file, passphrase file) and the tmp folder."""
    def opener(spec: str) -> contextlib.AbstractContextManager[ChainBackend]:
        assert spec == "in-process"
        return contextlib.nullcontext(chain)

    monkeypatch.setattr(gov, "open_backend", opener)
    # A wide console, so table cells are not wrapped whatever terminal runs the tests.
    monkeypatch.setattr(gov, "_stdout", Console(width=240, highlight=False, soft_wrap=True))
    network_file = tmp_path / "network.json"
    network.network.info.save(network_file)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    options = ["--chain", "in-process", "--network", str(network_file),
               "--passphrase-file", str(secret)]
    yield CliRunner(), options, tmp_path


def _keystore(folder: Path, signer: TxSigner) -> str:
    path = folder / f"{signer.address}.json"
    if not path.exists():
        create_keystore(path, PASSPHRASE, private_key=bytes(signer.key),  # type: ignore[attr-defined]
                        kdf="pbkdf2", work_factor=1_000)
    return str(path)


def test_a_proposal_goes_through_propose_vote_and_execute(
        cli: tuple[CliRunner, list[str], Path], network: DevNetwork,
        chain: TestChainBackend) -> None:
    # Prepare
    runner, options, folder = cli
    governor = network.governance.governor
    newcomer = network.outsider.address
    advance_to(chain, chain.now() + 1)  # votes are counted one second before the proposal

    # Execute
    proposed = runner.invoke(gov.app, ["propose", "-d", "admit the newcomer", "-a",
                                       f"admit-participant:{newcomer}", *options,
                                       "--keystore", _keystore(folder, network.admin)])
    (created,) = governor.events_proposal_created()
    pid = str(created.proposal_id)
    advance_to(chain, governor.status(created.proposal_id).snapshot + 1)
    votes = [runner.invoke(gov.app, ["vote", pid, "--support", "for", *options,
                                     "--keystore", _keystore(folder, member)])
             for member in network.consortium[:2]]
    advance_to(chain, governor.status(created.proposal_id).deadline + 1)
    queued = runner.invoke(gov.app, ["execute", pid, *options,
                                     "--keystore", _keystore(folder, network.admin)])
    advance_to(chain, governor.status(created.proposal_id).eta)
    executed = runner.invoke(gov.app, ["execute", pid, *options,
                                       "--keystore", _keystore(folder, network.admin)])
    listed = runner.invoke(gov.app, ["status", *options[:4]])
    detail = runner.invoke(gov.app, ["status", pid, *options[:4]])

    # Assert
    assert proposed.exit_code == 0, proposed.output
    assert f"admit participant {newcomer}" in proposed.output
    assert [v.exit_code for v in votes] == [0, 0]
    assert "for 2, against 0, abstain 0" in votes[1].output
    assert queued.exit_code == 0 and "queued" in queued.output
    assert executed.exit_code == 0 and "executed" in executed.output
    assert governor.state(created.proposal_id) is ProposalState.EXECUTED
    assert network.registry.is_admitted(newcomer)
    assert listed.exit_code == 0 and "executed" in listed.output, listed.output
    assert "admit the newcomer" in listed.output
    assert detail.exit_code == 0 and "for 2, against 0, abstain 0 (quorum 2)" in detail.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-a", "launch-rockets:0x00"], "unknown action 'launch-rockets'"),
        (["-a", "slash:0x1234,5"], "slash address must be a 20-byte hex address"),
        (["-a", "slash:0x" + "11" * 20], "action slash takes an address and an amount"),
        (["-a", "resolve-challenge:0,maybe"], "resolve-challenge:ROUND,upheld"),
        (["-a", "withdraw-treasury:0x" + "11" * 20 + ",-3"], "must not be negative"),
    ],
)
def test_malformed_actions_are_refused_before_anything_is_sent(
        cli: tuple[CliRunner, list[str], Path], network: DevNetwork, arguments: list[str],
        message: str) -> None:
    # Prepare
    runner, options, folder = cli
    before = network.backend.block_number()

    # Execute
    result = runner.invoke(gov.app, ["propose", "-d", "bad", *arguments, *options,
                                     "--keystore", _keystore(folder, network.admin)])

    # Assert
    assert result.exit_code == 1
    assert message in result.output
    assert network.backend.block_number() == before


def test_a_non_member_cannot_propose(cli: tuple[CliRunner, list[str], Path],
                                     network: DevNetwork) -> None:
    # Prepare
    runner, options, folder = cli

    # Execute
    result = runner.invoke(gov.app, ["propose", "-d", "hostile", "-a",
                                     f"remove-participant:{network.participants[0].address}",
                                     *options, "--keystore", _keystore(folder, network.outsider)])

    # Assert
    assert result.exit_code == 1
    assert "GovernorInsufficientProposerVotes" in result.output
    assert network.governance.governor.events_proposal_created() == []


def test_bad_vote_choice_and_wrong_passphrase_are_named(
        cli: tuple[CliRunner, list[str], Path], network: DevNetwork, tmp_path: Path) -> None:
    # Prepare
    runner, options, folder = cli
    wrong = tmp_path / "wrong"
    wrong.write_text("not it", encoding="utf-8")
    keystore = _keystore(folder, network.admin)
    with_wrong = [*options[:4], "--passphrase-file", str(wrong)]

    # Execute
    choice = runner.invoke(gov.app, ["vote", "1", "--support", "maybe", *options,
                                     "--keystore", keystore])
    passphrase = runner.invoke(gov.app, ["propose", "-d", "x", "-a",
                                         f"add-member:{network.outsider.address}", *with_wrong,
                                         "--keystore", keystore])

    # Assert
    assert choice.exit_code == 1 and "--support must be for, against or abstain" in choice.output
    assert passphrase.exit_code == 1 and "wrong passphrase" in passphrase.output


def test_a_network_file_without_governor_is_refused(
        cli: tuple[CliRunner, list[str], Path], network: DevNetwork, tmp_path: Path) -> None:
    # Prepare
    runner, _, _ = cli
    info = network.network.info
    bare = tmp_path / "bare.json"
    NetworkInfo(info.chain_id, info.token, info.registry, info.deployment_block).save(bare)

    # Execute
    result = runner.invoke(gov.app, ["status", "--chain", "in-process", "--network", str(bare)])

    # Assert
    assert result.exit_code == 1
    assert "names no governor" in result.output
