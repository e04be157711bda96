"""The reference scenario of the contract tests: plain web3 on an in-process eth-tester chain.

The contracts are deployed once per session from the committed artifacts. Tests then start from a
named *stage* of one reference scenario (members registered, round 0 open, commits made, reveals
made, round finalized, claims open), each built once and kept as a chain snapshot, so a test
costs a snapshot revert plus its own transactions (eth-tester mines about ten a second).

Time is deterministic: the base stage is moved a day past the wall clock, and eth-tester mines
each transaction one second after the previous block, so `chain.next_timestamp` is exactly the
`block.timestamp` the next transaction (or a `pending` call) sees.

Reverts are checked with an `eth_call` against the pending block, decoded to the exact custom
error name and arguments from the ABIs of both contracts (a token error can surface through the
registry).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from ledger.contracts import load_artifact

GAS = 5_000_000
TOKEN = 10**18  # one FLR in base units

MIN_STAKE = 5 * TOKEN
REWARD_CAP = 1_000 * TOKEN
CHALLENGE_WINDOW = 600
CHALLENGE_BOND = 50 * TOKEN
AGGREGATOR_BOND = 100 * TOKEN
MISSED_REVEAL_PENALTY = 2 * TOKEN
#: Params struct, ABI order: minStake, rewardPerRound, challengeWindow, challengeBond,
#: aggregatorBond, missedRevealPenalty, admissionRequired.
PARAMS = (MIN_STAKE, REWARD_CAP, CHALLENGE_WINDOW, CHALLENGE_BOND, AGGREGATOR_BOND,
          MISSED_REVEAL_PENALTY, False)

TASK_HASH = keccak(b"task spec v1")
TASK_CID = "bafkreidtaskspecv1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
MODEL0_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
MODEL0_HASH = keccak(b"model round 0")
MODEL1_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
MODEL1_HASH = keccak(b"model round 1")
REPORT_CID = "bafkreireportround0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
REPORT_HASH = keccak(b"report round 0")
EVIDENCE_CID = "bafkreievidencexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

#: Stage timing, relative to the base stage's timestamp T0.
COMMIT_AFTER = 1_000
REVEAL_AFTER = 2_000
#: How far past the wall clock the base stage is moved (more than any test session lasts).
CLOCK_LEAD = 86_400

ROUND_STATUS = {"None": 0, "Open": 1, "Finalized": 2, "Challenged": 3}


@dataclass(frozen=True)
class Submission:
    """One participant's update as committed and revealed in round 0 of the scenario."""

    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int
    salt: bytes


def commitment(round_id: int, account: str, update_hash: bytes, proof_hash: bytes,
               salt: bytes) -> bytes:
    """keccak256(abi.encode(round, participant, updateHash, proofHash, salt)), as the registry."""
    return keccak(abi_encode(["uint64", "address", "bytes32", "bytes32", "bytes32"],
                                 [round_id, account, update_hash, proof_hash, salt]))


def reward_leaf(account: str, round_id: int, amount: int) -> bytes:
    """StandardMerkleTree leaf of (address, uint64, uint256): double keccak of abi.encode."""
    return keccak(keccak(abi_encode(["address", "uint64", "uint256"],
                                        [account, round_id, amount])))


def pair_root(a: bytes, b: bytes) -> bytes:
    """Root of a two-leaf tree: keccak of the sorted pair (OpenZeppelin's commutative hash)."""
    return keccak(min(a, b) + max(a, b))


def submission_of(name: str) -> Submission:
    """Deterministic distinct submission per participant name."""
    return Submission(
        update_cid=f"bafkreiupdate{name}" + "x" * (47 - len(name)),
        update_hash=keccak(f"update of {name}".encode()),
        proof_cid=f"bafkreiproof{name}" + "x" * (48 - len(name)),
        proof_hash=keccak(f"proof of {name}".encode()),
        num_samples=100 + len(name),
        salt=keccak(f"salt of {name}".encode()),
    )


