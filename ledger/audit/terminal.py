"""The audit as a readable terminal report (rich tables), verdicts first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ledger.audit.findings import FindingKind, Verdict
from ledger.audit.history_view import participant_totals, rejections, tokens
from ledger.audit.result import AuditReport

_STYLE = {Verdict.VERIFIED: "bold green", Verdict.MISMATCH: "bold red",
          Verdict.UNVERIFIABLE: "bold yellow", Verdict.PENDING: "dim"}


def _short(address: str) -> str:
    return address if len(address) < 14 else f"{address[:8]}…{address[-4:]}"


def render_terminal(report: AuditReport, console: Console) -> None:
    """Print the per-round verdicts, every finding, rejections, rewards, and the verdict."""
    rounds = Table(title=f"Audit of registry {report.registry} (chain {report.chain_id}, "
                         f"up to block {report.head_block})")
    for column in ("round", "status", "verdict", "accuracy", "accepted", "rejected",
                   "total reward", "claimed", "challenges", "findings"):
        rounds.add_column(column, justify="left" if column in ("status", "verdict", "challenges")
                          else "right")
    for r in report.rounds:
        rounds.add_row(
            str(r.round), r.status, f"[{_STYLE[r.verdict]}]{r.verdict.value}[/]",
            "-" if r.accuracy is None else f"{r.accuracy * 100:.2f}%", str(r.accepted),
            str(r.rejected), tokens(r.total_reward), tokens(r.claimed),
            ", ".join(c.outcome for c in r.challenges) or "-", str(len(r.findings)))
    console.print(rounds)

    for finding in report.findings:
        console.print(f"[red]network:[/] {finding}")
    for r in report.rounds:
        for f in r.findings:
            colour = "red" if f.kind is FindingKind.MISMATCH else "yellow"
            console.print(f"[{colour}]round {r.round} {f.kind.value}[/] [bold]{f.code}[/]: "
                          f"{f.message}", highlight=False)

    rejected = rejections(report)
    if rejected:
        table = Table(title="Rejected updates")
        for column in ("round", "participant", "check", "reason"):
            table.add_column(column)
        for item in rejected:
            table.add_row(str(item.round), _short(item.participant), item.verification,
                          item.reason)
        console.print(table)

    totals = participant_totals(report)
    if totals:
        table = Table(title="Rewards per participant (tokens)")
        for column in ("participant", "accepted", "rejected", "awarded", "claimed"):
            table.add_column(column, justify="left" if column == "participant" else "right")
        for t in totals:
            table.add_row(t.participant, str(t.accepted), str(t.rejected), tokens(t.awarded),
                          tokens(t.claimed))
        console.print(table)

    counted = [r for r in report.rounds if r.verdict is not Verdict.PENDING]
    console.print(f"overall verdict: [{_STYLE[report.verdict]}]{report.verdict.value}[/] "
                  f"({len(counted)} rounds audited, "
                  f"{sum(r.verdict is Verdict.MISMATCH for r in counted)} mismatched, "
                  f"{sum(r.verdict is Verdict.UNVERIFIABLE for r in counted)} unverifiable)")
