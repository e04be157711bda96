// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRewardToken} from "./IRewardToken.sol";

/// @title ITrainingRegistry
/// @notice The on-chain record of a fedledger network: who participates, which model each round
/// starts from, who committed and revealed which update, the aggregator's result and the rewards
/// root, and the challenges raised against it.
/// @dev Storage keeps what the contract itself must check later (hashes, deadlines, roots,
/// amounts) plus the one string participants must read to start a round (the round's model CID).
/// Everything else (update, proof, new-model, report and evidence CIDs, sample counts) lives only
/// in the events below, which are the audit trail. Rounds are strictly sequential, and a round
/// opens only once its predecessor is settled (finalized and past its challenge window), so an
/// upheld challenge can reopen a round for re-finalization without invalidating later rounds.
/// Every DEFAULT_ADMIN_ROLE function is meant for the consortium's timelock (ConsortiumTimelock,
/// driven by ConsortiumGovernor): deployment hands that role to the timelock and nobody else.
interface ITrainingRegistry {
    // ------------------------------------------------------------------ types

    /// @notice Where a round is in its lifecycle.
    /// None: never opened. Open: accepting commits, then reveals, then awaiting (re-)finalization.
    /// Finalized: result published, claims open once the challenge window has passed.
    /// Challenged: a challenge is pending, claims are frozen. An upheld challenge returns the round
    /// to Open (its result erased) so the aggregator finalizes it again from the same reveals.
    enum RoundStatus {
        None,
        Open,
        Finalized,
        Challenged
    }

    /// @notice Governance-set economics of the network.
    /// @param minStake Least stake (token base units) `register` accepts; 0 admits stake-free members.
    /// @param rewardPerRound Most a single round may ever pay out in rewards.
    /// @param challengeWindow Seconds after finalization during which the round can be challenged.
    /// @param challengeBond Tokens a challenger must deposit; returned if the challenge is upheld.
    /// @param aggregatorBond Least bond the aggregator must hold to open and finalize rounds; what an
    /// upheld challenge slashes (half to the challenger, the rest to the treasury).
    /// @param missedRevealPenalty Stake anyone may have slashed from a participant that committed
    /// in a round and did not reveal by its deadline (capped at the remaining stake).
    /// @param admissionRequired Whether `register` is limited to accounts governance admitted.
    struct Params {
        uint128 minStake;
        uint96 rewardPerRound;
        uint64 challengeWindow;
        uint96 challengeBond;
        uint96 aggregatorBond;
        uint96 missedRevealPenalty;
        bool admissionRequired;
    }

    /// @notice Everything the registry stores about one round.
    /// @dev The new-model and report CIDs are not stored: read them from `RoundFinalized`.
    /// `aggregator` is who opened the round, then who finalized it: its bond answers for the result.
    /// The next round's `modelCID` repeats the new model's CID.
    struct RoundInfo {
        RoundStatus status;
        string modelCID;
        bytes32 modelHash;
        bytes32 taskHash;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint32 commitCount;
        uint32 revealCount;
        bytes32 newModelHash;
        bytes32 reportHash;
        bytes32 rewardsRoot;
        uint256 totalReward;
        uint256 claimedReward;
        uint64 claimableAt;
        address challenger;
        uint256 challengeBond;
        address aggregator;
    }

    // ----------------------------------------------------------------- errors

