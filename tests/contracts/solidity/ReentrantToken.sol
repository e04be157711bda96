// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ReentrantToken
/// @notice Test double for the registry's token: the next token call the registry makes first
/// runs one armed call back into a target, so a test can prove the registry's reentrancy guard.
/// @dev The callback's revert data is bubbled unchanged. Moves no balances. Tests only.
contract ReentrantToken {
    address private _target;
    bytes private _payload;

    /// @notice Arms one callback: the next token call runs `target.call(payload)` first.
    /// @param target The contract to call back (the registry).
    /// @param payload The calldata of the callback.
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
    }

    /// @notice ERC-20 `transferFrom` look-alike; runs the armed callback, then reports success.
    /// @return Always true.
    function transferFrom(address, address, uint256) external returns (bool) {
        _reenter();
        return true;
    }

    /// @notice ERC-20 `transfer` look-alike; runs the armed callback, then reports success.
    /// @return Always true.
    function transfer(address, uint256) external returns (bool) {
        _reenter();
        return true;
    }

    /// @notice IRewardToken `mint` look-alike; runs the armed callback.
    function mint(address, uint256) external {
        _reenter();
    }

    function _reenter() private {
        address target = _target;
        if (target == address(0)) return;
        _target = address(0);
        (bool ok, bytes memory data) = target.call(_payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(data, 32), mload(data))
            }
        }
    }
}
