"""A real round 0 on a real chain, and an aggregator that can be told to lie about it.

`build_history` deploys a network governed by a one-member consortium (Governor +
timelock; the deployer keeps no admin role), with a bonded aggregator (holding the tokens
for a second bond, to re-post after an upheld challenge) and an auditor that
holds AUDITOR_ROLE and exactly one challenge bond. It publishes a tiny task (9 parameters,
FedAvg) and runs round 0 up to the end of its reveal window with seven participants whose
roles make every lie possible:

- four honest participants who commit and reveal properly signed updates;
- `unrevealed`: commits and never reveals (its update and proof are in the store);
- `late`: commits, then tries to reveal after the window (the contract refuses it);
- `forger`: reveals an update whose proof is signed by someone else's key.

`LyingAggregator.finalize(...)` then finalizes the round the way an honest aggregator would
(`compute_round` over the checked reveals), with one lie applied: other checks, other
published model, other report fields, other chain values. Everything it publishes goes
through the store and the real contract, so the auditor sees exactly what a real lying
aggregator would leave behind. Works on any test chain (embedded or anvil).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import torch
from eth_utils.crypto import keccak

from aggregator.rewards import allocate_rewards
from aggregator.round_compute import RoundOutcome, compute_round
from ledger.chain.base import TestChainBackend
from ledger.contracts.deploy import (
    Network,
    deploy_governance,
    deploy_network,
    enroll_participants,
    hand_over,
)
from ledger.contracts.devgov import enact
from ledger.contracts.governance import Governance, GovernanceParams
from ledger.contracts.proposals import RegistryActions
from ledger.contracts.registry import AUDITOR_ROLE, RegistryParams, commitment
from ledger.contracts.token import MINTER_ROLE
from ledger.errors import ContractRevert
from ledger.formats.layout import ParameterLayout
from ledger.formats.model import encode_model
from ledger.formats.proof import ContributionProof, ProofFields, sign_proof
from ledger.formats.report import REPORT_DECIMALS, RoundReport, SubmissionRecord, rewards_root
from ledger.formats.task import TaskSpec, TrainingConfig
from ledger.formats.update import encode_update
from ledger.keys import Signer
from ledger.merkle import StandardMerkleTree
from ledger.store.base import ContentStore
from ledger.submissions import RevealedSubmission, SubmissionCheck, check_submission
from ledger.weights import weights_hash

TOKEN = 10**18
POOL = 1_000 * TOKEN
AGGREGATOR_BOND = 50 * TOKEN
#: Economics without an aggregator bond (other audit tests deploy their own networks with it).
PARAMS = RegistryParams(min_stake=0, reward_per_round=POOL, challenge_window=3_600,
                        challenge_bond=5 * TOKEN)
#: `build_history`'s economics: the aggregator is bonded, so an upheld challenge slashes it.
GOVERNED_PARAMS = replace(PARAMS, aggregator_bond=AGGREGATOR_BOND)
LAYOUT = ParameterLayout.from_state_dict({"fc.weight": torch.zeros(3, 2),
                                          "fc.bias": torch.zeros(3)})
TRAINING = TrainingConfig(epochs=1, batch_size=8, lr=Decimal("0.1"), momentum=Decimal(0),
                          proximal_mu=Decimal(0), seed_policy="participant_round", seed=1)
INITIAL = torch.linspace(-1.0, 1.0, LAYOUT.numel, dtype=torch.float32)


def make_task() -> TaskSpec:
    """FedAvg over a 9-parameter layout, pool `POOL` per round."""
    return TaskSpec(
        task_id="audit-tamper-v1", name="Auditor tamper tests", dataset="digits", model="mlp",
        model_kwargs={}, layout=LAYOUT, initial_model_hash=weights_hash(INITIAL),
        aggregation_rule="fedavg", aggregation_params={}, fixed_point_bits=24,
        update_norm_bound=Decimal(10), training=TRAINING, rounds=3, reward_per_round=POOL,
        commit_seconds=600, reveal_seconds=600, score_method="cosine",
        software_version="0.1.0",
    )


@dataclass(frozen=True)
class Prepared:
    """One participant's update and proof as stored, and the salt of its commitment."""

    signer: Signer
    update_cid: str
    update_hash: bytes
    proof_cid: str
    proof_hash: bytes
    num_samples: int
    salt: bytes

    def as_reveal(self, round_: int = 0) -> RevealedSubmission:
        return RevealedSubmission(round_, self.signer.address, self.update_cid, self.update_hash,
                                  self.proof_cid, self.proof_hash, self.num_samples)