    /// @notice An address argument that must name an account was the zero address.
    error RegistryZeroAddress();
    /// @notice A hash argument that must name content was zero.
    error RegistryZeroHash();
    /// @notice A CID argument that must name content was empty.
    error RegistryEmptyCID();
    /// @notice A revealed CID is longer than any real CID (`maxLength` bytes); round reports
    /// and audits must be able to carry every revealed CID.
    error RegistryCIDTooLong(uint256 length, uint256 maxLength);
    /// @notice `account` is already a registered participant.
    error RegistryAlreadyRegistered(address account);
    /// @notice `account` was removed by governance and cannot register or be removed again.
    error RegistryParticipantRemoved(address account);
    /// @notice The offered stake is below the governance minimum.
    error RegistryStakeTooLow(uint256 stake, uint256 minStake);
    /// @notice `account` is not an active (registered and not removed) participant.
    error RegistryNotParticipant(address account);
    /// @notice No task is set: the first round cannot open before governance calls `setTask`.
    error RegistryTaskNotSet();
    /// @notice Rounds open in order: `round` was requested but `expected` is next.
    error RegistryUnexpectedRound(uint64 round, uint64 expected);
    /// @notice The call is not allowed while `round` is in `status`.
    error RegistryUnexpectedStatus(uint64 round, RoundStatus status);
    /// @notice Deadlines must satisfy `currentTime < commitDeadline < revealDeadline`.
    error RegistryInvalidDeadlines(uint64 commitDeadline, uint64 revealDeadline, uint64 currentTime);
    /// @notice A round must start from the model its predecessor ended with (or started from, if voided).
    error RegistryModelMismatch(uint64 round, bytes32 expected, bytes32 provided);
    /// @notice The commit phase of `round` ended at `commitDeadline`.
    error RegistryCommitClosed(uint64 round, uint64 commitDeadline);
    /// @notice `account` already committed in `round`.
    error RegistryAlreadyCommitted(uint64 round, address account);
    /// @notice Reveals for `round` are accepted only after `commitDeadline`.
    error RegistryRevealNotOpen(uint64 round, uint64 commitDeadline);
    /// @notice The reveal phase of `round` ended at `revealDeadline`.
    error RegistryRevealClosed(uint64 round, uint64 revealDeadline);
    /// @notice `account` has no commitment in `round` to reveal.
    error RegistryNotCommitted(uint64 round, address account);
    /// @notice `account` already revealed in `round`.
    error RegistryAlreadyRevealed(uint64 round, address account);
    /// @notice The revealed values do not hash to the commitment `account` made in `round`.
    error RegistryCommitmentMismatch(uint64 round, address account);
    /// @notice A reveal must claim at least one training sample.
    error RegistryNoSamples(uint64 round, address account);
    /// @notice `round` can be finalized only after its `revealDeadline`.
    error RegistryRevealNotOver(uint64 round, uint64 revealDeadline);
    /// @notice `totalReward` exceeds the governance cap `rewardPerRound`.
    error RegistryRewardAboveCap(uint256 totalReward, uint256 rewardPerRound);
    /// @notice Claims for `round` open at `claimableAt`.
    error RegistryClaimNotOpen(uint64 round, uint64 claimableAt);
    /// @notice `round` is challenged: claims wait for governance to resolve the challenge.
    error RegistryClaimsFrozen(uint64 round);
    /// @notice `account` already claimed its reward for `round`.
    error RegistryAlreadyClaimed(uint64 round, address account);
    /// @notice The proof does not place `(account, round, amount)` under the round's rewards root.
    error RegistryInvalidProof(uint64 round, address account, uint256 amount);
    /// @notice Paying `amount` would exceed what `round` declared as its total reward.
    error RegistryRewardExhausted(uint64 round, uint256 amount, uint256 remaining);
    /// @notice The challenge window of `round` closed at `claimableAt`.
    error RegistryChallengeWindowClosed(uint64 round, uint64 claimableAt);
    /// @notice Only active participants and AUDITOR_ROLE holders may challenge.
    error RegistryUnauthorizedChallenger(address account);
    /// @notice AGGREGATOR_ROLE is granted only through `appointAggregator`.
    error RegistryAggregatorRoleManaged(address account);
    /// @notice `amount` exceeds the `stake` `account` has left.
    error RegistrySlashTooLarge(address account, uint256 amount, uint256 stake);
    /// @notice `amount` exceeds the forfeited bonds and slashed stakes held as treasury.
    error RegistryTreasuryInsufficient(uint256 amount, uint256 available);
    /// @notice Registration requires admission by governance, and `account` was not admitted.
    error RegistryNotAdmitted(address account);
    /// @notice `account` is already admitted (and not removed).
    error RegistryAlreadyAdmitted(address account);
    /// @notice `account` holds a bond of `available`, less than the `required` amount.
    error RegistryBondInsufficient(address account, uint256 required, uint256 available);
    /// @notice `account` is the appointed aggregator: its bond backs the rounds it runs.
    error RegistryBondInUse(address account);
    /// @notice `account`'s bond backs `round`, which is not settled yet (open, challenged, or inside
    /// its challenge window).
    error RegistryBondLocked(address account, uint64 round);
    /// @notice `round` cannot open before its predecessor settles at `claimableAt` (end of its
    /// challenge window, unchallenged).
    error RegistryPreviousRoundUnsettled(uint64 round, uint64 claimableAt);
    /// @notice `account` has no unrevealed commitment in `round` that can still be slashed.
    error RegistryNothingToSlash(uint64 round, address account);
    /// @notice Only the aggregator and AUDITOR_ROLE holders register reader keys.
    error RegistryNotReader(address account);
    /// @notice A reader key must be a 64-byte uncompressed secp256k1 public key (x || y).
    error RegistryInvalidReaderKey(uint256 length);
    /// @notice The public key does not belong to the caller: it derives `derived`, not `account`.
    error RegistryReaderKeyMismatch(address account, address derived);