class ErrorDecoder:
    """Maps 4-byte custom-error selectors of the given ABIs to (name, decoded args)."""

    def __init__(self, *abis: Sequence[Mapping[str, Any]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for entry in abi:
                if entry["type"] == "error":
                    entry = cast(Any, entry)
                    self._errors[function_abi_to_4byte_selector(entry)] = (
                        entry["name"], list(get_abi_input_types(entry)))

    def decode(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        if len(data) < 4 or data[:4] not in self._errors:
            raise AssertionError(f"revert data 0x{data.hex()} is not a known custom error")
        name, types = self._errors[data[:4]]
        values = abi_decode(types, data[4:])
        return name, tuple(
            to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True)
        )


def revert_bytes(exc: TransactionFailed) -> bytes:
    """The raw revert data eth-tester carries in its exception message.

    web3's eth-tester provider raises eth-tester's `TransactionFailed("execution reverted: b'...'")`,
    where the tail is the Python repr of the revert bytes; anything else is not a revert.
    """
    message = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if message.startswith(prefix):
        value = ast.literal_eval(message[len(prefix):])
        if isinstance(value, bytes):
            return value
    raise AssertionError(f"not a revert with data: {message!r}")


@dataclass(frozen=True)
class Actors:
    admin: str
    aggregator: str
    auditor: str
    alice: str
    bob: str
    carol: str
    dave: str
    outsider: str


class Chain:
    """The deployed contracts plus the handful of helpers every contract test needs."""

    def __init__(self) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        a: list[str] = list(self.w3.eth.accounts)
        self.actors = Actors(admin=a[0], aggregator=a[1], auditor=a[2], alice=a[3], bob=a[4],
                             carol=a[5], dave=a[6], outsider=a[7])
        token_artifact = load_artifact("RewardToken")
        registry_artifact = load_artifact("TrainingRegistry")
        self.errors = ErrorDecoder(token_artifact.abi_list(), registry_artifact.abi_list())
        self.token = self.deploy_code(token_artifact.abi_list(), token_artifact.bytecode,
                                      self.actors.admin)
        self.registry = self.deploy_code(registry_artifact.abi_list(), registry_artifact.bytecode,
                                         self.actors.admin, self.token.address, PARAMS)
        self.minter_role = self.token.functions.MINTER_ROLE().call()
        self.aggregator_role = self.registry.functions.AGGREGATOR_ROLE().call()
        self.auditor_role = self.registry.functions.AUDITOR_ROLE().call()
        self._snapshots: dict[str, int] = {}
        self.t0 = 0
        self.tree_amounts = {self.actors.alice: 10 * TOKEN, self.actors.bob: 20 * TOKEN}

    # -- transactions ---------------------------------------------------------------------------

    def deploy_code(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> Contract:
        """Deploy `bytecode` with constructor `args` from the admin; the contract at its address."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        tx_hash = factory.constructor(*args).transact({"from": self.actors.admin, "gas": GAS})
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return cast(Contract, self.w3.eth.contract(address=receipt["contractAddress"], abi=abi))

    def deploy(self, name: str, *args: Any) -> tuple[Contract, TxReceipt]:
        """Deploy another instance of artifact `name`; returns the contract and its receipt."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi_list(), bytecode=artifact.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": self.actors.admin, "gas": GAS})
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        contract = self.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi_list())
        return cast(Contract, contract), receipt

    def deploy_revert_of(self, name: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
        """The custom error deploying artifact `name` with `args` reverts with."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi_list(), bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        try:
            self.w3.eth.call({"from": self.actors.admin, "data": data, "gas": GAS}, "pending")
        except TransactionFailed as exc:
            return self.errors.decode(revert_bytes(exc))
        raise AssertionError(f"deploying {name}{args} did not revert")

    def send(self, fn: ContractFunction, sender: str) -> TxReceipt:
        """Mine `fn` from `sender`; fail the test with the decoded error if it reverts."""
        receipt = self.w3.eth.get_transaction_receipt(fn.transact({"from": sender, "gas": GAS}))
        if receipt["status"] != 1:
            name, args = self.revert_of(fn, sender)  # replayed one block later: for the message
            raise AssertionError(f"{fn.fn_name} from {sender} reverted with {name}{args}")
        return receipt

    def revert_of(self, fn: ContractFunction, sender: str) -> tuple[str, tuple[Any, ...]]:
        """The custom error `fn` from `sender` reverts with in the next block, as (name, args)."""
        try:
            fn.call({"from": sender, "gas": GAS}, block_identifier="pending")
        except TransactionFailed as exc:
            return self.errors.decode(revert_bytes(exc))
        raise AssertionError(f"{fn.fn_name} from {sender} did not revert")

    def events(self, receipt: TxReceipt, name: str, contract: Contract | None = None
               ) -> list[dict[str, Any]]:
        """Decoded arguments of every `name` event of `contract` (registry by default) in `receipt`."""
        source = contract if contract is not None else self.registry
        return [dict(e["args"]) for e in
                source.events[name]().process_receipt(receipt, errors=DISCARD)]

    def event_names(self, receipt: TxReceipt) -> list[str]:
        """Names of all registry and token events in `receipt`, in log order."""
        topics: dict[bytes, str] = {}
        for contract in (self.registry, self.token):
            for entry in contract.abi:
                if entry["type"] == "event":
                    signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
                    topics[keccak(text=signature)] = entry["name"]
        return [topics[bytes(log["topics"][0])] for log in receipt["logs"]]

    # -- time -----------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    @property
    def next_timestamp(self) -> int:
        """The `block.timestamp` of the next mined transaction (or pending call)."""
        return self.now + 1

    def travel_to_next(self, timestamp: int) -> None:
        """Make `timestamp` the `block.timestamp` of the next transaction.

        eth-tester's `time_travel(t)` mines an empty block at `t - 1`, so the next block is at `t`.
        """
        self.tester.time_travel(timestamp)

    # -- stages ---------------------------------------------------------------------------------

    def at(self, stage: str) -> Chain:
        """Put the chain in `stage` (see STAGES), building and snapshotting it the first time."""
        if stage in self._snapshots:
            self.tester.revert_to_snapshot(self._snapshots[stage])
            return self
        parent, build = STAGES[stage]
        if parent is not None:
            self.at(parent)
        build(self)
        self._snapshots[stage] = self.tester.take_snapshot()
        return self

    @property
    def commit_deadline(self) -> int:
        return self.t0 + COMMIT_AFTER

    @property
    def reveal_deadline(self) -> int:
        return self.t0 + REVEAL_AFTER

    def register(self, account: str, stake: int = MIN_STAKE) -> TxReceipt:
        """Fund `account` with `stake`, approve it and register."""
        self.send(self.token.functions.mint(account, stake), self.actors.admin)
        self.send(self.token.functions.approve(self.registry.address, stake), account)
        return self.send(self.registry.functions.register(stake), account)

    def commit_fn(self, account: str, round_id: int = 0) -> ContractFunction:
        s = submission_of(account)
        return self.registry.functions.commit(
            round_id, commitment(round_id, account, s.update_hash, s.proof_hash, s.salt))

    def reveal_fn(self, account: str, round_id: int = 0, **override: Any) -> ContractFunction:
        s = submission_of(account)
        values = {
            "update_cid": s.update_cid, "update_hash": s.update_hash, "proof_cid": s.proof_cid,
            "proof_hash": s.proof_hash, "num_samples": s.num_samples, "salt": s.salt, **override,
        }
        return self.registry.functions.reveal(
            round_id, values["update_cid"], values["update_hash"], values["proof_cid"],
            values["proof_hash"], values["num_samples"], values["salt"])

    @property
    def rewards_root(self) -> bytes:
        (a, amount_a), (b, amount_b) = self.tree_amounts.items()
        return pair_root(reward_leaf(a, 0, amount_a), reward_leaf(b, 0, amount_b))

    def proof_for(self, account: str) -> list[bytes]:
        """The one-sibling proof of `account`'s leaf in the two-leaf round-0 tree."""
        (other,) = [a for a in self.tree_amounts if a != account]
        return [reward_leaf(other, 0, self.tree_amounts[other])]

    def finalize_fn(self, round_id: int = 0, total: int = 30 * TOKEN,
                    root: bytes | None = None) -> ContractFunction:
        return self.registry.functions.finalizeRound(
            round_id, MODEL1_CID, MODEL1_HASH, REPORT_CID, REPORT_HASH,
            self.rewards_root if root is None else root, total)

    def claimable_at(self, round_id: int = 0) -> int:
        return int(self.registry.functions.round(round_id).call()[13])

    def round_info(self, round_id: int = 0) -> dict[str, Any]:
        """`round(roundId)` as a dict keyed by the RoundInfo field names."""
        fields = [c["name"] for c in self.registry.get_function_by_name("round").abi["outputs"][0]
                  ["components"]]
        return dict(zip(fields, self.registry.functions.round(round_id).call(), strict=True))


def _build_base(chain: Chain) -> None:
    """Configured network, no members: minter, aggregator (bonded), auditor and task in place."""
    actors = chain.actors
    chain.send(chain.token.functions.grantRole(chain.minter_role, chain.registry.address), actors.admin)
    chain.send(chain.token.functions.grantRole(chain.minter_role, actors.admin), actors.admin)
    chain.send(chain.registry.functions.appointAggregator(actors.aggregator), actors.admin)
    chain.send(chain.registry.functions.grantRole(chain.auditor_role, actors.auditor), actors.admin)
    chain.send(chain.registry.functions.setTask(TASK_HASH, TASK_CID), actors.admin)
    chain.send(chain.token.functions.mint(actors.aggregator, AGGREGATOR_BOND), actors.admin)
    chain.send(chain.token.functions.approve(chain.registry.address, AGGREGATOR_BOND), actors.aggregator)
    chain.send(chain.registry.functions.postAggregatorBond(AGGREGATOR_BOND), actors.aggregator)
    chain.t0 = chain.now + CLOCK_LEAD
    chain.travel_to_next(chain.t0)


def _build_members(chain: Chain) -> None:
    """alice, bob and carol registered with the minimum stake; dave funded but not registered."""
    for account in (chain.actors.alice, chain.actors.bob, chain.actors.carol):
        chain.register(account)
    chain.send(chain.token.functions.mint(chain.actors.dave, 100 * TOKEN), chain.actors.admin)


def _build_open(chain: Chain) -> None:
    """Round 0 open from MODEL0."""
    chain.send(chain.registry.functions.openRound(0, MODEL0_CID, MODEL0_HASH, chain.commit_deadline,
                                                  chain.reveal_deadline), chain.actors.aggregator)


def _build_committed(chain: Chain) -> None:
    """alice and bob committed (carol did not)."""
    for account in (chain.actors.alice, chain.actors.bob):
        chain.send(chain.commit_fn(account), account)


def _build_revealed(chain: Chain) -> None:
    """Past the commit deadline; alice and bob revealed."""
    chain.travel_to_next(chain.commit_deadline + 1)
    for account in (chain.actors.alice, chain.actors.bob):
        chain.send(chain.reveal_fn(account), account)


def _build_finalized(chain: Chain) -> None:
    """Past the reveal deadline; round 0 finalized with alice 10 FLR, bob 20 FLR."""
    chain.travel_to_next(chain.reveal_deadline + 1)
    chain.send(chain.finalize_fn(), chain.actors.aggregator)


def _build_claimable(chain: Chain) -> None:
    """Challenge window over: claims open."""
    chain.travel_to_next(chain.claimable_at())


STAGES: dict[str, tuple[str | None, Callable[[Chain], None]]] = {
    "base": (None, _build_base),
    "members": ("base", _build_members),
    "open": ("members", _build_open),
    "committed": ("open", _build_committed),
    "revealed": ("committed", _build_revealed),
    "finalized": ("revealed", _build_finalized),
    "claimable": ("finalized", _build_claimable),
}
