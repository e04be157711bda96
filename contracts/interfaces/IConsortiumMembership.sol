// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsortiumMembership
/// @notice Who belongs to the consortium that governs a fedledger network: one non-transferable
/// token per member, worth exactly one vote, which the member always delegates to itself.
/// @dev The owner (the consortium's timelock after deployment) is the only account that adds or
/// removes members, so membership itself changes only by an executed proposal. Votes are
/// checkpointed by timestamp (ERC-6372 `mode=timestamp`), so voting delays and periods are seconds.
interface IConsortiumMembership {
    /// @notice `account` is the zero address.
    error MembershipZeroAddress();
    /// @notice `account` already holds a membership token.
    error MembershipAlreadyMember(address account);
    /// @notice `account` holds no membership token.
    error MembershipNotMember(address account);
    /// @notice Membership tokens cannot move between accounts (`tokenId` was being transferred).
    error MembershipNonTransferable(uint256 tokenId);
    /// @notice A member's vote cannot be delegated to another account (`delegatee`).
    error MembershipDelegationDisabled(address account, address delegatee);

    /// @notice `account` joined the consortium with one vote.
    event MemberAdded(address indexed account);
    /// @notice `account` left the consortium; its vote no longer counts from this timestamp on.
    event MemberRemoved(address indexed account);

    /// @notice Admits `account` to the consortium, minting its membership token.
    /// @dev Owner (timelock) only. The token id is `uint256(uint160(account))`; the member's vote
    /// is self-delegated at once.
    /// @param account The new member (not the zero address, not already a member).
    function addMember(address account) external;

    /// @notice Removes `account` from the consortium, burning its membership token.
    /// @dev Owner (timelock) only. Proposals whose snapshot precedes the removal still count its vote.
    /// @param account A current member.
    function removeMember(address account) external;

    /// @notice Whether `account` is currently a member.
    /// @param account Any address.
    /// @return True when it holds a membership token.
    function isMember(address account) external view returns (bool);

    /// @notice The number of current members (= total votes).
    /// @return The member count.
    function memberCount() external view returns (uint256);

    /// @notice The membership token id of `account` (whether or not it is a member).
    /// @param account Any address.
    /// @return `uint256(uint160(account))`.
    function tokenIdOf(address account) external pure returns (uint256);
}