    // ----------------------------------------------------------------- events

    /// @notice `account` joined with `stake` tokens deposited.
    event ParticipantRegistered(address indexed account, uint256 stake);
    /// @notice Governance removed `account`; its stake stays deposited (slashable).
    event ParticipantRemoved(address indexed account);
    /// @notice Governance admitted `account` (lifting an earlier removal, if any).
    event ParticipantAdmitted(address indexed account);
    /// @notice `account` committed in `round` and did not reveal: `amount` of its stake went to the
    /// treasury (also logged as ParticipantSlashed).
    event UnrevealedCommitSlashed(uint64 indexed round, address indexed account, uint256 amount);
    /// @notice Governance moved `amount` of `account`'s stake to the treasury.
    event ParticipantSlashed(address indexed account, uint256 amount, uint256 remainingStake);
    /// @notice The task spec (model architecture, rule, hyper-parameters) in force from the next round.
    event TaskSet(bytes32 indexed taskHash, string taskCID);
    /// @notice Governance changed the network's economics.
    event ParametersSet(
        uint128 minStake,
        uint96 rewardPerRound,
        uint64 challengeWindow,
        uint96 challengeBond,
        uint96 aggregatorBond,
        uint96 missedRevealPenalty,
        bool admissionRequired
    );
    /// @notice The aggregator changed from `previous` to `current` (either may be the zero address).
    event AggregatorAppointed(address indexed previous, address indexed current);
    /// @notice Round `round` opened from model `modelCID`/`modelHash` under task `taskHash`.
    event RoundOpened(
        uint64 indexed round,
        string modelCID,
        bytes32 modelHash,
        bytes32 taskHash,
        uint64 commitDeadline,
        uint64 revealDeadline
    );
    /// @notice `participant` bound itself to an update in `round` without showing it.
    event UpdateCommitted(uint64 indexed round, address indexed participant, bytes32 commitment);
    /// @notice `participant` opened its commitment in `round`: this event is the only record of the CIDs.
    event UpdateRevealed(
        uint64 indexed round,
        address indexed participant,
        string updateCID,
        bytes32 updateHash,
        string proofCID,
        bytes32 proofHash,
        uint64 numSamples
    );
    /// @notice The aggregator published the result of `round`; this event is the only record of the CIDs.
    event RoundFinalized(
        uint64 indexed round,
        string newModelCID,
        bytes32 newModelHash,
        string reportCID,
        bytes32 reportHash,
        bytes32 rewardsRoot,
        uint256 totalReward,
        uint64 claimableAt
    );
    /// @notice `amount` reward tokens for `round` were minted to `account`.
    event RewardClaimed(uint64 indexed round, address indexed account, uint256 amount);
    /// @notice `challenger` disputed `round` with the evidence at `evidenceCID`, depositing `bond`.
    event RoundChallenged(uint64 indexed round, address indexed challenger, string evidenceCID, uint256 bond);
    /// @notice Governance resolved the challenge against `round`: upheld reopens the round, else claims resume.
    event ChallengeResolved(uint64 indexed round, bool upheld);
    /// @notice A rejected challenge: `challenger`'s `bond` for `round` went to the treasury.
    event ChallengeBondForfeited(uint64 indexed round, address indexed challenger, uint256 bond);
    /// @notice An upheld challenge against `round` took `amount` of `aggregator`'s bond:
    /// `toChallenger` to the challenger, the rest to the treasury.
    event AggregatorBondSlashed(
        address indexed aggregator, uint64 indexed round, uint256 amount, uint256 toChallenger, uint256 remaining
    );
    /// @notice `round`'s result was erased by an upheld challenge; the aggregator must finalize it again.
    event RoundReopened(uint64 indexed round);
    /// @notice `account` deposited `amount` as aggregator bond, holding `total` now.
    event AggregatorBondPosted(address indexed account, uint256 amount, uint256 total);
    /// @notice `account` withdrew `amount` of its aggregator bond, holding `total` now.
    event AggregatorBondWithdrawn(address indexed account, uint256 amount, uint256 total);
    /// @notice Reader `account` (aggregator or auditor) published the secp256k1 public key that
    /// participants encrypt updates to.
    event ReaderKeyRegistered(address indexed account, bytes publicKey);
    /// @notice `account` lost its reader role: its key is no longer listed.
    event ReaderKeyRemoved(address indexed account);
    /// @notice Governance paid `amount` out of the treasury to `to`.
    event TreasuryWithdrawn(address indexed to, uint256 amount);

