"""Gas of every fedledger contract operation, and proof that finalization does not grow with
the number of participants.

Deploys RewardToken and TrainingRegistry from the committed artifacts, registers participants,
and runs one round per size (default 10, 100 and 1000 participants committing and revealing),
each finalized with a StandardMerkleTree rewards root over all of them (`ledger.merkle`); then
claims, a challenge and both resolutions (the upheld one slashes the aggregator's bond and the
round is finalized again), slashing (by governance and of a commit never revealed), a reader key,
and one proposal through the consortium's Governor (propose, castVote, queue, execute). Rounds
open one challenge window apart (the registry's rule). Every measured number is a receipt's
`gasUsed`.

The fast path is anvil (npm `@foundry-rs/anvil`, `--hardfork prague --auto-impersonate`): any
address may send, so a thousand participants cost no key handling. Without the anvil binary it
falls back to the in-process eth-tester chain with smaller sizes (10 and 100: eth-tester mines about
ten transactions a second) and says so in the results.

Writes `benchmarks/results/gas.json` and `gas.md` (`gas.smoke.*` with `--smoke`: sizes 2 and 4).

    python benchmarks/gas.py [--smoke] [--backend auto|anvil|eth-tester] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import statistics
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import encode as abi_encode
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from rich.progress import Progress
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt, Wei

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ledger.chain.anvil import AnvilProcess, find_anvil
from ledger.chain.reverts import RevertDecoder
from ledger.contracts import load_artifact
from ledger.errors import ChainError
from ledger.merkle import StandardMerkleTree

RESULTS = REPO_ROOT / "benchmarks" / "results"
GAS = 6_000_000
TOKEN = 10**18
LEAF_TYPES = ("address", "uint64", "uint256")

#: The lead's per-operation targets (gas).
TARGETS = {"commit": 50_000, "reveal": 100_000, "finalizeRound": 150_000, "claim": 80_000}
#: Published per-participant costs to compare against.
ANCHORS = {
    "Solidity audit design (about 82k gas per FL transaction)": 82_000,
    "BlockFLow (477,050 gas per agent per round)": 477_050,
}

CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"  # a real 59-char CIDv1
CHALLENGE_WINDOW = 600
AGGREGATOR_BOND = 100 * TOKEN
MISSED_REVEAL_PENALTY = TOKEN
#: The benchmark's consortium: one member, short waits (gas does not depend on them).
VOTING_DELAY, VOTING_PERIOD, TIMELOCK_DELAY = 1, 30, 10


# -- chains ----------------------------------------------------------------------------------------


class GasChain(ABC):
    """The few chain powers the benchmark needs, on anvil or on eth-tester."""

    name: str
    w3: Web3
    admin: str

    @abstractmethod
    def participants(self, count: int) -> list[str]:
        """`count` funded accounts that may send transactions."""

    @abstractmethod
    def account_with_key(self, key: PrivateKey) -> str:
        """A funded account that may send, whose address derives from `key`."""

    @abstractmethod
    def set_next_timestamp(self, timestamp: int) -> None:
        """Make `timestamp` the `block.timestamp` of the next transaction."""

    @abstractmethod
    def revert_data(self, exc: Exception) -> bytes | None:
        """Raw revert data carried by a failed `eth_call`, if any."""

    def close(self) -> None:
        """Release the chain."""

    @property
    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


class AnvilGasChain(GasChain):
    """anvil with auto-impersonation: participants are plain addresses given ETH by RPC."""

    def __init__(self) -> None:
        self._process = AnvilProcess(accounts=2, extra_args=["--auto-impersonate",
                                                            "--gas-limit", "100000000"])
        url = self._process.start()
        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 60}))
        self.name = f"anvil ({find_anvil().name} from @foundry-rs/anvil, hardfork prague)"
        self.admin = self.w3.eth.accounts[0]
        self._issued = 0

    def participants(self, count: int) -> list[str]:
        first, self._issued = self._issued, self._issued + count
        accounts: list[str] = [
            to_checksum_address(keccak(b"fedledger gas participant %d" % i)[-20:])
            for i in range(first, first + count)]
        for account in accounts:
            self.w3.provider.make_request("anvil_setBalance", [account, hex(10**20)])  # type: ignore[arg-type]
        return accounts

    def account_with_key(self, key: PrivateKey) -> str:
        account = key.public_key.to_checksum_address()
        self.w3.provider.make_request("anvil_setBalance", [account, hex(10**20)])  # type: ignore[arg-type]
        return account

    def set_next_timestamp(self, timestamp: int) -> None:
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]

    def revert_data(self, exc: Exception) -> bytes | None:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        return None

    def close(self) -> None:
        self._process.stop()


class TesterGasChain(GasChain):
    """In-process eth-tester: participants are extra unlocked keys funded by the coinbase."""

    def __init__(self, reason: str) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        self.name = f"eth-tester (py-evm, in process; {reason})"
        self.admin = self.w3.eth.accounts[0]
        self._next_key = 1000

    def participants(self, count: int) -> list[str]:
        accounts: list[str] = []
        for _ in range(count):
            self._next_key += 1
            accounts.append(to_checksum_address(
                self.tester.add_account("0x" + self._next_key.to_bytes(32, "big").hex())))
            self.w3.eth.send_transaction({"from": self.admin, "to": accounts[-1],
                                          "value": Wei(10**18), "gas": 21_000})
        return accounts

    def account_with_key(self, key: PrivateKey) -> str:
        account = to_checksum_address(self.tester.add_account(key.to_hex()))
        self.w3.eth.send_transaction({"from": self.admin, "to": account, "value": Wei(10**18),
                                      "gas": 21_000})
        return account

    def set_next_timestamp(self, timestamp: int) -> None:
        self.tester.time_travel(timestamp)

    def revert_data(self, exc: Exception) -> bytes | None:
        message = str(exc.args[0]) if exc.args else ""
        if message.startswith("execution reverted: "):
            value = ast.literal_eval(message[len("execution reverted: "):])
            return value if isinstance(value, bytes) else None
        return None


def open_gas_chain(backend: str) -> GasChain:
    """anvil when asked or when `auto` finds the binary; eth-tester otherwise."""
    if backend == "eth-tester":
        return TesterGasChain("chosen with --backend eth-tester")
    try:
        find_anvil()
    except ChainError as exc:
        if backend == "anvil":
            raise
        return TesterGasChain(f"fallback, smaller sizes: {exc}")
    return AnvilGasChain()


# -- measurements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GasRow:
    """One measured operation."""

    operation: str
    gas: int
    note: str = ""
    target: int | None = None

    @property
    def within_target(self) -> bool | None:
        return None if self.target is None else self.gas <= self.target


@dataclass
class GasReport:
    backend: str
    compiler: str
    sizes: list[int]
    rows: list[GasRow] = field(default_factory=list)
    finalize_by_participants: dict[int, int] = field(default_factory=dict)
    finalize_execution_by_participants: dict[int, int] = field(default_factory=dict)
    commit_range: tuple[int, int] = (0, 0)
    reveal_range: tuple[int, int] = (0, 0)
    wall_time_s: float = 0.0

    def add(self, operation: str, gas: int, note: str = "", target_key: str | None = None) -> None:
        self.rows.append(GasRow(operation, gas, note, TARGETS.get(target_key or operation)))


class Bench:
    """Sends the scenario's transactions and keeps the receipts' gas."""

    def __init__(self, chain: GasChain) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.admin: str = chain.admin
        self.aggregator = ""  # appointed by the scenario
        self.decoder = RevertDecoder()
        token_artifact = load_artifact("RewardToken")
        registry_artifact = load_artifact("TrainingRegistry")
        self.compiler = registry_artifact.compiler
        for artifact in (token_artifact, registry_artifact):
            self.decoder.register_abi(artifact.abi_list())
        self.token, self.token_deploy_gas = self._deploy(token_artifact.abi_list(),
                                                         token_artifact.bytecode, self.admin)
        params = (0, 10**9 * TOKEN // 10**3, CHALLENGE_WINDOW, 50 * TOKEN, AGGREGATOR_BOND,
                  MISSED_REVEAL_PENALTY, False)
        self.registry, self.registry_deploy_gas = self._deploy(
            registry_artifact.abi_list(), registry_artifact.bytecode, self.admin,
            self.token.address, params)

    def deploy_artifact(self, name: str, *args: Any) -> tuple[Contract, int]:
        """Deploy the committed artifact `name` from the admin; the contract and its gas."""
        artifact = load_artifact(name)
        self.decoder.register_abi(artifact.abi_list())
        return self._deploy(artifact.abi_list(), artifact.bytecode, *args)

    def _deploy(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> tuple[Contract, int]:
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            factory.constructor(*args).transact({"from": self.admin, "gas": GAS}))
        if receipt["status"] != 1:
            raise ChainError("contract deployment reverted")
        contract = cast(Contract, self.w3.eth.contract(address=receipt["contractAddress"], abi=abi))
        return contract, int(receipt["gasUsed"])

    def send(self, fn: ContractFunction, sender: str) -> TxReceipt:
        """Mine `fn` from `sender`; a revert stops the benchmark with the decoded error."""
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": GAS}))
        if receipt["status"] != 1:
            raise ChainError(f"{fn.fn_name} from {sender} reverted: {self._explain(fn, sender)}")
        return receipt

    def send_many(self, calls: Sequence[tuple[ContractFunction, str]], progress: Progress,
                  label: str) -> list[int]:
        """Send all `calls`, then collect their receipts; returns each one's gas."""
        task = progress.add_task(label, total=len(calls))
        hashes = []
        for fn, sender in calls:
            hashes.append((fn, sender, fn.transact({"from": sender, "gas": GAS})))
            progress.advance(task)
        gas = []
        for fn, sender, tx_hash in hashes:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
            if receipt["status"] != 1:
                raise ChainError(f"{fn.fn_name} from {sender} reverted: {self._explain(fn, sender)}")
            gas.append(int(receipt["gasUsed"]))
        progress.remove_task(task)
        return gas

    def _explain(self, fn: ContractFunction, sender: str) -> str:
        try:
            fn.call({"from": sender, "gas": GAS})
        except Exception as exc:  # noqa: BLE001 - any failure mode becomes part of the message
            data = self.chain.revert_data(exc)
            return str(self.decoder.decode(data)) if data is not None else repr(exc)
        return "the replayed call succeeds (state changed since)"


