"""Turning an audit finding into an on-chain challenge.

`submit_challenge` stores the audit JSON (the evidence) in the content store and calls the
registry's `challenge(round, evidenceCID)` from the auditor's own account, which deposits
the challenge bond (approved first when the allowance is short). From then on the
round's claims revert with `RegistryClaimsFrozen` until governance resolves it. Every
refusal the contract would make is checked first, so the auditor gets a sentence that
says what to do instead of a revert, and spends no gas on a challenge that cannot land.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.crypto import keccak

from ledger.audit.result import AuditReport
from ledger.chain.base import TxSigner
from ledger.contracts.deploy import Network
from ledger.contracts.registry import AUDITOR_ROLE, RoundStatus
from ledger.errors import FedLedgerError
from ledger.store.base import ContentStore


class ChallengeRefused(FedLedgerError):
    """The challenge cannot be made (wrong status, window closed, no right, no bond)."""


@dataclass(frozen=True)
class ChallengeSubmitted:
    """A challenge that landed: the round, the evidence, the bond and the transaction."""

    round: int
    evidence_cid: str
    evidence_hash: bytes
    bond: int
    tx_hash: bytes


def submit_challenge(network: Network, store: ContentStore, signer: TxSigner,
                     report: AuditReport, round_: int) -> ChallengeSubmitted:
    """Challenge `round_` with `report` as evidence, paying the bond from `signer`."""
    registry, token = network.registry, network.token
    audited = report.round(round_)
    if audited.verdict.value != "mismatch":
        raise ChallengeRefused(f"round {round_} audited {audited.verdict.value}: only a "
                               "mismatch is evidence for a challenge")
    info = registry.round_info(round_)
    if info.status is not RoundStatus.FINALIZED:
        raise ChallengeRefused(f"round {round_} is {info.status.name.lower()} on chain; only a "
                               "finalized round can be challenged")
    now = network.backend.now()
    if now >= info.claimable_at:
        raise ChallengeRefused(f"round {round_}'s challenge window closed at {info.claimable_at} "
                               f"(chain time {now})")
    member = registry.participant(signer.address)
    if not member.active and not registry.has_role(AUDITOR_ROLE, signer.address):
        raise ChallengeRefused(f"{signer.address} is neither an active participant nor holds "
                               "AUDITOR_ROLE: ask governance for the auditor role")
    bond = registry.parameters().challenge_bond
    balance = token.balance_of(signer.address)
    if balance < bond:
        raise ChallengeRefused(f"the challenge bond is {bond} base units, {signer.address} holds "
                               f"{balance}")
    evidence = report.to_json_bytes()
    cid = store.put_bytes(evidence)
    if bond and token.allowance(signer.address, registry.address) < bond:
        token.approve(registry.address, bond, sender=signer)
    receipt = registry.challenge(round_, cid, sender=signer)
    return ChallengeSubmitted(round_, cid, keccak(evidence), bond,
                              bytes(receipt["transactionHash"]))