    // ------------------------------------------------------------------ roles

    /// @notice The role of the one appointed aggregator: `keccak256("AGGREGATOR_ROLE")`.
    /// @return The role identifier.
    function AGGREGATOR_ROLE() external view returns (bytes32);

    /// @notice The role of auditors, who may challenge without being participants:
    /// `keccak256("AUDITOR_ROLE")`.
    /// @return The role identifier.
    function AUDITOR_ROLE() external view returns (bytes32);

    // ------------------------------------------------------------- governance

    /// @notice Publishes the task spec applied to every round opened from now on.
    /// @dev DEFAULT_ADMIN_ROLE only. Each round records the task hash in force when it opened.
    /// @param taskHash keccak256 of the task spec's bytes.
    /// @param taskCID The CID of the task spec.
    function setTask(bytes32 taskHash, string calldata taskCID) external;

    /// @notice Replaces the network's economics; applies to calls made from now on.
    /// @dev DEFAULT_ADMIN_ROLE only. A round already finalized keeps its claimableAt.
    /// @param p The new parameters.
    function setParameters(Params calldata p) external;

    /// @notice Makes `account` the one holder of AGGREGATOR_ROLE, revoking the previous holder.
    /// @dev DEFAULT_ADMIN_ROLE only. Revoking AGGREGATOR_ROLE (or its renouncing) leaves no aggregator.
    /// @param account The new aggregator (not the zero address).
    function appointAggregator(address account) external;

    /// @notice Bars `account` from committing, revealing and challenging; its stake stays deposited.
    /// @dev DEFAULT_ADMIN_ROLE only. Also withdraws an admission not yet used to register.
    /// @param account An active participant, or an admitted account.
    function removeParticipant(address account) external;

    /// @notice Admits `account`: it may register when `admissionRequired`, and a removed participant
    /// becomes active again with the stake it has left.
    /// @dev DEFAULT_ADMIN_ROLE only.
    /// @param account Any account not currently admitted.
    function admitParticipant(address account) external;

    /// @notice Moves `amount` of `account`'s stake to the treasury (e.g. it committed without revealing).
    /// @dev DEFAULT_ADMIN_ROLE only. Works on removed participants too.
    /// @param account A registered participant.
    /// @param amount Base units to take, at most the remaining stake.
    function slash(address account, uint256 amount) external;

    /// @notice Decides the pending challenge of `round`.
    /// @dev DEFAULT_ADMIN_ROLE only. Upheld: the challenger's bond goes back to it, the finalizing
    /// aggregator's bond is slashed by up to `aggregatorBond` (half to the challenger, the rest to
    /// the treasury) and the round returns to Open with its result erased, to be finalized again.
    /// Rejected: the challenger's bond goes to the treasury and the round returns to Finalized.
    /// @param roundId A round in status Challenged.
    /// @param upheld Whether the challenger was right.
    function resolveChallenge(uint64 roundId, bool upheld) external;

    /// @notice Pays `amount` of forfeited bonds and slashed stakes to `to`.
    /// @dev DEFAULT_ADMIN_ROLE only.
    /// @param to The receiver (not the zero address).
    /// @param amount Base units, at most `treasury()`.
    function withdrawTreasury(address to, uint256 amount) external;

    // ------------------------------------------------------------ participants

    /// @notice Joins the network, depositing `stake` tokens (approve them to the registry first).
    /// @param stake Base units to deposit, at least `parameters().minStake`.
    function register(uint256 stake) external;

    /// @notice Binds the caller to an update for `round` without revealing it.
    /// @dev Only active participants, while `round` is Open and `block.timestamp <= commitDeadline`, once.
    /// @param roundId The open round.
    /// @param commitment keccak256(abi.encode(round, participant, updateHash, proofHash, salt)).
    function commit(uint64 roundId, bytes32 commitment) external;

