// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title ConsortiumGovernor
/// @notice The consortium's decision procedure: a member proposes contract calls (admit or
/// remove a participant, appoint the aggregator, set parameters, resolve a challenge, slash,
/// change membership), members vote For / Against / Abstain for `votingPeriod` seconds after a
/// `votingDelay`, and a proposal with a quorum and more For than Against votes is queued in the
/// ConsortiumTimelock, which executes it after its minimum delay.
/// @dev OpenZeppelin Governor with GovernorSettings, GovernorCountingSimple, GovernorVotes,
/// GovernorVotesQuorumFraction and GovernorTimelockControl. Votes come from ConsortiumMembership
/// (one per member, timestamp clock). Only a member may propose (threshold one vote) and only an
/// account that was a member at the proposal's snapshot may vote (a zero-weight vote reverts
/// instead of being recorded). The quorum fraction is rounded up, so "50%" of three members is
/// two votes, never one.
contract ConsortiumGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @notice `account` held no membership at `snapshot`, the timepoint `proposalId` counts votes at.
    error ConsortiumNotMember(address account, uint256 proposalId, uint256 snapshot);

    /// @notice Deploys the governor.
    /// @param members The ConsortiumMembership token (one vote per member).
    /// @param timelock The ConsortiumTimelock that executes passed proposals.
    /// @param initialVotingDelay Seconds from proposal to the start of voting (the vote snapshot).
    /// @param initialVotingPeriod Seconds voting stays open.
    /// @param quorumPercent Percentage of members (rounded up) whose For or Abstain votes are needed.
    constructor(
        IVotes members,
        TimelockController timelock,
        uint48 initialVotingDelay,
        uint32 initialVotingPeriod,
        uint256 quorumPercent
    )
        Governor("FedLedger Consortium")
        GovernorSettings(initialVotingDelay, initialVotingPeriod, 1)
        GovernorVotes(members)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {}

    /// @notice Votes needed for a quorum at `timepoint`: the member count times the quorum
    /// fraction, rounded up.
    /// @param timepoint A past timestamp (a proposal's snapshot).
    /// @return The number of For plus Abstain votes a proposal needs.
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return Math.mulDiv(
            token().getPastTotalSupply(timepoint), quorumNumerator(timepoint), quorumDenominator(), Math.Rounding.Ceil
        );
    }

    /// @notice Seconds from proposal to the vote snapshot.
    /// @return The voting delay.
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @notice Seconds voting stays open.
    /// @return The voting period.
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @notice Votes an account needs to propose (one: any member).
    /// @return The proposal threshold.
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @notice Lifecycle state of `proposalId`, including Queued in the timelock.
    /// @param proposalId The proposal.
    /// @return Its state.
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @notice Whether a passed proposal must be queued before execution (always: the timelock).
    /// @param proposalId The proposal.
    /// @return True.
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @dev Refuses votes of accounts without membership at the snapshot, then counts as usual
    /// (GovernorCountingSimple also refuses a second vote with GovernorAlreadyCastVote).
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple)
        returns (uint256)
    {
        if (totalWeight == 0) revert ConsortiumNotMember(account, proposalId, proposalSnapshot(proposalId));
        return super._countVote(proposalId, account, support, totalWeight, params);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
