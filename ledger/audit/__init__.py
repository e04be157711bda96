"""The auditor: re-derives every round of a network from chain events and content hashes.

`Auditor(network, store, rules).audit()` returns an `AuditReport` (verdict per round and
overall, findings with stable codes, the history); `render_html`, `render_terminal` and
`AuditReport.to_json_bytes` present it; `submit_challenge` turns a finding into an
on-chain challenge. The aggregation code the audit re-runs comes in through `AuditRules`.
"""

from ledger.audit.findings import Finding, FindingKind, Verdict
from ledger.audit.result import AUDIT_FORMAT, AuditReport, ClaimView, RoundAudit, SubmissionView
from ledger.audit.rules import AuditRules, RoundRecompute
from ledger.audit.verifier import Auditor

__all__ = [
    "AUDIT_FORMAT",
    "AuditReport",
    "AuditRules",
    "Auditor",
    "ClaimView",
    "Finding",
    "FindingKind",
    "RoundAudit",
    "RoundRecompute",
    "SubmissionView",
    "Verdict",
]
