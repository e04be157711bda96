// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IRewardToken
/// @notice The fedledger reward token as the TrainingRegistry sees it: an ERC-20 whose supply
/// grows only through `mint` by holders of `MINTER_ROLE`.
/// @dev Every balance change is logged by the ERC-20 `Transfer` event (mints come from address 0);
/// role changes by AccessControl's `RoleGranted` / `RoleRevoked`.
interface IRewardToken is IERC20 {
    /// @notice The constructor was given the zero address as admin: nobody could ever grant roles.
    error RewardTokenZeroAdmin();

    /// @notice The role allowed to mint: `keccak256("MINTER_ROLE")`.
    /// @return The role identifier.
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice Creates `amount` base units and credits them to `to`.
    /// @dev Only callable by accounts holding `MINTER_ROLE` (reverts with
    /// `AccessControlUnauthorizedAccount(caller, MINTER_ROLE)` otherwise). Emits `Transfer(0, to, amount)`.
    /// @param to The receiver of the new tokens (not the zero address).
    /// @param amount The number of base units (18 decimals) to create.
    function mint(address to, uint256 amount) external;
}
