// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A contract that refuses with its own custom error, for revert decoding across contracts.
contract ChainFixtureCallee {
    error CalleeRefused(uint256 code, address caller);

    function refuse(uint256 code) external view {
        revert CalleeRefused(code, msg.sender);
    }
}

/// @notice Exercises every way a chain backend must report success and failure.
contract ChainFixture {
    error FixtureValueTooLarge(uint256 value, uint256 limit);
    error FixtureLocked(uint256 now_, uint256 until);
    error FixturePair(bytes32 tag, address[] accounts);

    event ValueSet(address indexed setter, uint256 indexed value, string note);

    uint256 private _value;

    constructor(uint256 initial) {
        _value = initial;
    }

    function set(uint256 newValue, string calldata note) external {
        if (newValue > 1000) revert FixtureValueTooLarge(newValue, 1000);
        _value = newValue;
        emit ValueSet(msg.sender, newValue, note);
    }

    function current() external view returns (uint256) {
        return _value;
    }

    function failWithReason() external pure {
        require(false, "plain reason");
    }

    function failWithPanic(uint256 divisor) external pure returns (uint256) {
        return 1 / divisor;
    }

    function failWithPair(bytes32 tag, address a, address b) external pure {
        address[] memory accounts = new address[](2);
        accounts[0] = a;
        accounts[1] = b;
        revert FixturePair(tag, accounts);
    }

    function failEmpty() external pure {
        revert();
    }

    function setAfter(uint256 until, uint256 newValue) external {
        if (block.timestamp < until) revert FixtureLocked(block.timestamp, until);
        _value = newValue;
        emit ValueSet(msg.sender, newValue, "after");
    }

    function forward(ChainFixtureCallee callee, uint256 code) external view {
        callee.refuse(code);
    }

    function burn(uint256 rounds) external {
        for (uint256 i = 0; i < rounds; ++i) {
            _value = _value + 1;
        }
    }
}