    /// @notice Opens the caller's commitment for `round` and publishes where the update and proof are.
    /// @dev Only the committer, once, while `commitDeadline < block.timestamp <= revealDeadline`.
    /// @param roundId The round committed to.
    /// @param updateCID CID of the update (safetensors).
    /// @param updateHash keccak256 of the update's bytes.
    /// @param proofCID CID of the contribution proof (JSON).
    /// @param proofHash keccak256 of the proof's bytes.
    /// @param numSamples Number of local training examples claimed (> 0).
    /// @param salt The secret mixed into the commitment.
    function reveal(
        uint64 roundId,
        string calldata updateCID,
        bytes32 updateHash,
        string calldata proofCID,
        bytes32 proofHash,
        uint64 numSamples,
        bytes32 salt
    ) external;

    /// @notice Mints `account`'s reward for `round` to `account`; anyone may submit the proof.
    /// @dev Leaf = keccak256(bytes.concat(keccak256(abi.encode(account, round, amount)))) (OpenZeppelin
    /// StandardMerkleTree, types address,uint64,uint256). Only when `round` is Finalized and
    /// `block.timestamp >= claimableAt`, once per (round, account).
    /// @param roundId A finalized round.
    /// @param account The rewarded account; receives the tokens.
    /// @param amount The reward in base units, as in the tree.
    /// @param proof The Merkle proof of the leaf.
    function claim(uint64 roundId, address account, uint256 amount, bytes32[] calldata proof) external;

    /// @notice Slashes `parameters().missedRevealPenalty` (at most the remaining stake) from `account`,
    /// which committed in `round` and did not reveal; anyone may call it.
    /// @dev Only after `round`'s reveal deadline, once, and while the commitment is still the
    /// participant's latest (before it commits in a later round). The amount goes to the treasury.
    /// @param roundId The round of the unrevealed commitment.
    /// @param account The participant.
    function slashUnrevealed(uint64 roundId, address account) external;

    /// @notice Registers the caller's secp256k1 public key as a reader of encrypted updates.
    /// @dev Only the aggregator and AUDITOR_ROLE holders. The key must derive the caller's address
    /// (`address(uint160(uint256(keccak256(publicKey)))) == msg.sender`). Replaces an earlier key.
    /// @param publicKey 64 bytes: the uncompressed point without its 0x04 prefix (x || y).
    function registerReaderKey(bytes calldata publicKey) external;

    /// @notice Deposits `amount` tokens as the caller's aggregator bond (approve them first).
    /// @param amount Base units to add.
    function postAggregatorBond(uint256 amount) external;

    /// @notice Withdraws `amount` of the caller's aggregator bond.
    /// @dev Not while the caller is the appointed aggregator, nor while the latest round, which it
    /// ran, is unsettled (open, challenged, or inside its challenge window).
    /// @param amount Base units, at most the bond.
    function withdrawAggregatorBond(uint256 amount) external;

    /// @notice Disputes the result of `round`, depositing `parameters().challengeBond` (approve it first).
    /// @dev Active participants and AUDITOR_ROLE holders; `round` Finalized and
    /// `block.timestamp < claimableAt`. Freezes claims until `resolveChallenge`.
    /// @param roundId A finalized round inside its challenge window.
    /// @param evidenceCID CID of the evidence (e.g. an audit verdict).
    function challenge(uint64 roundId, string calldata evidenceCID) external;

    // -------------------------------------------------------------- aggregator

    /// @notice Opens round `round` from the model at `modelCID` under the current task.
    /// @dev AGGREGATOR_ROLE only, holding at least `aggregatorBond`. `round == nextRound()`; the
    /// previous round is Finalized and its challenge window is over (`block.timestamp >=
    /// claimableAt`), and `modelHash` equals its new model; a task is set;
    /// `block.timestamp < commitDeadline < revealDeadline`.
    /// @param roundId The round number.
    /// @param modelCID CID of the global model participants train from (stored: participants read it).
    /// @param modelHash keccak256 of that model's bytes.
    /// @param commitDeadline Last timestamp at which commits are accepted.
    /// @param revealDeadline Last timestamp at which reveals are accepted.
    function openRound(
        uint64 roundId,
        string calldata modelCID,
        bytes32 modelHash,
        uint64 commitDeadline,
        uint64 revealDeadline
    ) external;