def intrinsic_gas(data: bytes) -> int:
    """21,000 plus calldata (4 per zero byte, 16 per other byte): what a call pays before running."""
    return 21_000 + sum(16 if byte else 4 for byte in data)


def _commitment(round_id: int, account: str, update_hash: bytes, proof_hash: bytes,
                salt: bytes) -> bytes:
    return keccak(abi_encode(["uint64", "address", "bytes32", "bytes32", "bytes32"],
                                 [round_id, account, update_hash, proof_hash, salt]))


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(transient=True) as progress:
        yield progress


def _run_round(bench: Bench, round_id: int, model_hash: bytes, members: Sequence[str],
               progress: Progress, silent: Sequence[str] = ()
               ) -> tuple[dict[str, int], list[int], list[int], StandardMerkleTree, bytes]:
    """Open, commit, reveal and finalize one round with `members` (and `silent` members who
    commit and never reveal); returns gas and the tree. A round opens only once the previous
    one's challenge window is over, so the clock first moves past it."""
    registry, chain = bench.registry, bench.chain
    functions = registry.functions
    now = chain.now + CHALLENGE_WINDOW + 1
    chain.set_next_timestamp(now)
    commit_deadline = now + 10 + 2 * len(members)
    reveal_deadline = commit_deadline + 10 + 2 * len(members)
    gas: dict[str, int] = {}
    gas["openRound"] = int(bench.send(functions.openRound(
        round_id, CID, model_hash, commit_deadline, reveal_deadline), bench.aggregator)["gasUsed"])
    update_hash = keccak(b"update %d" % round_id)
    proof_hash = keccak(b"proof %d" % round_id)
    salts = [keccak(b"salt %d %d" % (round_id, i)) for i in range(len(members))]
    commits = bench.send_many(
        [(functions.commit(round_id, _commitment(round_id, m, update_hash, proof_hash, s)), m)
         for m, s in zip(members, salts, strict=True)], progress, f"round {round_id}: commits")
    for m in silent:
        bench.send(functions.commit(round_id, keccak(b"never revealed")), m)
    chain.set_next_timestamp(commit_deadline + 1)
    reveals = bench.send_many(
        [(functions.reveal(round_id, CID, update_hash, CID, proof_hash, 600, s), m)
         for m, s in zip(members, salts, strict=True)], progress, f"round {round_id}: reveals")
    chain.set_next_timestamp(reveal_deadline + 1)
    tree = StandardMerkleTree.of([[m, round_id, (i + 1) * TOKEN] for i, m in enumerate(members)],
                                 LEAF_TYPES)
    new_model_hash = keccak(b"model %d" % (round_id + 1))
    total = sum((i + 1) * TOKEN for i in range(len(members)))
    receipt = bench.send(functions.finalizeRound(
        round_id, CID, new_model_hash, CID, keccak(b"report %d" % round_id), tree.root_bytes,
        total), bench.aggregator)
    gas["finalizeRound"] = int(receipt["gasUsed"])
    calldata = bytes(bench.w3.eth.get_transaction(receipt["transactionHash"])["input"])
    gas["finalizeRound execution"] = gas["finalizeRound"] - intrinsic_gas(calldata)
    gas["finalize calldata"] = len(calldata)
    return gas, commits, reveals, tree, new_model_hash