@dataclass
class History:
    """Round 0 after its reveal window, and who played which part."""

    backend: TestChainBackend
    network: Network
    store: ContentStore
    task: TaskSpec
    admin: Signer
    aggregator: Signer
    auditor: Signer
    honest: list[Prepared]
    unrevealed: Prepared
    late: Prepared
    forger: Prepared
    accomplice: Signer
    governance: Governance
    base_cid: str = ""
    base_hash: bytes = b""

    def resolve(self, upheld: bool) -> None:
        """The consortium resolves round 0's challenge by proposal, vote, timelock, execution."""
        enact(self.backend, self.governance,
              [RegistryActions(self.network.registry).resolve_challenge(0, upheld)],
              proposer=self.admin, voters=[self.admin])


def _delta(index: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(100 + index)
    return (torch.randn(LAYOUT.numel, generator=generator) * 0.1).to(torch.float32)


def _prepare(history_parts: dict[str, object], signer: Signer, index: int,
             proof_key: Signer | None = None) -> Prepared:
    network: Network = history_parts["network"]  # type: ignore[assignment]
    store: ContentStore = history_parts["store"]  # type: ignore[assignment]
    task: TaskSpec = history_parts["task"]  # type: ignore[assignment]
    base_hash: bytes = history_parts["base_hash"]  # type: ignore[assignment]
    update = encode_update(LAYOUT.unflatten(_delta(index)), 0, base_hash, signer.address,
                           layout=LAYOUT)
    update_hash = keccak(update)
    fields = ProofFields(round=0, participant=signer.address, base_model_hash=base_hash,
                         update_hash=update_hash, num_samples=10 + index,
                         data_commitment=keccak(b"examples of %d" % index),
                         training_config_hash=task.training.config_hash(), metrics={},
                         software_version="0.1.0")
    chain_id, registry = network.info.chain_id, network.registry.address
    if proof_key is None:
        proof = sign_proof(fields, signer.local_account(), chain_id, registry)
    else:  # a forged proof: the right fields, someone else's signature
        signed = proof_key.sign_message(fields.signable(chain_id, registry))
        proof = ContributionProof(fields, chain_id, registry, bytes(signed.signature))
    proof_bytes = proof.canonical_bytes()
    salt = keccak(b"salt %d" % index)
    return Prepared(signer, store.put_bytes(update), update_hash, store.put_bytes(proof_bytes),
                    keccak(proof_bytes), 10 + index, salt)


def build_history(backend: TestChainBackend, store: ContentStore) -> History:
    """Deploy, publish the task, open round 0, commit and reveal; stop after the window."""
    dev = [Signer(account) for account in backend.dev_accounts()]
    admin, aggregator, auditor = dev[0], dev[1], dev[2]
    players, accomplice = dev[3:10], dev[10]
    network = deploy_network(backend, admin, GOVERNED_PARAMS)
    registry, token = network.registry, network.token
    registry.appoint_aggregator(aggregator.address, sender=admin)
    registry.grant_role(AUDITOR_ROLE, auditor.address, sender=admin)
    task = make_task()
    task_bytes = task.canonical_bytes()
    registry.set_task(keccak(task_bytes), store.put_bytes(task_bytes), sender=admin)
    enroll_participants(network, admin, players, stake=0)
    token.grant_role(MINTER_ROLE, admin.address, sender=admin)
    token.mint(auditor.address, PARAMS.challenge_bond, sender=admin)
    token.mint(aggregator.address, 2 * AGGREGATOR_BOND, sender=admin)  # one bond spare
    token.revoke_role(MINTER_ROLE, admin.address, sender=admin)
    token.approve(registry.address, AGGREGATOR_BOND, sender=aggregator)
    registry.post_aggregator_bond(AGGREGATOR_BOND, sender=aggregator)
    governance = deploy_governance(backend, admin, [admin.address], GovernanceParams.dev())
    network = hand_over(network, governance, admin)
    model = encode_model(LAYOUT.unflatten(INITIAL), 0, task.task_hash(), layout=LAYOUT)
    base_cid, base_hash = store.put_bytes(model), keccak(model)
    now = backend.now()
    registry.open_round(0, base_cid, base_hash, now + 600, now + 1_200, sender=aggregator)
    parts = {"network": network, "store": store, "task": task, "base_hash": base_hash}
    prepared = [_prepare(parts, p, i) for i, p in enumerate(players[:6])]
    forger = _prepare(parts, players[6], 6, proof_key=accomplice)
    honest, unrevealed, late = prepared[:4], prepared[4], prepared[5]
    for p in [*prepared, forger]:
        registry.commit(0, commitment(0, p.signer.address, p.update_hash, p.proof_hash, p.salt),
                        sender=p.signer)
    info = registry.round_info(0)
    backend.mine(info.commit_deadline + 1)
    for p in [*honest, forger]:
        registry.reveal(0, p.update_cid, p.update_hash, p.proof_cid, p.proof_hash,
                        p.num_samples, p.salt, sender=p.signer)
    backend.mine(info.reveal_deadline + 1)
    try:
        registry.reveal(0, late.update_cid, late.update_hash, late.proof_cid, late.proof_hash,
                        late.num_samples, late.salt, sender=late.signer)
    except ContractRevert as exc:
        assert exc.error_name == "RegistryRevealClosed"
    else:
        raise AssertionError("the contract accepted a reveal after the reveal deadline")
    return History(backend, network, store, task, admin, aggregator, auditor, honest,
                   unrevealed, late, forger, accomplice, governance, base_cid, base_hash)


@dataclass(frozen=True)
class Published:
    """What the aggregator put on chain and in the store."""

    report: RoundReport
    report_cid: str
    model_cid: str
    rewards_root: bytes
    tree: StandardMerkleTree | None


class LyingAggregator:
    """Finalizes round 0 of a `History`, honestly or with the lies it is given."""

    def __init__(self, history: History) -> None:
        self.h = history

    def check(self, prepared: Prepared) -> SubmissionCheck:
        """`check_submission` of a participant's prepared update, revealed or not."""
        h = self.h
        return check_submission(h.store, prepared.as_reveal(), h.task, h.base_hash,
                                h.network.info.chain_id, h.network.registry.address)

    def honest_checks(self) -> list[SubmissionCheck]:
        """What an honest aggregator checks: exactly the on-chain reveals."""
        h = self.h
        return [check_submission(h.store, RevealedSubmission(
                    ev.round, ev.participant, ev.update_cid, ev.update_hash, ev.proof_cid,
                    ev.proof_hash, ev.num_samples), h.task, h.base_hash,
                    h.network.info.chain_id, h.network.registry.address)
                for ev in h.network.registry.events_update_revealed(round=0)]

    def outcome(self, checks: Sequence[SubmissionCheck] | None = None) -> RoundOutcome:
        return compute_round(self.h.task, INITIAL, self.honest_checks() if checks is None
                             else checks, POOL)

    def finalize(
        self,
        outcome: RoundOutcome | None = None,
        *,
        submissions: Callable[[tuple[SubmissionRecord, ...]], tuple[SubmissionRecord, ...]]
        | None = None,
        model_vector: torch.Tensor | None = None,
        report_hash: bytes | None = None,
        chain_leaves: Callable[[list[tuple[str, int, int]]], list[tuple[str, int, int]]]
        | None = None,
    ) -> Published:
        """Publish round 0's result, applying whichever lies are given."""
        h = self.h
        outcome = self.outcome() if outcome is None else outcome
        subs = outcome.submissions if submissions is None else submissions(outcome.submissions)
        vector = outcome.new_vector if model_vector is None else model_vector
        model = encode_model(LAYOUT.unflatten(vector), 1, h.task.task_hash(), layout=LAYOUT)
        model_cid, model_hash = h.store.put_bytes(model), keccak(model)
        leaves = [(s.participant, 0, s.reward) for s in subs if s.reward > 0]
        report = RoundReport(
            round=0, task_hash=h.task.task_hash(), base_model_hash=h.base_hash, rule="fedavg",
            rule_params={}, decimals=REPORT_DECIMALS, submissions=subs, decision={},
            validation_metrics={"accuracy": 612_500, "loss": 1_250_000},
            new_model_hash=model_hash, new_model_cid=model_cid,
            rewards_root=rewards_root(leaves), total_reward=sum(s.reward for s in subs))
        data = report.canonical_bytes()
        report_cid = h.store.put_bytes(data)
        on_chain = leaves if chain_leaves is None else chain_leaves(list(leaves))
        root = rewards_root(on_chain)
        h.network.registry.finalize_round(
            0, model_cid, model_hash, report_cid, keccak(data) if report_hash is None
            else report_hash, root, report.total_reward, sender=h.aggregator)
        tree = StandardMerkleTree.of([list(x) for x in on_chain], ["address", "uint64", "uint256"]
                                     ) if on_chain else None
        return Published(report, report_cid, model_cid, root, tree)

    def claim(self, published: Published, account: Signer, amount: int) -> None:
        """`account` claims `amount` against the on-chain tree, after the challenge window."""
        h = self.h
        info = h.network.registry.round_info(0)
        if h.backend.now() < info.claimable_at:
            h.backend.mine(info.claimable_at + 1)
        assert published.tree is not None
        proof = published.tree.get_proof([account.address, 0, amount])
        h.network.registry.claim(0, account.address, amount, proof, sender=account)


def reallocate(subs: tuple[SubmissionRecord, ...]) -> tuple[SubmissionRecord, ...]:
    """Rewards re-derived from the (possibly altered) published scores, as the rule says."""
    valid = [s for s in subs if s.verification == "ok"]
    amounts = dict(zip([s.participant for s in valid],
                       allocate_rewards(POOL, [s.score if s.accepted else 0 for s in valid]),
                       strict=True))
    return tuple(replace(s, reward=amounts.get(s.participant, 0)) for s in subs)
