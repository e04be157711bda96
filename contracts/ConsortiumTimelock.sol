// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title ConsortiumTimelock
/// @notice The account that holds every admin power of a fedledger network (registry, reward
/// token, membership). It runs only operations the ConsortiumGovernor queued after a successful
/// vote, and only once `getMinDelay()` seconds have passed, so anyone affected can react first.
/// @dev OpenZeppelin TimelockController unchanged; this contract exists so the deployable
/// bytecode is one of fedledger's compiled artifacts.
contract ConsortiumTimelock is TimelockController {
    /// @notice Deploys the timelock.
    /// @param minDelay Seconds between queueing and executing an operation.
    /// @param proposers Accounts that may schedule (the governor, granted after it is deployed).
    /// @param executors Accounts that may execute; the zero address opens execution to anyone.
    /// @param admin Temporary admin for wiring the governor in; renounced right after deployment.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