def _claim(bench: Bench, round_id: int, tree: StandardMerkleTree, index: int) -> tuple[int, int]:
    account, _, amount = tree.at(index) or ()
    proof = [bytes.fromhex(node[2:]) for node in tree.get_proof(index)]
    receipt = bench.send(bench.registry.functions.claim(round_id, account, amount, proof), account)
    return int(receipt["gasUsed"]), len(proof)


def run(sizes: Sequence[int], backend: str = "auto") -> GasReport:
    """Measure everything on one chain; see the module docstring for the scenario."""
    started = time.perf_counter()
    chain = open_gas_chain(backend)
    try:
        bench = Bench(chain)
        report = GasReport(backend=chain.name, compiler=bench.compiler, sizes=list(sizes))
        _measure(bench, report, sizes)
    finally:
        chain.close()
    report.wall_time_s = round(time.perf_counter() - started, 2)
    return report


def _measure(bench: Bench, report: GasReport, sizes: Sequence[int]) -> None:
    chain, admin = bench.chain, bench.admin
    functions, token = bench.registry.functions, bench.token.functions
    report.add("deploy RewardToken", bench.token_deploy_gas)
    report.add("deploy TrainingRegistry", bench.registry_deploy_gas)

    aggregator, staker, auditor = chain.participants(3)
    bench.aggregator = aggregator
    minter_role = token.MINTER_ROLE().call()
    bench.send(token.grantRole(minter_role, bench.registry.address), admin)
    bench.send(token.grantRole(minter_role, admin), admin)
    report.add("appointAggregator", int(bench.send(functions.appointAggregator(aggregator),
                                                   admin)["gasUsed"]))
    report.add("setTask", int(bench.send(functions.setTask(keccak(b"task"), CID), admin)["gasUsed"]),
               "stores the task CID (59 characters)")
    bench.send(functions.grantRole(functions.AUDITOR_ROLE().call(), auditor), admin)
    bench.send(token.mint(aggregator, 2 * AGGREGATOR_BOND), admin)
    bench.send(token.approve(bench.registry.address, 2 * AGGREGATOR_BOND), aggregator)
    report.add("postAggregatorBond", int(bench.send(functions.postAggregatorBond(AGGREGATOR_BOND),
                                                    aggregator)["gasUsed"]),
               "the aggregator deposits its 100 FLR bond")

    stake = 10 * TOKEN
    bench.send(token.mint(staker, stake + 100 * TOKEN), admin)
    bench.send(token.approve(bench.registry.address, stake), staker)
    report.add("register (with stake)", int(bench.send(functions.register(stake), staker)["gasUsed"]),
               "pulls the stake; pre-pays the participant's commitment slot and claims word")

    members = chain.participants(max(sizes))
    with _progress() as progress:
        register_gas = bench.send_many([(functions.register(0), m) for m in members], progress,
                                       "registering participants")
        report.add("register (no stake)", register_gas[0], "minStake 0")

        model_hash = keccak(b"model 0")
        trees: list[tuple[int, StandardMerkleTree]] = []
        commits_all: list[int] = []
        reveals_all: list[int] = []
        for round_id, size in enumerate(sizes):
            gas, commits, reveals, tree, model_hash = _run_round(
                bench, round_id, model_hash, members[:size], progress)
            if round_id == 0:
                report.add("openRound", gas["openRound"], "stores the model CID (59 characters)")
            report.finalize_by_participants[size] = gas["finalizeRound"]
            report.finalize_execution_by_participants[size] = gas["finalizeRound execution"]
            commits_all += commits
            reveals_all += reveals
            trees.append((round_id, tree))

    report.commit_range = (min(commits_all), max(commits_all))
    report.reveal_range = (min(reveals_all), max(reveals_all))
    report.add("commit", int(statistics.median(commits_all)),
               f"median of {len(commits_all)}; min {report.commit_range[0]:,}, "
               f"max {report.commit_range[1]:,}")
    report.add("reveal", int(statistics.median(reveals_all)),
               f"median of {len(reveals_all)}; two 59-character CIDs logged; "
               f"min {report.reveal_range[0]:,}, max {report.reveal_range[1]:,}")
    finalize = report.finalize_by_participants
    report.add("finalizeRound", max(finalize.values()),
               "after " + ", ".join(f"{n:,}: {g:,}" for n, g in finalize.items())
               + " revealed participants")

    # Claims after every challenge window: ERC-20 balances make the first tokens an account ever
    # receives dearer (its balance slot is created), so each case is measured separately.
    chain.set_next_timestamp(chain.now + CHALLENGE_WINDOW + 1)
    (first_round, first_tree), (last_round, last_tree) = trees[0], trees[-1]
    small, large = f"{sizes[0]:,} leaves", f"{sizes[-1]:,} leaves"
    claim_gas, depth = _claim(bench, first_round, first_tree, 0)
    report.add(f"claim (first tokens, {small})", claim_gas,
               f"proof of {depth} nodes; balance 0 -> non-zero", "claim")
    claim_gas, depth = _claim(bench, first_round, first_tree, 1)
    report.add("claim (second claimer, same round)", claim_gas,
               f"proof of {depth} nodes; also its first tokens", "claim")
    claim_gas, depth = _claim(bench, last_round, last_tree, 0)
    report.add(f"claim (holding tokens, {large})", claim_gas,
               f"proof of {depth} nodes; the account claimed before", "claim")
    claim_gas, depth = _claim(bench, last_round, last_tree, len(members) - 1)
    report.add(f"claim (first tokens, {large})", claim_gas,
               f"proof of {depth} nodes; the worst case", "claim")

    round_id = _measure_challenges(bench, report, auditor, staker, members[0], model_hash,
                                   len(sizes))
    _measure_reader_key(bench, report)
    _measure_governance(bench, report, staker)


