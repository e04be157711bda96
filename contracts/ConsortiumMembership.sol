// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IConsortiumMembership} from "./interfaces/IConsortiumMembership.sol";

/// @title ConsortiumMembership
/// @notice "FedLedger Consortium" (FLC): one soulbound ERC-721 per consortium member, each worth one
/// vote in the ConsortiumGovernor. One member, one vote: tokens never move, a member holds at most
/// one, and votes cannot be delegated away.
/// @dev OpenZeppelin ERC721Votes supplies the checkpointed vote accounting the Governor reads;
/// this contract only forbids transfers and foreign delegation, self-delegates on mint and uses
/// a timestamp clock. See IConsortiumMembership for the behaviour of each function.
contract ConsortiumMembership is ERC721, EIP712, ERC721Votes, Ownable, IConsortiumMembership {
    /// @notice Deploys an empty consortium.
    /// @param initialOwner Who may add the founding members; ownership then moves to the timelock.
    constructor(address initialOwner)
        ERC721("FedLedger Consortium", "FLC")
        EIP712("FedLedger Consortium", "1")
        Ownable(initialOwner)
    {}

    /// @inheritdoc IConsortiumMembership
    function addMember(address account) external onlyOwner {
        if (account == address(0)) revert MembershipZeroAddress();
        if (balanceOf(account) != 0) revert MembershipAlreadyMember(account);
        _mint(account, tokenIdOf(account));
        emit MemberAdded(account);
    }

    /// @inheritdoc IConsortiumMembership
    function removeMember(address account) external onlyOwner {
        if (balanceOf(account) == 0) revert MembershipNotMember(account);
        _burn(tokenIdOf(account));
        emit MemberRemoved(account);
    }

    /// @inheritdoc IConsortiumMembership
    function isMember(address account) external view returns (bool) {
        return balanceOf(account) != 0;
    }

    /// @inheritdoc IConsortiumMembership
    function memberCount() external view returns (uint256) {
        return _getTotalSupply();
    }

    /// @inheritdoc IConsortiumMembership
    function tokenIdOf(address account) public pure returns (uint256) {
        return uint256(uint160(account));
    }

    /// @notice ERC-6372 clock: the block timestamp, so governance periods are measured in seconds.
    /// @return The current timestamp.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock description.
    /// @return "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @dev Mint and burn only; a fresh member delegates to itself so its vote counts at once.
    function _update(address to, uint256 tokenId, address auth)
        internal
        override(ERC721, ERC721Votes)
        returns (address)
    {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert MembershipNonTransferable(tokenId);
        address previous = super._update(to, tokenId, auth);
        if (previous == address(0) && delegates(to) == address(0)) _delegate(to, to);
        return previous;
    }

    /// @dev A member's vote stays with the member.
    function _delegate(address account, address delegatee) internal override {
        if (delegatee != account) revert MembershipDelegationDisabled(account, delegatee);
        super._delegate(account, delegatee);
    }

    function _increaseBalance(address account, uint128 amount) internal override(ERC721, ERC721Votes) {
        super._increaseBalance(account, amount);
    }
}
