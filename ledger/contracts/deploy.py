"""Deploying a fedledger network (token + registry + governance) and letting others attach to it.

`deploy_network` deploys RewardToken and TrainingRegistry, grants the registry MINTER_ROLE (it
mints rewards on claim) and returns typed bindings. `deploy_governance` deploys the consortium
(membership token, timelock, governor) and `hand_over` gives the timelock every admin role of
the token and registry while the deployer renounces its own: from then on only an executed
proposal changes the network. What another process needs to find the same network (chain id,
the addresses, the block to start reading events from) is a small `NetworkInfo` JSON file;
`attach_network` reopens it and checks it really describes the chain it is connected to, so a
node never commits to the wrong registry.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from web3.types import TxReceipt

from ledger.chain.base import ChainBackend, TxRequest, TxSigner
from ledger.contracts.artifacts import load_artifact
from ledger.contracts.governance import (
    CANCELLER_ROLE,
    GOVERNOR_ARTIFACT,
    MEMBERSHIP_ARTIFACT,
    PROPOSER_ROLE,
    TIMELOCK_ADMIN_ROLE,
    TIMELOCK_ARTIFACT,
    ConsortiumGovernor,
    ConsortiumMembership,
    ConsortiumTimelock,
    Governance,
    GovernanceParams,
)
from ledger.contracts.registry import ARTIFACT_NAME as REGISTRY_ARTIFACT
from ledger.contracts.registry import (
    AUDITOR_ROLE,
    DEFAULT_ADMIN_ROLE,
    RegistryParams,
    TrainingRegistry,
)
from ledger.contracts.token import ARTIFACT_NAME as TOKEN_ARTIFACT
from ledger.contracts.token import MINTER_ROLE, RewardToken
from ledger.errors import ConfigError

NETWORK_FORMAT = "fedledger-network/1"


class NetworkInfoError(ConfigError):
    """A network file is missing, unreadable, or does not describe the connected chain."""


@dataclass(frozen=True)
class NetworkInfo:
    """Where a fedledger network lives: enough for any process to attach to it."""

    chain_id: int
    token: ChecksumAddress
    registry: ChecksumAddress
    deployment_block: int
    governor: ChecksumAddress | None = None

    def __post_init__(self) -> None:
        for key in ("token", "registry"):
            object.__setattr__(self, key, _address(getattr(self, key), key, "<NetworkInfo>"))
        if self.governor is not None:
            object.__setattr__(self, "governor", _address(self.governor, "governor", "<NetworkInfo>"))
        _positive_int(self.chain_id, "chainId", "<NetworkInfo>", allow_zero=False)
        _positive_int(self.deployment_block, "deploymentBlock", "<NetworkInfo>")

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, trailing newline)."""
        document = {
            "format": NETWORK_FORMAT,
            "chainId": self.chain_id,
            "token": self.token,
            "registry": self.registry,
            "deploymentBlock": self.deployment_block,
        }
        if self.governor is not None:
            document["governor"] = self.governor
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, origin: str = "<text>") -> NetworkInfo:
        """Parse and check a network file's text; every problem is a `NetworkInfoError`."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NetworkInfoError(f"network file {origin} is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise NetworkInfoError(f"network file {origin} must hold a JSON object")
        if document.get("format") != NETWORK_FORMAT:
            raise NetworkInfoError(
                f"network file {origin} has format {document.get('format')!r}, "
                f"expected {NETWORK_FORMAT!r}"
            )
        missing = [
            k for k in ("chainId", "token", "registry", "deploymentBlock") if k not in document
        ]
        if missing:
            raise NetworkInfoError(f"network file {origin} lacks {', '.join(missing)}")
        return cls(
            chain_id=_positive_int(document["chainId"], "chainId", origin, allow_zero=False),
            token=_address(document["token"], "token", origin),
            registry=_address(document["registry"], "registry", origin),
            deployment_block=_positive_int(document["deploymentBlock"], "deploymentBlock", origin),
            governor=(
                _address(document["governor"], "governor", origin)
                if "governor" in document
                else None
            ),
        )

    def save(self, path: Path) -> None:
        """Write the file atomically (readers never see half of it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> NetworkInfo:
        """Read a network file written by `save`."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise NetworkInfoError(
                f"no network file at {path}: deploy one first (deploy_network, then save)"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise NetworkInfoError(f"cannot read network file {path}: {exc}") from exc
        return cls.from_json(text, origin=str(path))


def _positive_int(value: Any, key: str, origin: str, *, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise NetworkInfoError(f"network file {origin}: {key} must be a non-negative integer")
    return value


def _address(value: Any, key: str, origin: str) -> ChecksumAddress:
    if not isinstance(value, str) or not is_address(value):
        raise NetworkInfoError(f"network file {origin}: {key} must be a 20-byte hex address")
    return to_checksum_address(value)


@dataclass(frozen=True)
class Network:
    """Typed bindings of one deployed fedledger network and where it lives."""

    token: RewardToken
    registry: TrainingRegistry
    info: NetworkInfo
    governance: Governance | None = None

    @property
    def backend(self) -> ChainBackend:
        """The chain both contracts live on."""
        return self.registry.backend

    def decode_receipt_events(self, receipt: TxReceipt) -> list[Any]:
        """Typed records of every token and registry event in `receipt`, in log order."""
        records = self.token.decode_receipt_events(receipt) + self.registry.decode_receipt_events(
            receipt
        )
        return sorted(records, key=lambda record: record.log_index)


def deploy_network(backend: ChainBackend, admin: TxSigner, params: RegistryParams) -> Network:
    """Deploy RewardToken and TrainingRegistry with `admin` as governance; registry may mint."""
    token_artifact = load_artifact(TOKEN_ARTIFACT)
    registry_artifact = load_artifact(REGISTRY_ARTIFACT)
    first_block = backend.block_number() + 1
    token_contract = backend.deploy(token_artifact, admin.address, sender=admin)
    registry_contract = backend.deploy(
        registry_artifact, admin.address, token_contract.address, params.as_abi(), sender=admin
    )
    token = RewardToken(
        backend, token_contract.address, deployment_block=first_block, artifact=token_artifact
    )
    registry = TrainingRegistry(
        backend, registry_contract.address, deployment_block=first_block, artifact=registry_artifact
    )
    token.grant_role(MINTER_ROLE, registry.address, sender=admin)
    info = NetworkInfo(backend.chain_id, token.address, registry.address, first_block)
    return Network(token, registry, info)


def attach_network(backend: ChainBackend, info: NetworkInfo) -> Network:
    """Bindings for the network `info` describes, after checking it is on this chain."""
    if backend.chain_id != info.chain_id:
        raise NetworkInfoError(
            f"the network file is for chain id {info.chain_id} but the connected chain is "
            f"{backend.chain_id}: point --chain at the right node or use the right file"
        )
    for label, address in (("token", info.token), ("registry", info.registry)):
        if not backend.w3.eth.get_code(address):
            raise NetworkInfoError(
                f"no contract code at the {label} address {address} on chain {info.chain_id}: "
                "the chain was reset or the file is stale"
            )
    token = RewardToken(backend, info.token, deployment_block=info.deployment_block)
    registry = TrainingRegistry(backend, info.registry, deployment_block=info.deployment_block)
    actual_token = registry.token_address()
    if actual_token != info.token:
        raise NetworkInfoError(
            f"registry {info.registry} pays in token {actual_token}, not the file's {info.token}"
        )
    governance = None
    if info.governor is not None:
        if not backend.w3.eth.get_code(info.governor):
            raise NetworkInfoError(
                f"no contract code at the governor address {info.governor} on chain "
                f"{info.chain_id}: the chain was reset or the file is stale"
            )
        governance = Governance.attach(backend, info.governor,
                                       deployment_block=info.deployment_block)
    return Network(token, registry, info, governance)


def deploy_governance(
    backend: ChainBackend,
    deployer: TxSigner,
    members: Sequence[str],
    params: GovernanceParams,
) -> Governance:
    """Deploy membership, timelock and governor; `members` get a vote each.

    The governor is the timelock's only proposer and canceller; anyone may execute a queued
    operation once its delay has passed. Membership ownership moves to the timelock and the
    deployer renounces the timelock's admin role, so the deployer keeps no power here.
    """
    if not members:
        raise ConfigError("a consortium needs at least one member")
    first_block = backend.block_number() + 1
    membership_artifact = load_artifact(MEMBERSHIP_ARTIFACT)
    timelock_artifact = load_artifact(TIMELOCK_ARTIFACT)
    governor_artifact = load_artifact(GOVERNOR_ARTIFACT)
    zero = "0x" + "00" * 20
    membership_contract = backend.deploy(membership_artifact, deployer.address, sender=deployer)
    timelock_contract = backend.deploy(
        timelock_artifact, params.timelock_delay, [], [zero], deployer.address, sender=deployer
    )
    governor_contract = backend.deploy(
        governor_artifact,
        membership_contract.address,
        timelock_contract.address,
        params.voting_delay,
        params.voting_period,
        params.quorum_percent,
        sender=deployer,
    )
    membership = ConsortiumMembership(backend, membership_contract.address,
                                      deployment_block=first_block, artifact=membership_artifact)
    timelock = ConsortiumTimelock(backend, timelock_contract.address,
                                  deployment_block=first_block, artifact=timelock_artifact)
    governor = ConsortiumGovernor(backend, governor_contract.address,
                                  deployment_block=first_block, artifact=governor_artifact)
    timelock.grant_role(PROPOSER_ROLE, governor.address, sender=deployer)
    timelock.grant_role(CANCELLER_ROLE, governor.address, sender=deployer)
    for member in members:
        membership.add_member(member, sender=deployer)
    membership.transfer_ownership(timelock.address, sender=deployer)
    timelock.renounce_role(TIMELOCK_ADMIN_ROLE, sender=deployer)
    return Governance(governor, timelock, membership)


def hand_over(network: Network, governance: Governance, deployer: TxSigner) -> Network:
    """Give the timelock DEFAULT_ADMIN_ROLE on the token and registry; the deployer renounces it.

    Returns the network with its governance attached and the governor in its `NetworkInfo`.
    """
    timelock = governance.timelock.address
    for binding in (network.registry, network.token):
        binding.grant_role(DEFAULT_ADMIN_ROLE, timelock, sender=deployer)
        binding.renounce_role(DEFAULT_ADMIN_ROLE, sender=deployer)
    info = NetworkInfo(network.info.chain_id, network.info.token, network.info.registry,
                       network.info.deployment_block, governance.governor.address)
    return Network(network.token, network.registry, info, governance)


def enroll_participants(
    network: Network,
    admin: TxSigner,
    participants: Sequence[TxSigner],
    stake: int,
    *,
    spare_tokens: int = 0,
) -> list[TxReceipt]:
    """Dev and test networks: mint each participant `stake + spare_tokens`, stake and register.

    `admin` grants itself MINTER_ROLE for the duration and revokes it afterwards, so the
    registry remains the only minter. Sent in bulk (one batch per step); any failure raises.
    """
    token, registry = network.token, network.registry
    minted = stake + spare_tokens
    steps: list[list[TxRequest]] = []
    if minted > 0:
        steps.append(
            [TxRequest(token.function("mint", p.address, minted), admin) for p in participants]
        )
    if stake > 0:
        steps.append(
            [TxRequest(token.function("approve", registry.address, stake), p) for p in participants]
        )
    steps.append([TxRequest(registry.function("register", stake), p) for p in participants])
    receipts: list[TxReceipt] = []
    if minted > 0:
        receipts.append(token.grant_role(MINTER_ROLE, admin.address, sender=admin))
    for step in steps:
        for outcome in network.backend.transact_many(step):
            if outcome.error is not None:
                raise outcome.error
            assert outcome.receipt is not None
            receipts.append(outcome.receipt)
    if minted > 0:
        receipts.append(token.revoke_role(MINTER_ROLE, admin.address, sender=admin))
    return receipts


@dataclass(frozen=True)
class DevNetwork:
    """A deployed network with its cast: who governs, aggregates, audits and participates.

    For demos, simulations and tests on chains the project runs (dev accounts are funded).
    `admin` deployed everything and now holds no role; it is the consortium's first member, and
    `consortium` lists every member. Admin operations go through proposals
    (ledger.contracts.devgov.enact fast-forwards one on a dev chain). `outsider` is funded with
    gas money but holds no role, is not registered and is not a member.
    """

    network: Network
    admin: TxSigner
    aggregator: TxSigner
    auditor: TxSigner
    outsider: TxSigner
    participants: tuple[TxSigner, ...]
    params: RegistryParams
    stake: int
    consortium: tuple[TxSigner, ...] = ()
    governance_params: GovernanceParams = field(default_factory=GovernanceParams.dev)

    @property
    def governance(self) -> Governance:
        """The consortium's governor, timelock and membership."""
        if self.network.governance is None:
            raise ConfigError("this dev network was deployed without governance")
        return self.network.governance

    @property
    def registry(self) -> TrainingRegistry:
        return self.network.registry

    @property
    def token(self) -> RewardToken:
        return self.network.token

    @property
    def backend(self) -> ChainBackend:
        return self.network.backend


def bootstrap_dev_network(
    backend: ChainBackend,
    accounts: Sequence[TxSigner],
    params: RegistryParams,
    *,
    participants: int,
    spare_tokens: int = 0,
    consortium: Sequence[TxSigner] = (),
    governance_params: GovernanceParams | None = None,
    aggregator_bond: int | None = None,
) -> DevNetwork:
    """Deploy, appoint the aggregator, grant the auditor role, enroll `participants` members,
    then hand every admin role to the consortium's timelock.

    Roles come from `accounts` in order: admin, aggregator, auditor, outsider, then the
    participants. Each participant (and the auditor) also gets `spare_tokens` for bonds. The
    aggregator posts `aggregator_bond` (default `params.aggregator_bond`) as its bond. The
    consortium is `admin` plus `consortium` (extra voting members), governed by
    `governance_params` (default `GovernanceParams.dev()`).
    """
    needed = 4 + participants
    if len(accounts) < needed:
        raise ConfigError(
            f"a dev network with {participants} participants needs {needed} funded accounts, "
            f"got {len(accounts)}"
        )
    admin, aggregator, auditor, outsider = accounts[:4]
    members = tuple(accounts[4:needed])
    network = deploy_network(backend, admin, params)
    network.registry.appoint_aggregator(aggregator.address, sender=admin)
    network.registry.grant_role(AUDITOR_ROLE, auditor.address, sender=admin)
    if params.admission_required:
        for member in members:
            network.registry.admit_participant(member.address, sender=admin)
    enroll_participants(network, admin, members, params.min_stake, spare_tokens=spare_tokens)
    bond = params.aggregator_bond if aggregator_bond is None else aggregator_bond
    if spare_tokens > 0 or bond > 0:
        network.token.grant_role(MINTER_ROLE, admin.address, sender=admin)
        if spare_tokens > 0:
            network.token.mint(auditor.address, spare_tokens, sender=admin)
        if bond > 0:
            network.token.mint(aggregator.address, bond, sender=admin)
        network.token.revoke_role(MINTER_ROLE, admin.address, sender=admin)
    if bond > 0:
        network.token.approve(network.registry.address, bond, sender=aggregator)
        network.registry.post_aggregator_bond(bond, sender=aggregator)
    voters = (admin, *[m for m in consortium if m.address != admin.address])
    gov_params = GovernanceParams.dev() if governance_params is None else governance_params
    governance = deploy_governance(backend, admin, [v.address for v in voters], gov_params)
    network = hand_over(network, governance, admin)
    return DevNetwork(
        network=network,
        admin=admin,
        aggregator=aggregator,
        auditor=auditor,
        outsider=outsider,
        participants=members,
        params=params,
        stake=params.min_stake,
        consortium=voters,
        governance_params=gov_params,
    )


__all__ = [
    "NETWORK_FORMAT",
    "DevNetwork",
    "Network",
    "NetworkInfo",
    "NetworkInfoError",
    "attach_network",
    "bootstrap_dev_network",
    "deploy_governance",
    "deploy_network",
    "enroll_participants",
    "hand_over",
]