def _measure_challenges(bench: Bench, report: GasReport, auditor: str, staker: str, lazy: str,
                        model_hash: bytes, round_id: int) -> int:
    """Two one-member rounds: one challenge rejected, one upheld and finalized again; `lazy`
    commits in the first without revealing and is slashed for it. Returns the next round."""
    functions, token = bench.registry.functions, bench.token.functions
    bond = 50 * TOKEN
    bench.send(token.mint(auditor, 2 * bond), bench.admin)
    bench.send(token.approve(bench.registry.address, 2 * bond), auditor)
    bench.send(token.mint(lazy, 5 * TOKEN), bench.admin)
    with _progress() as progress:
        for upheld in (False, True):
            silent = [] if upheld else [lazy]
            _, _, _, tree, new_model = _run_round(bench, round_id, model_hash, [staker],
                                                  progress, silent)
            if silent:
                slashed = bench.send(functions.slashUnrevealed(round_id, lazy), auditor)
                report.add("slashUnrevealed", int(slashed["gasUsed"]),
                           "anyone, after the reveal deadline; penalty to the treasury")
            receipt = bench.send(functions.challenge(round_id, CID), auditor)
            if not upheld:
                report.add("challenge", int(receipt["gasUsed"]),
                           "by an auditor; pulls the 50 FLR bond; freezes claims")
            resolved = bench.send(functions.resolveChallenge(round_id, upheld), bench.admin)
            report.add(f"resolveChallenge ({'upheld' if upheld else 'rejected'})",
                       int(resolved["gasUsed"]),
                       "bond back plus half the slashed aggregator bond; round reopened"
                       if upheld else "bond to treasury")
            if upheld:
                bench.send(functions.postAggregatorBond(AGGREGATOR_BOND), bench.aggregator)
                again = bench.send(functions.finalizeRound(
                    round_id, CID, model_hash, CID, keccak(b"corrected report"), tree.root_bytes,
                    TOKEN), bench.aggregator)
                report.add("finalizeRound (again, after an upheld challenge)",
                           int(again["gasUsed"]), "the result slots the upheld challenge cleared are written afresh")
                new_model = model_hash
            model_hash = new_model
            round_id += 1
    slash = bench.send(functions.slash(staker, TOKEN), bench.admin)
    report.add("slash", int(slash["gasUsed"]), "governance takes 1 FLR of a stake")
    return round_id


