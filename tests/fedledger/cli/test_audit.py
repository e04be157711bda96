"""`fedledger audit` over JSON-RPC: exit codes, JSON and HTML outputs, and the challenge flow.

These tests are about the command's RPC path (an outsider pointing it at a node), so they
run on the managed anvil (skipped with the reason when its binary is missing); the history
is the tamper tests' round 0 with a lying or honest aggregator.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.audit import EXIT_ERROR, EXIT_MISMATCH, EXIT_UNVERIFIABLE, EXIT_VERIFIED, app
from ledger.audit import AuditReport, Verdict
from ledger.audit import findings as F
from ledger.chain.base import TestChainBackend
from ledger.contracts.registry import RoundStatus
from ledger.errors import ContractRevert
from ledger.keys import create_keystore
from ledger.store.disk import DiskStore
from tests.ledger.audit.lying_aggregator import TOKEN, History, LyingAggregator, build_history

pytestmark = pytest.mark.anvil
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def _built(anvil_chain: TestChainBackend,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, list[int]]]:
    before = anvil_chain.snapshot()
    store = DiskStore(tmp_path_factory.mktemp("cli-audit-store"))
    history = build_history(anvil_chain, store)
    yield history, [anvil_chain.snapshot()]
    anvil_chain.revert(before)


@pytest.fixture
def history(_built: tuple[History, list[int]]) -> Iterator[History]:
    h, holder = _built
    yield h
    h.backend.revert(holder[0])  # anvil consumes a snapshot when reverting: take a new one
    holder[0] = h.backend.snapshot()


def rpc_url(h: History) -> str:
    return h.backend.process.url  # type: ignore[attr-defined]


def run(args: list[str], env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env)


def network_file(h: History, tmp_path: Path) -> Path:
    path = tmp_path / "network.json"
    h.network.info.save(path)
    return path


def test_an_honest_network_exits_0_and_writes_json_and_html(history: History,
                                                            tmp_path: Path) -> None:
    # Prepare
    LyingAggregator(history).finalize()
    out_json, out_html = tmp_path / "out" / "audit.json", tmp_path / "out" / "audit.html"

    # Execute
    result = run(["--rpc", rpc_url(history), "--network", str(network_file(history, tmp_path)),
                  "--store", str(history.store.root), "--json", str(out_json),  # type: ignore[attr-defined]
                  "--html", str(out_html)])

    # Assert
    assert result.exit_code == EXIT_VERIFIED, result.output
    assert "overall verdict: verified" in result.output
    document = json.loads(out_json.read_text())
    report = AuditReport.from_json(document)
    assert (document["format"], document["verdict"]) == ("fedledger-audit/1", "verified")
    assert report.round(0).accepted == 4 and report.registry == history.network.registry.address
    page = out_html.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    assert "<script" not in page and "src=" not in page and "http" not in page
    assert "signature.signer" in page  # the forger's rejected update, with its reason


def test_a_missing_update_exits_3_when_audited_by_registry_address(history: History,
                                                                     tmp_path: Path) -> None:
    # Prepare
    LyingAggregator(history).finalize()
    copy = tmp_path / "store"
    shutil.copytree(history.store.root, copy)  # type: ignore[attr-defined]
    store = DiskStore(copy)
    store.unpin(history.honest[0].update_cid)
    store.gc()

    # Execute
    result = run(["--rpc", rpc_url(history), "--registry", history.network.registry.address,
                  "--from-block", str(history.network.info.deployment_block),
                  "--store", str(copy)])

    # Assert
    assert result.exit_code == EXIT_UNVERIFIABLE, result.output
    assert F.CONTENT_MISSING in result.output
    assert "overall verdict: unverifiable" in result.output


def test_a_mismatch_is_challenged_with_the_audit_as_evidence_and_claims_freeze(
        history: History, tmp_path: Path) -> None:
    # Prepare: a lying round; the auditor (AUDITOR_ROLE, one bond) keeps its key in a keystore.
    liar = LyingAggregator(history)
    loser, winner = history.honest[0].signer.address, history.honest[1].signer.address

    def skew(subs):  # type: ignore[no-untyped-def]
        return tuple(replace(s, reward=s.reward - TOKEN) if s.participant == loser else
                     replace(s, reward=s.reward + TOKEN) if s.participant == winner else s
                     for s in subs)

    published = liar.finalize(submissions=skew)
    registry, token = history.network.registry, history.network.token
    bond = registry.parameters().challenge_bond
    keystore = tmp_path / "auditor.json"
    create_keystore(keystore, PASSPHRASE, private_key=history.auditor.local_account().key,
                    kdf="pbkdf2", work_factor=1_000)

    # Execute
    result = run(["--rpc", rpc_url(history), "--network", str(network_file(history, tmp_path)),
                  "--store", str(history.store.root), "--challenge",  # type: ignore[attr-defined]
                  "--keystore", str(keystore)], env={"FEDLEDGER_PASSPHRASE": PASSPHRASE})

    # Assert: challenged with the audit as evidence, bond moved, claims frozen.
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert "challenged round 0" in result.output
    [event] = registry.events_round_challenged(round=0)
    assert (event.challenger, event.bond) == (history.auditor.address, bond)
    evidence = AuditReport.from_json(json.loads(history.store.get_bytes(event.evidence_cid)))
    assert evidence.round(0).verdict is Verdict.MISMATCH
    assert F.SUBMISSION_REWARD in evidence.round(0).codes()
    assert registry.round_info(0).status is RoundStatus.CHALLENGED
    assert token.balance_of(history.auditor.address) == 0
    owed = next(s.reward for s in published.report.submissions
                if s.participant == history.honest[2].signer.address)
    with pytest.raises(ContractRevert) as frozen:
        liar.claim(published, history.honest[2].signer, owed)
    assert (frozen.value.error_name, frozen.value.error_args) == ("RegistryClaimsFrozen", (0,))



def test_a_wrong_passphrase_sends_no_challenge(history: History, tmp_path: Path) -> None:
    # Prepare
    LyingAggregator(history).finalize(model_vector=LyingAggregator(history).outcome()
                                      .new_vector * 3)
    keystore = tmp_path / "auditor.json"
    create_keystore(keystore, PASSPHRASE, private_key=history.auditor.local_account().key,
                    kdf="pbkdf2", work_factor=1_000)

    # Execute
    result = run(["--rpc", rpc_url(history), "--network", str(network_file(history, tmp_path)),
                  "--store", str(history.store.root), "--challenge",  # type: ignore[attr-defined]
                  "--keystore", str(keystore)], env={"FEDLEDGER_PASSPHRASE": "wrong"})

    # Assert
    assert result.exit_code == EXIT_ERROR
    assert "challenge not sent" in result.output and "wrong passphrase" in result.output
    assert history.network.registry.events_round_challenged(round=0) == []
    assert history.network.registry.round_info(0).status is RoundStatus.FINALIZED


@pytest.mark.parametrize(("args", "message"), [
    (["--rpc", "embedded", "--registry", "0x" + "11" * 20], "--rpc takes an http(s)://"),
    (["--rpc", "{url}"], "give exactly one of --network FILE or --registry ADDRESS"),
    (["--rpc", "{url}", "--registry", "0x" + "11" * 20], "no contract at"),
    (["--rpc", "{url}", "--registry", "registry.eth"], "'registry.eth' is not a 20-byte hex"),
    (["--rpc", "{url}", "--network", "{missing}"], "no network file at"),
    (["--rpc", "{url}", "--registry", "0x" + "11" * 20, "--challenge"], "--challenge needs"),
])
def test_bad_arguments_exit_4_naming_the_problem(history: History, tmp_path: Path,
                                                 args: list[str], message: str) -> None:
    # Prepare
    filled = [a.format(url=rpc_url(history), missing=tmp_path / "nope.json") for a in args]

    # Execute
    result = run(filled)

    # Assert
    assert result.exit_code == EXIT_ERROR, result.output
    assert message in " ".join(result.output.split())


def test_a_reader_keystore_is_opened_and_an_honest_history_still_verifies(
        history: History, tmp_path: Path) -> None:
    # Prepare: the auditor's own account as reader (sealed rounds are covered by
    # tests/ledger/audit/test_privacy.py; here the flag must load the key and change nothing
    # for plaintext rounds)
    keystore = tmp_path / "reader.json"
    create_keystore(keystore, PASSPHRASE, private_key=history.auditor.local_account().key,
                    kdf="pbkdf2", work_factor=1_000)
    args = ["--rpc", rpc_url(history), "--network", str(network_file(history, tmp_path)),
            "--store", str(history.store.root),  # type: ignore[attr-defined]
            "--reader-keystore", str(keystore)]

    # Execute
    good = run(args, env={"FEDLEDGER_PASSPHRASE": PASSPHRASE})
    bad = run(args, env={"FEDLEDGER_PASSPHRASE": "wrong"})

    # Assert
    assert good.exit_code == 0, good.output
    assert bad.exit_code == EXIT_ERROR
    assert "cannot open the reader keystore" in bad.output and "wrong passphrase" in bad.output
