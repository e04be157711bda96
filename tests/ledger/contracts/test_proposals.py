"""ledger.contracts.proposals and GovernanceParams: actions encode the exact calls, the proposal
id matches the Governor's, and malformed proposals or parameters are refused before any send."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from ledger.contracts.binding import InvalidArgument
from ledger.contracts.deploy import DevNetwork, NetworkInfo, NetworkInfoError
from ledger.contracts.governance import GovernanceParams
from ledger.contracts.proposals import Proposal, ProposalAction, RegistryActions

ADDRESS: Any = "0x" + "11" * 20  # checksummed by the constructors under test
OTHER: Any = "0x" + "22" * 20
GOVERNOR: Any = "0x" + "33" * 20
BAD: Any = "0x1234"


def test_proposal_id_and_calldata_match_the_contracts(network: DevNetwork) -> None:
    # Prepare
    registry = network.registry
    action = RegistryActions(registry).slash(ADDRESS, 5)
    proposal = Proposal((action,), "slash five")

    # Execute
    on_chain = network.governance.governor.contract.functions.hashProposal(
        proposal.targets, proposal.values, proposal.calldatas, proposal.description_hash).call()

    # Assert
    assert proposal.proposal_id == on_chain
    assert proposal.description_hash == keccak(b"slash five")
    assert action.target == registry.address
    assert action.calldata[:4] == keccak(b"slash(address,uint256)")[:4]
    assert action.calldata[4:] == bytes(12) + bytes.fromhex("11" * 20) + (5).to_bytes(32, "big")
    assert action.summary == f"slash 5 base units of {ADDRESS}'s stake"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Proposal((), "nothing"), "at least one action"),
        (lambda: Proposal((ProposalAction(ADDRESS, b"\x01\x02\x03\x04", "x"),), "  "),
         "non-empty description"),
        (lambda: ProposalAction(ADDRESS, b"\x01", "x"), "at least a selector"),
        (lambda: ProposalAction(BAD, b"\x01\x02\x03\x04", "x"), "20-byte hex address"),
        (lambda: ProposalAction(ADDRESS, b"\x01\x02\x03\x04", "x", value=-1), "action value"),
        (lambda: GovernanceParams(voting_delay=1, voting_period=0, quorum_percent=50,
                                  timelock_delay=1), "voting_period must be at least 1"),
        (lambda: GovernanceParams(voting_delay=1, voting_period=1, quorum_percent=101,
                                  timelock_delay=1), r"quorum_percent must be an integer in \[0, 100\]"),
        (lambda: GovernanceParams(voting_delay=-1, voting_period=1, quorum_percent=50,
                                  timelock_delay=1), "voting_delay"),
    ],
)
def test_malformed_proposals_and_parameters_are_refused(build: object, message: str) -> None:
    # Execute / Assert
    with pytest.raises(InvalidArgument, match=message):
        build()  # type: ignore[operator]


def test_network_file_carries_the_governor_and_refuses_a_bad_one() -> None:
    # Prepare
    info = NetworkInfo(31337, ADDRESS, OTHER, 5, GOVERNOR)
    text = info.to_json().replace("0x" + "33" * 20, "0xnot-an-address")

    # Execute
    again = NetworkInfo.from_json(info.to_json())
    with pytest.raises(NetworkInfoError, match="governor must be a 20-byte hex address"):
        NetworkInfo.from_json(text)

    # Assert
    assert again == info
    assert '"governor"' not in NetworkInfo(31337, ADDRESS, ADDRESS, 5).to_json()