def _measure_reader_key(bench: Bench, report: GasReport) -> None:
    """An auditor whose address derives from a known key registers its public key."""
    key = PrivateKey(keccak(b"fedledger gas reader"))
    reader = bench.chain.account_with_key(key)
    functions = bench.registry.functions
    bench.send(functions.grantRole(functions.AUDITOR_ROLE().call(), reader), bench.admin)
    receipt = bench.send(functions.registerReaderKey(key.public_key.to_bytes()), reader)
    report.add("registerReaderKey", int(receipt["gasUsed"]),
               "64-byte secp256k1 key checked against the sender, stored and listed")


def _measure_governance(bench: Bench, report: GasReport, staker: str) -> None:
    """Deploy a one-member consortium, hand it the registry, pass one proposal (a slash)."""
    w3, admin, chain = bench.w3, bench.admin, bench.chain
    membership, gas = bench.deploy_artifact("ConsortiumMembership", admin)
    report.add("deploy ConsortiumMembership", gas)
    timelock, gas = bench.deploy_artifact("ConsortiumTimelock", TIMELOCK_DELAY, [],
                                          ["0x" + "00" * 20], admin)
    report.add("deploy ConsortiumTimelock", gas)
    governor, gas = bench.deploy_artifact("ConsortiumGovernor", membership.address,
                                          timelock.address, VOTING_DELAY, VOTING_PERIOD, 50)
    report.add("deploy ConsortiumGovernor", gas)
    bench.send(timelock.functions.grantRole(keccak(b"PROPOSER_ROLE"), governor.address), admin)
    report.add("addMember", int(bench.send(membership.functions.addMember(admin),
                                           admin)["gasUsed"]),
               "mints the soulbound vote and self-delegates it")
    bench.send(bench.registry.functions.grantRole(bytes(32), timelock.address), admin)

    calldata = bench.registry.encode_abi("slash", args=[staker, TOKEN])
    targets, values, calldatas = [bench.registry.address], [0], [calldata]
    description = "slash 1 FLR"
    start = chain.now + 1
    chain.set_next_timestamp(start)
    proposed = bench.send(governor.functions.propose(targets, values, calldatas, description), admin)
    report.add("propose", int(proposed["gasUsed"]), "one action (a slash)")
    proposal_id = governor.functions.hashProposal(targets, values, calldatas,
                                                  keccak(text=description)).call()
    chain.set_next_timestamp(start + VOTING_DELAY + 1)
    voted = bench.send(governor.functions.castVote(proposal_id, 1), admin)
    report.add("castVote", int(voted["gasUsed"]), "For, weight 1")
    chain.set_next_timestamp(start + VOTING_DELAY + VOTING_PERIOD + 1)
    queued = bench.send(governor.functions.queue(targets, values, calldatas,
                                                 keccak(text=description)), admin)
    report.add("queue", int(queued["gasUsed"]), "schedules the batch in the timelock")
    chain.set_next_timestamp(chain.now + TIMELOCK_DELAY + 1)
    executed = bench.send(governor.functions.execute(targets, values, calldatas,
                                                     keccak(text=description)), admin)
    report.add("execute", int(executed["gasUsed"]), "the timelock runs the slash")
    if w3.eth.get_transaction_receipt(executed["transactionHash"])["status"] != 1:
        raise ChainError("the proposal did not execute")


