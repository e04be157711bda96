// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IRewardToken} from "./interfaces/IRewardToken.sol";

/// @title RewardToken
/// @notice "FedLedger Reward" (FLR): the token participants stake, challengers bond and the
/// TrainingRegistry mints as rewards. Gasless approvals through EIP-2612 `permit`.
/// @dev OpenZeppelin ERC20 + ERC20Permit + AccessControl; no home-made token logic. Governance
/// (DEFAULT_ADMIN_ROLE) grants `MINTER_ROLE` to the registry after both are deployed.
contract RewardToken is ERC20, ERC20Permit, AccessControl, IRewardToken {
    /// @inheritdoc IRewardToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Deploys the token with no supply; `admin` may grant and revoke every role.
    /// @param admin The governance account that receives DEFAULT_ADMIN_ROLE (not the zero address).
    constructor(address admin) ERC20("FedLedger Reward", "FLR") ERC20Permit("FedLedger Reward") {
        if (admin == address(0)) revert RewardTokenZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IRewardToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
