"""deploy_network wires the two contracts; NetworkInfo lets another process attach safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain.base import TestChainBackend
from ledger.chain.embedded import EmbeddedChain
from ledger.contracts.binding import InvalidArgument
from ledger.contracts.deploy import (
    NETWORK_FORMAT,
    DevNetwork,
    NetworkInfo,
    NetworkInfoError,
    attach_network,
    bootstrap_dev_network,
    deploy_network,
)
from ledger.contracts.registry import (
    AGGREGATOR_ROLE,
    AUDITOR_ROLE,
    DEFAULT_ADMIN_ROLE,
    RegistryParams,
)
from ledger.contracts.token import MINTER_ROLE
from ledger.errors import ConfigError

PARAMS = RegistryParams(min_stake=0, reward_per_round=10**21, challenge_window=60, challenge_bond=0)
TOKEN = "0x2946259E0334f33A064106302415aD3391BeD384"
REGISTRY = "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b"


def test_deploy_network_grants_roles_and_records_where_it_lives(chain: TestChainBackend) -> None:
    # Prepare
    admin = chain.dev_accounts()[0]
    before = chain.block_number()

    # Execute
    network = deploy_network(chain, admin, PARAMS)

    # Assert
    token, registry, info = network.token, network.registry, network.info
    assert token.has_role(MINTER_ROLE, registry.address)
    assert token.has_role(DEFAULT_ADMIN_ROLE, admin.address)
    assert registry.has_role(DEFAULT_ADMIN_ROLE, admin.address)
    assert registry.token_address() == token.address
    assert registry.parameters() == PARAMS
    assert info == NetworkInfo(chain.chain_id, token.address, registry.address, before + 1)
    (granted,) = token.events_role_granted(role=MINTER_ROLE)
    assert (granted.account, granted.sender) == (registry.address, admin.address)


def test_bootstrap_dev_network_assigns_every_role(network: DevNetwork) -> None:
    # Execute
    registry = network.registry

    # Assert
    assert registry.aggregator() == network.aggregator.address
    assert registry.has_role(AGGREGATOR_ROLE, network.aggregator.address)
    assert registry.has_role(AUDITOR_ROLE, network.auditor.address)
    assert all(registry.participant(p.address).active for p in network.participants)
    assert not registry.participant(network.outsider.address).registered
    assert not network.token.has_role(MINTER_ROLE, network.admin.address)
    registered = registry.events_participant_registered()
    # Registrations go out as one batch; anvil may order a batch's transactions by its own
    # rule within a block, so the check is on who registered, not in which order.
    assert sorted(e.account for e in registered) == sorted(p.address for p in network.participants)
    assert {e.stake for e in registered} == {network.stake}


def test_bootstrap_needs_enough_accounts() -> None:
    # Prepare
    chain = EmbeddedChain(accounts=5)

    # Execute / Assert
    with pytest.raises(ConfigError, match="3 participants needs 7 funded accounts, got 5"):
        bootstrap_dev_network(chain, chain.dev_accounts(), PARAMS, participants=3)


def test_saved_network_file_attaches_to_working_bindings(
    network: DevNetwork, tmp_path: Path
) -> None:
    # Prepare
    path = tmp_path / "net" / "network.json"
    network.network.info.save(path)

    # Execute
    attached = attach_network(network.backend, NetworkInfo.load(path))

    # Assert
    assert attached.info == network.network.info
    assert attached.registry.address == network.registry.address
    assert attached.registry.deployment_block == network.network.info.deployment_block
    assert attached.registry.parameters() == network.params
    assert attached.token.total_supply() == network.token.total_supply()
    assert json.loads(path.read_text())["format"] == NETWORK_FORMAT


def test_network_file_for_another_chain_is_refused(network: DevNetwork) -> None:
    # Prepare
    info = NetworkInfo(1, network.token.address, network.registry.address, 0)

    # Execute / Assert
    with pytest.raises(
        NetworkInfoError,
        match=f"for chain id 1 but the connected chain is {network.backend.chain_id}",
    ):
        attach_network(network.backend, info)


def test_network_file_pointing_at_empty_addresses_is_refused(network: DevNetwork) -> None:
    # Prepare
    info = NetworkInfo(network.backend.chain_id, network.token.address, network.outsider.address, 0)

    # Execute / Assert
    with pytest.raises(NetworkInfoError, match="no contract code at the registry address"):
        attach_network(network.backend, info)


def test_network_file_whose_registry_pays_another_token_is_refused(network: DevNetwork) -> None:
    # Prepare: swap the token for another contract that has code (the registry itself)
    info = NetworkInfo(
        network.backend.chain_id, network.registry.address, network.registry.address, 0
    )

    # Execute / Assert
    with pytest.raises(NetworkInfoError, match="pays in token"):
        attach_network(network.backend, info)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "is not valid JSON"),
        ("[]", "must hold a JSON object"),
        ('{"format": "other/9"}', "has format 'other/9'"),
        (
            json.dumps({"format": NETWORK_FORMAT, "chainId": 1}),
            "lacks token, registry, deploymentBlock",
        ),
        (
            json.dumps(
                {
                    "format": NETWORK_FORMAT,
                    "chainId": 1,
                    "token": "0x12",
                    "registry": REGISTRY,
                    "deploymentBlock": 0,
                }
            ),
            "token must be a 20-byte hex address",
        ),
        (
            json.dumps(
                {
                    "format": NETWORK_FORMAT,
                    "chainId": 0,
                    "token": TOKEN,
                    "registry": REGISTRY,
                    "deploymentBlock": 0,
                }
            ),
            "chainId must be a non-negative integer",
        ),
        (
            json.dumps(
                {
                    "format": NETWORK_FORMAT,
                    "chainId": 1,
                    "token": TOKEN,
                    "registry": REGISTRY,
                    "deploymentBlock": -3,
                }
            ),
            "deploymentBlock must be a non-negative integer",
        ),
        (
            json.dumps(
                {
                    "format": NETWORK_FORMAT,
                    "chainId": True,
                    "token": TOKEN,
                    "registry": REGISTRY,
                    "deploymentBlock": 0,
                }
            ),
            "chainId must be",
        ),
    ],
)
def test_malformed_network_file_names_the_problem(
    tmp_path: Path, document: str, message: str
) -> None:
    # Prepare
    path = tmp_path / "network.json"
    path.write_text(document)

    # Execute / Assert
    with pytest.raises(NetworkInfoError, match=message):
        NetworkInfo.load(path)


def test_missing_network_file_says_to_deploy_first(tmp_path: Path) -> None:
    # Execute / Assert
    with pytest.raises(NetworkInfoError, match="no network file at .*: deploy one first"):
        NetworkInfo.load(tmp_path / "absent.json")


def test_network_info_checksums_and_round_trips_through_json() -> None:
    # Prepare
    info = NetworkInfo(31337, TOKEN.lower(), REGISTRY, 12)  # type: ignore[arg-type]

    # Execute
    again = NetworkInfo.from_json(info.to_json())

    # Assert
    assert info.token == TOKEN
    assert again == info


def test_network_info_refuses_a_bad_address_directly() -> None:
    # Execute / Assert
    with pytest.raises(NetworkInfoError, match="registry must be a 20-byte hex address"):
        NetworkInfo(31337, TOKEN, "0xnope", 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "params",
    [
        {"min_stake": -1, "reward_per_round": 0, "challenge_window": 0, "challenge_bond": 0},
        {"min_stake": 0, "reward_per_round": 2**96, "challenge_window": 0, "challenge_bond": 0},
        {"min_stake": 0, "reward_per_round": 0, "challenge_window": 2**64, "challenge_bond": 0},
    ],
)
def test_registry_params_out_of_range_are_refused(params: dict[str, int]) -> None:
    # Execute / Assert
    with pytest.raises(InvalidArgument):
        RegistryParams(**params)