# -- output ----------------------------------------------------------------------------------------


def is_flat(report: GasReport) -> bool:
    """finalizeRound's execution gas (after the calldata it was sent) is the same for every size."""
    return len(set(report.finalize_execution_by_participants.values())) == 1


def per_participant_round(report: GasReport) -> int:
    """What one participant pays per round: commit + reveal + a claim from a large tree."""
    rows = {r.operation: r.gas for r in report.rows}
    holding = next(r.gas for r in report.rows if r.operation.startswith("claim (holding tokens"))
    return rows["commit"] + rows["reveal"] + holding


def to_json(report: GasReport) -> dict[str, Any]:
    data = asdict(report)
    data["rows"] = [{**asdict(r), "within_target": r.within_target} for r in report.rows]
    data["finalize_by_participants"] = {str(k): v for k, v in report.finalize_by_participants.items()}
    data["finalize_execution_by_participants"] = {
        str(k): v for k, v in report.finalize_execution_by_participants.items()}
    data["finalize_is_flat"] = is_flat(report)
    data["per_participant_round"] = per_participant_round(report)
    data["targets"] = TARGETS
    data["anchors"] = ANCHORS
    data["python"] = platform.python_version()
    return data


def to_markdown(report: GasReport) -> str:
    lines = [
        "# Gas of the fedledger contracts",
        "",
        (f"Chain: {report.backend}. Compiler: solc {report.compiler}, optimizer 200 runs, "
         f"evmVersion prague. Round sizes: {', '.join(f'{s:,}' for s in report.sizes)} "
         f"participants. Every number is a receipt's `gasUsed` (21,000 base included)."),
        "",
        "| operation | gas | target | note |",
        "|---|---:|---:|---|",
    ]
    for row in report.rows:
        target = "" if row.target is None else (
            f"{row.target:,} {'ok' if row.within_target else '**over**'}")
        lines.append(f"| {row.operation} | {row.gas:,} | {target} | {row.note} |")
    flat = is_flat(report)
    per_round = per_participant_round(report)
    participant_ops = [r for r in report.rows
                       if r.operation in ("commit", "reveal") or r.operation.startswith("claim")]
    largest = max(participant_ops, key=lambda r: r.gas)
    audit, blockflow = ANCHORS.values()
    lines += [
        "",
        "## finalizeRound against participants",
        "",
        "| revealed participants | gasUsed | execution (gasUsed - 21,000 - calldata) |",
        "|---:|---:|---:|",
        *(f"| {n:,} | {g:,} | {report.finalize_execution_by_participants[n]:,} |"
          for n, g in report.finalize_by_participants.items()),
        "",
        ("Flat: the execution gas is identical whatever the participant count (rewards are one "
         "Merkle root; nothing is looped over). gasUsed differs only by calldata bytes: a round "
         "number or total with more non-zero bytes costs 12 gas per byte more." if flat else
         "**Not flat**: finalizeRound execution gas changed with the participant count."),
        "",
        "## Per participant and round, against published designs",
        "",
        "| design | gas per participant per round |",
        "|---|---:|",
        f"| fedledger: commit + reveal + claim | {per_round:,} |",
        *(f"| {name} | {gas:,} |" for name, gas in ANCHORS.items()),
        "",
        ("A participant's round is three transactions (commit-reveal stops copying; the claim "
         "pays the reward); the aggregator's one finalizeRound is shared by all of them. "
         f"The costliest participant transaction ({largest.operation}, {largest.gas:,}) is "
         f"{largest.gas / audit:.0%} of the audit design's 82k per transaction; a whole "
         f"participant-round is {per_round / blockflow:.0%} of BlockFLow's."),
        "",
        f"Wall time of this run: {report.wall_time_s:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (2 and 4 participants)")
    parser.add_argument("--backend", choices=["auto", "anvil", "eth-tester"], default="auto")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        help="comma-separated participant counts, one round each")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    fast = args.backend != "eth-tester" and _anvil_available()
    sizes = args.sizes or ([2, 4] if args.smoke else [10, 100, 1000] if fast else [10, 100])
    if any(s < 2 for s in sizes):
        parser.error("every size must be at least 2 (the claims need two leaves)")
    report = run(sizes, args.backend)
    stem = "gas.smoke" if args.smoke else "gas"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"{stem}.json").write_text(json.dumps(to_json(report), indent=2) + "\n",
                                               encoding="utf-8")
    (args.out_dir / f"{stem}.md").write_text(to_markdown(report), encoding="utf-8")
    print(to_markdown(report))
    return 0


def _anvil_available() -> bool:
    try:
        find_anvil()
    except ChainError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
