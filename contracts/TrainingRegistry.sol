// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRewardToken} from "./interfaces/IRewardToken.sol";
import {ITrainingRegistry} from "./interfaces/ITrainingRegistry.sol";

/// @title TrainingRegistry
/// @notice Round lifecycle of a fedledger network: membership with stake, commit-reveal of
/// updates, the aggregator's result with a Merkle rewards root, claims, and challenges that
/// governance resolves, aggregator bonds, and the reader keys updates are encrypted to. See
/// ITrainingRegistry for the behaviour of each function. DEFAULT_ADMIN_ROLE belongs to the
/// consortium's timelock once a network is deployed (ledger.contracts.deploy hands it over).
/// @dev Storage is laid out so the per-round, per-participant calls stay cheap and flat:
/// - each participant has one membership slot (flags, stake, latest round and its submission
///   state) and one commitment slot, both reused every round, so a commit rewrites two
///   already-used slots instead of allocating a fresh one per round;
/// - claims are a bitmap per account, 255 rounds per word; bit 255 of each word is never a round;
/// - `register` pre-pays the storage a participant uses every round (Uniswap v3 pre-initialises its
///   oracle slots the same way): it writes a placeholder into the commitment slot and sets bit 255
///   of the first claims word, so commits and claims overwrite non-zero slots (5k gas) instead of
///   creating them (22k gas) and stay flat from the first round on;
/// - finalization writes a fixed number of slots whatever the participant count, and mints
///   nothing: rewards are minted on claim, capped by the round's declared total.
/// - a round records its aggregator (written by openRound, rewritten by finalizeRound only if
///   another account finalizes), so an upheld challenge slashes the bond of whoever finalized it;
///   rounds settle one at a time, so only the latest round can lock an aggregator's bond.
/// CIDs other than the round's starting model are kept in events only.
contract TrainingRegistry is ITrainingRegistry, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IRewardToken;
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @inheritdoc ITrainingRegistry
    bytes32 public constant AGGREGATOR_ROLE = keccak256("AGGREGATOR_ROLE");
    /// @inheritdoc ITrainingRegistry
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");

    /// @dev What a participant did in its latest committed round.
    /// Forfeited: committed, never revealed, and slashed for it.
    enum Submission {
        None,
        Committed,
        Revealed,
        Forfeited
    }

    /// @dev One storage slot per participant (8 + 8 + 128 + 64 + 8 + 8 bits).
    struct Member {
        bool registered;
        bool removed;
        uint128 stake;
        uint64 lastRound;
        Submission submission;
        bool admitted;
    }


    /// @dev Two hot slots. The schedule slot (deadlines, counts) is all commit and reveal read:
    /// a round is Open from openRound until finalization, and every state after it lies past the
    /// reveal deadline, so the deadlines alone decide whether a commit or reveal may land. The
    /// settlement slot (status from finalization on, claimableAt, totals) is all claim and
    /// challenge read besides the root. `settlement` stays None while the round is None or Open;
    /// `_statusOf` tells those two apart by the schedule.
    struct Round {
        // schedule slot: 64 + 64 + 32 + 32 bits
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint32 commitCount;
        uint32 revealCount;
        bytes32 modelHash;
        bytes32 taskHash;
        bytes32 newModelHash;
        bytes32 reportHash;
        bytes32 rewardsRoot;
        // settlement slot: 8 + 56 + 96 + 96 bits
        RoundStatus settlement;
        uint56 claimableAt;
        uint96 totalReward;
        uint96 claimedReward;
        // challenge slot
        address challenger;
        uint96 bond;
        // who opened, then who finalized the round (its bond answers for the result)
        address aggregator;
        string modelCID;
    }

    IRewardToken private immutable _token;

    // Read together by finalizeRound and challenge: one slot.
    uint96 private _rewardPerRound;
    uint64 private _challengeWindow;
    uint96 private _challengeBond;

    uint128 private _minStake;
    uint64 private _nextRound;

    address private _aggregator;
    uint256 private _treasury;

    uint96 private _aggregatorBond;
    uint96 private _missedRevealPenalty;
    bool private _admissionRequired;

    bytes32 private _taskHash;
    string private _taskCID;

    mapping(uint64 roundId => Round) private _rounds;
    mapping(address account => Member) private _members;
    mapping(address account => bytes32) private _commitments;
    mapping(address account => mapping(uint256 word => uint256 bits)) private _claimed;
    mapping(address account => uint256 amount) private _bonds;
    mapping(address account => bytes publicKey) private _readerKeys;
    EnumerableSet.AddressSet private _readers;

    /// @dev Rounds per claims-bitmap word; the word's top bit marks it as pre-paid.
    uint256 private constant _ROUNDS_PER_WORD = 255;
    uint256 private constant _WORD_PREPAID = 1 << 255;
    /// @dev Placeholder written by `register`; never read as a commitment (Member.submission gates it).
    bytes32 private constant _COMMITMENT_PREPAID = bytes32(uint256(1));
    /// @dev An uncompressed secp256k1 public key without its 0x04 prefix.
    uint256 private constant _READER_KEY_LENGTH = 64;
    /// @dev Longest revealed CID: a base32 CIDv1 of a 512-bit multihash is 113 characters.
    uint256 private constant _MAX_CID_LENGTH = 128;

    /// @notice Deploys the registry; `admin` (governance) holds DEFAULT_ADMIN_ROLE.
    /// @param admin Governance account (later a timelock); not the zero address.
    /// @param rewardToken The staking and reward token; the registry needs its MINTER_ROLE to pay claims.
    /// @param p Initial economics.
    constructor(address admin, IRewardToken rewardToken, Params memory p) {
        if (admin == address(0) || address(rewardToken) == address(0)) revert RegistryZeroAddress();
        _token = rewardToken;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setParameters(p);
    }

    // ------------------------------------------------------------- governance

    /// @inheritdoc ITrainingRegistry
    function setTask(bytes32 taskHash, string calldata taskCID) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (taskHash == bytes32(0)) revert RegistryZeroHash();
        if (bytes(taskCID).length == 0) revert RegistryEmptyCID();
        _taskHash = taskHash;
        _taskCID = taskCID;
        emit TaskSet(taskHash, taskCID);
    }

    /// @inheritdoc ITrainingRegistry
    function setParameters(Params calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParameters(p);
    }

    /// @inheritdoc ITrainingRegistry
    function appointAggregator(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert RegistryZeroAddress();
        address previous = _aggregator;
        _aggregator = account;
        if (previous != address(0) && previous != account) {
            _revokeRole(AGGREGATOR_ROLE, previous);
        }
        _grantRole(AGGREGATOR_ROLE, account);
        emit AggregatorAppointed(previous, account);
    }

    /// @inheritdoc ITrainingRegistry
    function removeParticipant(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage m = _members[account];
        if (!m.registered && !m.admitted) revert RegistryNotParticipant(account);
        if (m.removed) revert RegistryParticipantRemoved(account);
        m.removed = true;
        m.admitted = false;
        emit ParticipantRemoved(account);
    }

    /// @inheritdoc ITrainingRegistry
    function admitParticipant(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert RegistryZeroAddress();
        Member storage m = _members[account];
        if (m.admitted && !m.removed) revert RegistryAlreadyAdmitted(account);
        m.admitted = true;
        m.removed = false;
        emit ParticipantAdmitted(account);
    }

    /// @inheritdoc ITrainingRegistry
    function slash(address account, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Member storage m = _members[account];
        if (!m.registered) revert RegistryNotParticipant(account);
        uint256 stake = m.stake;
        if (amount > stake) revert RegistrySlashTooLarge(account, amount, stake);
        uint256 remaining = stake - amount;
        m.stake = uint128(remaining);
        _treasury += amount;
        emit ParticipantSlashed(account, amount, remaining);
    }

    /// @inheritdoc ITrainingRegistry
    function resolveChallenge(uint64 roundId, bool upheld) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        Round storage r = _rounds[roundId];
        if (r.settlement != RoundStatus.Challenged) revert RegistryUnexpectedStatus(roundId, _statusOf(r));
        address challenger = r.challenger;
        uint96 bond = r.bond;
        address accused = r.aggregator;
        r.challenger = address(0);
        r.bond = 0;
        emit ChallengeResolved(roundId, upheld);
        if (!upheld) {
            r.settlement = RoundStatus.Finalized;
            _treasury += bond;
            emit ChallengeBondForfeited(roundId, challenger, bond);
            return;
        }
        // Upheld: erase the result so the round is finalized again from the same reveals.
        r.settlement = RoundStatus.None;
        r.claimableAt = 0;
        r.totalReward = 0;
        r.newModelHash = bytes32(0);
        r.reportHash = bytes32(0);
        r.rewardsRoot = bytes32(0);
        uint256 held = _bonds[accused];
        uint256 slashed = Math.min(held, _aggregatorBond);
        uint256 toChallenger = slashed / 2;
        _bonds[accused] = held - slashed;
        _treasury += slashed - toChallenger;
        emit AggregatorBondSlashed(accused, roundId, slashed, toChallenger, held - slashed);
        emit RoundReopened(roundId);
        uint256 payout = bond + toChallenger;
        if (payout > 0) _token.safeTransfer(challenger, payout);
    }

    /// @inheritdoc ITrainingRegistry
    function withdrawTreasury(address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert RegistryZeroAddress();
        uint256 available = _treasury;
        if (amount > available) revert RegistryTreasuryInsufficient(amount, available);
        _treasury = available - amount;
        emit TreasuryWithdrawn(to, amount);
        _token.safeTransfer(to, amount);
    }

    // ------------------------------------------------------------ participants

    /// @inheritdoc ITrainingRegistry
    function register(uint256 stake) external nonReentrant {
        Member storage m = _members[msg.sender];
        if (m.removed) revert RegistryParticipantRemoved(msg.sender);
        if (m.registered) revert RegistryAlreadyRegistered(msg.sender);
        if (_admissionRequired && !m.admitted) revert RegistryNotAdmitted(msg.sender);
        uint256 minStake = _minStake;
        if (stake < minStake) revert RegistryStakeTooLow(stake, minStake);
        m.registered = true;
        m.stake = SafeCast.toUint128(stake);
        _commitments[msg.sender] = _COMMITMENT_PREPAID;
        _claimed[msg.sender][0] |= _WORD_PREPAID;
        emit ParticipantRegistered(msg.sender, stake);
        if (stake > 0) _token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @inheritdoc ITrainingRegistry
    function commit(uint64 roundId, bytes32 commitment) external {
        Member memory m = _activeMember(msg.sender);
        Round storage r = _rounds[roundId];
        uint64 commitDeadline = r.commitDeadline;
        if (commitDeadline == 0) revert RegistryUnexpectedStatus(roundId, RoundStatus.None);
        if (block.timestamp > commitDeadline) revert RegistryCommitClosed(roundId, commitDeadline);
        if (m.lastRound == roundId && m.submission != Submission.None) {
            revert RegistryAlreadyCommitted(roundId, msg.sender);
        }
        Member storage stored = _members[msg.sender];
        stored.lastRound = roundId;
        stored.submission = Submission.Committed;
        _commitments[msg.sender] = commitment;
        r.commitCount += 1;
        emit UpdateCommitted(roundId, msg.sender, commitment);
    }

    /// @inheritdoc ITrainingRegistry
    function reveal(
        uint64 roundId,
        string calldata updateCID,
        bytes32 updateHash,
        string calldata proofCID,
        bytes32 proofHash,
        uint64 numSamples,
        bytes32 salt
    ) external {
        Member memory m = _activeMember(msg.sender);
        Round storage r = _rounds[roundId];
        uint64 commitDeadline = r.commitDeadline;
        if (commitDeadline == 0) revert RegistryUnexpectedStatus(roundId, RoundStatus.None);
        if (block.timestamp <= commitDeadline) revert RegistryRevealNotOpen(roundId, commitDeadline);
        uint64 revealDeadline = r.revealDeadline;
        if (block.timestamp > revealDeadline) revert RegistryRevealClosed(roundId, revealDeadline);
        if (m.lastRound != roundId || m.submission == Submission.None) {
            revert RegistryNotCommitted(roundId, msg.sender);
        }
        if (m.submission == Submission.Revealed) revert RegistryAlreadyRevealed(roundId, msg.sender);
        if (numSamples == 0) revert RegistryNoSamples(roundId, msg.sender);
        if (bytes(updateCID).length == 0 || bytes(proofCID).length == 0) revert RegistryEmptyCID();
        if (bytes(updateCID).length > _MAX_CID_LENGTH) {
            revert RegistryCIDTooLong(bytes(updateCID).length, _MAX_CID_LENGTH);
        }
        if (bytes(proofCID).length > _MAX_CID_LENGTH) {
            revert RegistryCIDTooLong(bytes(proofCID).length, _MAX_CID_LENGTH);
        }
        bytes32 opened = keccak256(abi.encode(roundId, msg.sender, updateHash, proofHash, salt));
        if (opened != _commitments[msg.sender]) revert RegistryCommitmentMismatch(roundId, msg.sender);
        _members[msg.sender].submission = Submission.Revealed;
        r.revealCount += 1;
        emit UpdateRevealed(roundId, msg.sender, updateCID, updateHash, proofCID, proofHash, numSamples);
    }

    /// @inheritdoc ITrainingRegistry
    function claim(uint64 roundId, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
    {
        Round storage r = _rounds[roundId];
        RoundStatus settlement = r.settlement;
        if (settlement == RoundStatus.Challenged) revert RegistryClaimsFrozen(roundId);
        if (settlement != RoundStatus.Finalized) revert RegistryUnexpectedStatus(roundId, _statusOf(r));
        uint64 claimableAt = r.claimableAt;
        if (block.timestamp < claimableAt) revert RegistryClaimNotOpen(roundId, claimableAt);
        uint256 word = roundId / _ROUNDS_PER_WORD;
        uint256 bit = 1 << (roundId % _ROUNDS_PER_WORD);
        uint256 bits = _claimed[account][word];
        if (bits & bit != 0) revert RegistryAlreadyClaimed(roundId, account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, roundId, amount))));
        if (!MerkleProof.verifyCalldata(proof, r.rewardsRoot, leaf)) {
            revert RegistryInvalidProof(roundId, account, amount);
        }
        uint256 remaining = uint256(r.totalReward) - r.claimedReward;
        if (amount > remaining) revert RegistryRewardExhausted(roundId, amount, remaining);
        _claimed[account][word] = bits | bit;
        // amount <= remaining <= type(uint96).max, so the cast is exact.
        r.claimedReward += uint96(amount);
        emit RewardClaimed(roundId, account, amount);
        _token.mint(account, amount);
    }

    /// @inheritdoc ITrainingRegistry
    function challenge(uint64 roundId, string calldata evidenceCID) external nonReentrant {
        Member memory m = _members[msg.sender];
        if (!(m.registered && !m.removed) && !hasRole(AUDITOR_ROLE, msg.sender)) {
            revert RegistryUnauthorizedChallenger(msg.sender);
        }
        if (bytes(evidenceCID).length == 0) revert RegistryEmptyCID();
        Round storage r = _rounds[roundId];
        if (r.settlement != RoundStatus.Finalized) revert RegistryUnexpectedStatus(roundId, _statusOf(r));
        uint64 claimableAt = r.claimableAt;
        if (block.timestamp >= claimableAt) revert RegistryChallengeWindowClosed(roundId, claimableAt);
        uint96 bond = _challengeBond;
        r.settlement = RoundStatus.Challenged;
        r.challenger = msg.sender;
        r.bond = bond;
        emit RoundChallenged(roundId, msg.sender, evidenceCID, bond);
        if (bond > 0) _token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc ITrainingRegistry
    function slashUnrevealed(uint64 roundId, address account) external {
        Member storage m = _members[account];
        if (m.lastRound != roundId || m.submission != Submission.Committed) {
            revert RegistryNothingToSlash(roundId, account);
        }
        uint64 revealDeadline = _rounds[roundId].revealDeadline;
        if (block.timestamp <= revealDeadline) revert RegistryRevealNotOver(roundId, revealDeadline);
        uint256 stake = m.stake;
        uint256 amount = Math.min(stake, _missedRevealPenalty);
        m.submission = Submission.Forfeited;
        m.stake = uint128(stake - amount);
        _treasury += amount;
        emit UnrevealedCommitSlashed(roundId, account, amount);
        emit ParticipantSlashed(account, amount, stake - amount);
    }

    /// @inheritdoc ITrainingRegistry
    function registerReaderKey(bytes calldata publicKey) external {
        if (!hasRole(AGGREGATOR_ROLE, msg.sender) && !hasRole(AUDITOR_ROLE, msg.sender)) {
            revert RegistryNotReader(msg.sender);
        }
        if (publicKey.length != _READER_KEY_LENGTH) revert RegistryInvalidReaderKey(publicKey.length);
        address derived = address(uint160(uint256(keccak256(publicKey))));
        if (derived != msg.sender) revert RegistryReaderKeyMismatch(msg.sender, derived);
        _readerKeys[msg.sender] = publicKey;
        _readers.add(msg.sender);
        emit ReaderKeyRegistered(msg.sender, publicKey);
    }

    /// @inheritdoc ITrainingRegistry
    function postAggregatorBond(uint256 amount) external nonReentrant {
        uint256 total = _bonds[msg.sender] + amount;
        _bonds[msg.sender] = total;
        emit AggregatorBondPosted(msg.sender, amount, total);
        if (amount > 0) _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ITrainingRegistry
    function withdrawAggregatorBond(uint256 amount) external nonReentrant {
        if (msg.sender == _aggregator) revert RegistryBondInUse(msg.sender);
        uint64 next = _nextRound;
        if (next > 0) {
            Round storage latest = _rounds[next - 1];
            if (
                latest.aggregator == msg.sender
                    && (_statusOf(latest) != RoundStatus.Finalized || block.timestamp < latest.claimableAt)
            ) revert RegistryBondLocked(msg.sender, next - 1);
        }
        uint256 held = _bonds[msg.sender];
        if (amount > held) revert RegistryBondInsufficient(msg.sender, amount, held);
        _bonds[msg.sender] = held - amount;
        emit AggregatorBondWithdrawn(msg.sender, amount, held - amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // -------------------------------------------------------------- aggregator

    /// @inheritdoc ITrainingRegistry
    function openRound(
        uint64 roundId,
        string calldata modelCID,
        bytes32 modelHash,
        uint64 commitDeadline,
        uint64 revealDeadline
    ) external onlyRole(AGGREGATOR_ROLE) {
        uint64 expected = _nextRound;
        if (roundId != expected) revert RegistryUnexpectedRound(roundId, expected);
        bytes32 taskHash = _taskHash;
        if (taskHash == bytes32(0)) revert RegistryTaskNotSet();
        if (modelHash == bytes32(0)) revert RegistryZeroHash();
        if (bytes(modelCID).length == 0) revert RegistryEmptyCID();
        if (!(block.timestamp < commitDeadline && commitDeadline < revealDeadline)) {
            revert RegistryInvalidDeadlines(commitDeadline, revealDeadline, uint64(block.timestamp));
        }
        _requireBond(msg.sender);
        if (roundId > 0) {
            Round storage previous = _rounds[roundId - 1];
            RoundStatus status = _statusOf(previous);
            if (status != RoundStatus.Finalized) revert RegistryUnexpectedStatus(roundId - 1, status);
            uint64 settledAt = previous.claimableAt;
            if (block.timestamp < settledAt) revert RegistryPreviousRoundUnsettled(roundId - 1, settledAt);
            bytes32 startFrom = previous.newModelHash;
            if (modelHash != startFrom) revert RegistryModelMismatch(roundId, startFrom, modelHash);
        }
        _nextRound = roundId + 1;
        Round storage r = _rounds[roundId];
        r.commitDeadline = commitDeadline;
        r.revealDeadline = revealDeadline;
        r.modelHash = modelHash;
        r.taskHash = taskHash;
        r.aggregator = msg.sender;
        r.modelCID = modelCID;
        emit RoundOpened(roundId, modelCID, modelHash, taskHash, commitDeadline, revealDeadline);
    }

    /// @inheritdoc ITrainingRegistry
    function finalizeRound(
        uint64 roundId,
        string calldata newModelCID,
        bytes32 newModelHash,
        string calldata reportCID,
        bytes32 reportHash,
        bytes32 rewardsRoot,
        uint256 totalReward
    ) external onlyRole(AGGREGATOR_ROLE) {
        Round storage r = _rounds[roundId];
        uint64 revealDeadline = r.revealDeadline;
        if (revealDeadline == 0 || r.settlement != RoundStatus.None) {
            revert RegistryUnexpectedStatus(roundId, _statusOf(r));
        }
        if (block.timestamp <= revealDeadline) revert RegistryRevealNotOver(roundId, revealDeadline);
        if (newModelHash == bytes32(0) || reportHash == bytes32(0)) revert RegistryZeroHash();
        if (bytes(newModelCID).length == 0 || bytes(reportCID).length == 0) revert RegistryEmptyCID();
        uint256 cap = _rewardPerRound;
        if (totalReward > cap) revert RegistryRewardAboveCap(totalReward, cap);
        _requireBond(msg.sender);
        uint56 claimableAt = SafeCast.toUint56(block.timestamp + _challengeWindow);
        if (r.aggregator != msg.sender) r.aggregator = msg.sender;
        r.settlement = RoundStatus.Finalized;
        r.newModelHash = newModelHash;
        r.reportHash = reportHash;
        r.rewardsRoot = rewardsRoot;
        r.claimableAt = claimableAt;
        // totalReward <= cap <= type(uint96).max, so the cast is exact.
        r.totalReward = uint96(totalReward);
        emit RoundFinalized(
            roundId, newModelCID, newModelHash, reportCID, reportHash, rewardsRoot, totalReward, claimableAt
        );
    }

    // ------------------------------------------------------------------- views

    /// @inheritdoc ITrainingRegistry
    function round(uint64 roundId) external view returns (RoundInfo memory info) {
        Round storage r = _rounds[roundId];
        info.status = _statusOf(r);
        info.modelCID = r.modelCID;
        info.modelHash = r.modelHash;
        info.taskHash = r.taskHash;
        info.commitDeadline = r.commitDeadline;
        info.revealDeadline = r.revealDeadline;
        info.commitCount = r.commitCount;
        info.revealCount = r.revealCount;
        info.newModelHash = r.newModelHash;
        info.reportHash = r.reportHash;
        info.rewardsRoot = r.rewardsRoot;
        info.totalReward = r.totalReward;
        info.claimedReward = r.claimedReward;
        info.claimableAt = r.claimableAt;
        info.challenger = r.challenger;
        info.challengeBond = r.bond;
        info.aggregator = r.aggregator;
    }

    /// @inheritdoc ITrainingRegistry
    function nextRound() external view returns (uint64) {
        return _nextRound;
    }

    /// @inheritdoc ITrainingRegistry
    function commitmentOf(uint64 roundId, address account) external view returns (bytes32) {
        Member memory m = _members[account];
        if (m.lastRound != roundId || m.submission == Submission.None) return bytes32(0);
        return _commitments[account];
    }

    /// @inheritdoc ITrainingRegistry
    function hasRevealed(uint64 roundId, address account) external view returns (bool) {
        Member memory m = _members[account];
        return m.lastRound == roundId && m.submission == Submission.Revealed;
    }

    /// @inheritdoc ITrainingRegistry
    function isClaimed(uint64 roundId, address account) external view returns (bool) {
        return _claimed[account][roundId / _ROUNDS_PER_WORD] & (1 << (roundId % _ROUNDS_PER_WORD)) != 0;
    }

    /// @inheritdoc ITrainingRegistry
    function participant(address account) external view returns (bool registered, bool removed, uint256 stake) {
        Member memory m = _members[account];
        return (m.registered, m.removed, m.stake);
    }

    /// @inheritdoc ITrainingRegistry
    function task() external view returns (bytes32 hash, string memory cid) {
        return (_taskHash, _taskCID);
    }

    /// @inheritdoc ITrainingRegistry
    function parameters() external view returns (Params memory) {
        return Params({
            minStake: _minStake,
            rewardPerRound: _rewardPerRound,
            challengeWindow: _challengeWindow,
            challengeBond: _challengeBond,
            aggregatorBond: _aggregatorBond,
            missedRevealPenalty: _missedRevealPenalty,
            admissionRequired: _admissionRequired
        });
    }

    /// @inheritdoc ITrainingRegistry
    function token() external view returns (IRewardToken) {
        return _token;
    }

    /// @inheritdoc ITrainingRegistry
    function aggregator() external view returns (address) {
        return _aggregator;
    }

    /// @inheritdoc ITrainingRegistry
    function treasury() external view returns (uint256) {
        return _treasury;
    }

    /// @inheritdoc ITrainingRegistry
    function isAdmitted(address account) external view returns (bool) {
        Member memory m = _members[account];
        return m.admitted && !m.removed;
    }

    /// @inheritdoc ITrainingRegistry
    function aggregatorBondOf(address account) external view returns (uint256) {
        return _bonds[account];
    }

    /// @inheritdoc ITrainingRegistry
    function readerKeyOf(address account) external view returns (bytes memory) {
        return _readerKeys[account];
    }

    /// @inheritdoc ITrainingRegistry
    function readerKeys() external view returns (address[] memory accounts, bytes[] memory publicKeys) {
        accounts = _readers.values();
        publicKeys = new bytes[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            publicKeys[i] = _readerKeys[accounts[i]];
        }
    }

    /// @notice ERC-165: AccessControl's interfaces plus ITrainingRegistry.
    /// @param interfaceId The ERC-165 identifier.
    /// @return Whether the contract implements it.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ITrainingRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internal

    /// @dev AGGREGATOR_ROLE has exactly one holder, set by `appointAggregator`; plain
    /// `grantRole` for it is refused so the role and `aggregator()` never disagree.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == AGGREGATOR_ROLE && account != _aggregator) revert RegistryAggregatorRoleManaged(account);
        return super._grantRole(role, account);
    }

    /// @dev Revoking (or renouncing) the appointed aggregator's role leaves no aggregator, logged.
    /// An account left with neither reader role (aggregator, auditor) loses its listed reader key.
    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        bool revoked = super._revokeRole(role, account);
        if (revoked && role == AGGREGATOR_ROLE && account == _aggregator) {
            _aggregator = address(0);
            emit AggregatorAppointed(account, address(0));
        }
        if (
            revoked && (role == AGGREGATOR_ROLE || role == AUDITOR_ROLE) && !hasRole(AGGREGATOR_ROLE, account)
                && !hasRole(AUDITOR_ROLE, account) && _readers.remove(account)
        ) {
            delete _readerKeys[account];
            emit ReaderKeyRemoved(account);
        }
        return revoked;
    }

    function _requireBond(address account) private view {
        uint256 required = _aggregatorBond;
        uint256 held = _bonds[account];
        if (held < required) revert RegistryBondInsufficient(account, required, held);
    }

    function _setParameters(Params memory p) private {
        _minStake = p.minStake;
        _rewardPerRound = p.rewardPerRound;
        _challengeWindow = p.challengeWindow;
        _challengeBond = p.challengeBond;
        _aggregatorBond = p.aggregatorBond;
        _missedRevealPenalty = p.missedRevealPenalty;
        _admissionRequired = p.admissionRequired;
        emit ParametersSet(
            p.minStake,
            p.rewardPerRound,
            p.challengeWindow,
            p.challengeBond,
            p.aggregatorBond,
            p.missedRevealPenalty,
            p.admissionRequired
        );
    }

    /// @dev A round's lifecycle status: stored from finalization on, derived from its schedule before.
    function _statusOf(Round storage r) private view returns (RoundStatus) {
        RoundStatus settlement = r.settlement;
        if (settlement != RoundStatus.None) return settlement;
        return r.commitDeadline == 0 ? RoundStatus.None : RoundStatus.Open;
    }

    function _activeMember(address account) private view returns (Member memory m) {
        m = _members[account];
        if (!m.registered || m.removed) revert RegistryNotParticipant(account);
    }
}