    /// @notice Publishes the result of `round`: new model, report and rewards root.
    /// @dev AGGREGATOR_ROLE only, holding at least `aggregatorBond` (locked until the round settles);
    /// after `revealDeadline`; once (again after an upheld challenge). Gas does not depend on the number of
    /// participants. Nothing is minted here: each reward is minted when claimed, so a voided round
    /// never inflates the supply.
    /// @param roundId The open round.
    /// @param newModelCID CID of the aggregated model (logged only).
    /// @param newModelHash keccak256 of the aggregated model's bytes.
    /// @param reportCID CID of the round report (logged only).
    /// @param reportHash keccak256 of the report's bytes.
    /// @param rewardsRoot Root of the StandardMerkleTree of (account, round, amount).
    /// @param totalReward Sum of the tree's amounts; at most `parameters().rewardPerRound`.
    function finalizeRound(
        uint64 roundId,
        string calldata newModelCID,
        bytes32 newModelHash,
        string calldata reportCID,
        bytes32 reportHash,
        bytes32 rewardsRoot,
        uint256 totalReward
    ) external;

    // ------------------------------------------------------------------- views

    /// @notice The stored record of `round` (CIDs other than the model's are in events only).
    /// @param roundId Any round number; unopened rounds read as status None.
    /// @return info The round's record.
    function round(uint64 roundId) external view returns (RoundInfo memory info);

    /// @notice The number the next `openRound` must use (0 before any round).
    /// @return The next round number.
    function nextRound() external view returns (uint64);

    /// @notice The commitment `account` made in `round`.
    /// @dev Only the participant's latest committed round is kept in storage; for older rounds this
    /// returns zero and the `UpdateCommitted` event is the record.
    /// @param roundId The round.
    /// @param account The participant.
    /// @return The commitment, or zero.
    function commitmentOf(uint64 roundId, address account) external view returns (bytes32);

    /// @notice Whether `account` revealed in `round` (latest committed round only, as `commitmentOf`).
    /// @param roundId The round.
    /// @param account The participant.
    /// @return True once the reveal is accepted.
    function hasRevealed(uint64 roundId, address account) external view returns (bool);

    /// @notice Whether `account`'s reward for `round` was claimed.
    /// @param roundId The round.
    /// @param account The rewarded account.
    /// @return True once claimed.
    function isClaimed(uint64 roundId, address account) external view returns (bool);

    /// @notice Membership of `account`.
    /// @param account Any address.
    /// @return registered Whether it ever registered.
    /// @return removed Whether governance removed it.
    /// @return stake Its deposited stake after slashing.
    function participant(address account) external view returns (bool registered, bool removed, uint256 stake);

    /// @notice The task spec in force for rounds opened from now on.
    /// @return hash keccak256 of the task spec (zero before `setTask`).
    /// @return cid The task spec's CID.
    function task() external view returns (bytes32 hash, string memory cid);

    /// @notice The current economics.
    /// @return The parameters.
    function parameters() external view returns (Params memory);

    /// @notice The reward and staking token.
    /// @return The token contract.
    function token() external view returns (IRewardToken);

    /// @notice The current aggregator (zero if none).
    /// @return The AGGREGATOR_ROLE holder.
    function aggregator() external view returns (address);

    /// @notice Forfeited bonds and slashed stakes held by the registry and not yet withdrawn.
    /// @return Base units.
    function treasury() external view returns (uint256);

    /// @notice Whether governance admitted `account` (and did not remove it since).
    /// @param account Any address.
    /// @return True when admitted.
    function isAdmitted(address account) external view returns (bool);

    /// @notice The aggregator bond `account` holds.
    /// @param account Any address.
    /// @return Base units deposited and not slashed or withdrawn.
    function aggregatorBondOf(address account) external view returns (uint256);

    /// @notice The registered reader key of `account` (empty if none).
    /// @param account Any address.
    /// @return The 64-byte public key.
    function readerKeyOf(address account) external view returns (bytes memory);

    /// @notice Every current reader (aggregator, auditors) with a registered key, and the keys.
    /// @return accounts The readers, in registration order (a removal moves the last one into its place).
    /// @return publicKeys Their 64-byte public keys, index for index.
    function readerKeys() external view returns (address[] memory accounts, bytes[] memory publicKeys);
}
