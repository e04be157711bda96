"""The audit as one self-contained HTML page: verdicts, findings and the history.

No scripts, fonts or stylesheets are fetched from anywhere: the CSS is inline and the two
charts (accuracy per round, rewards per participant) are inline SVG drawn here, so the
page can be archived with the audit JSON and opened offline years later. Every string
that came from the chain or the store is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from ledger.audit.findings import FindingKind, Verdict
from ledger.audit.history_view import accuracy_series, participant_totals, rejections, tokens
from ledger.audit.result import AuditReport, ChallengeView

_COLOURS = {Verdict.VERIFIED: "#1a7f37", Verdict.MISMATCH: "#cf222e",
            Verdict.UNVERIFIABLE: "#9a6700", Verdict.PENDING: "#6e7781"}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;
color:#1f2328;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.85rem;word-break:break-all}
.badge{color:#fff;border-radius:1rem;padding:.1rem .6rem;font-weight:600;font-size:.85rem}
.mismatch{color:#cf222e}.unverifiable{color:#9a6700}
svg text{font-size:11px;fill:#1f2328}
"""


def _badge(verdict: Verdict) -> str:
    return (f'<span class="badge" style="background:{_COLOURS[verdict]}">'
            f"{escape(verdict.value)}</span>")


def _line_chart(points: list[tuple[int, float]], width: int = 640, height: int = 240) -> str:
    """Accuracy (0..100 %) against round, as an SVG polyline with labelled axes."""
    if not points:
        return "<p>No round report states an accuracy.</p>"
    left, right, top, bottom = 48, 16, 16, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = points[0][0], points[-1][0]
    span = max(last - first, 1)

    def x(r: int) -> float:
        return left + (r - first) / span * plot_w if last != first else left + plot_w / 2

    def y(a: float) -> float:
        return top + (1 - a) * plot_h

    parts = [(f'<svg role="img" aria-label="accuracy per round" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">')]
    for pct in (0, 25, 50, 75, 100):
        yy = y(pct / 100)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     'stroke="#d0d7de"/>')
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{pct}%</text>')
    coords = " ".join(f"{x(r):.1f},{y(a):.1f}" for r, a in points)
    parts.append(f'<polyline fill="none" stroke="#0969da" stroke-width="2" points="{coords}"/>')
    for r, a in points:
        parts.append(f'<circle cx="{x(r):.1f}" cy="{y(a):.1f}" r="3" fill="#0969da">'
                     f"<title>round {r}: {a * 100:.2f}%</title></circle>")
        parts.append(f'<text x="{x(r):.1f}" y="{height - 12}" text-anchor="middle">{r}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 1}" '
                 'text-anchor="middle">round</text></svg>')
    return "".join(parts)


def _bar_chart(bars: list[tuple[str, int, int]], width: int = 640) -> str:
    """Awarded and claimed tokens per participant, as horizontal SVG bars."""
    if not bars:
        return "<p>No rewards were awarded.</p>"
    row, left, right = 26, 120, 110
    height = row * len(bars) + 24
    top_value = max(max(a, c) for _, a, c in bars) or 1
    plot_w = width - left - right
    parts = [(f'<svg role="img" aria-label="rewards per participant" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">')]
    for i, (who, awarded, claimed) in enumerate(bars):
        y0 = i * row + 4
        label = who if len(who) < 14 else f"{who[:8]}…{who[-4:]}"
        parts.append(f'<text x="{left - 6}" y="{y0 + 13}" text-anchor="end">'
                     f"<title>{escape(who)}</title>{escape(label)}</text>")
        parts.append(f'<rect x="{left}" y="{y0}" height="10" width="'
                     f'{awarded / top_value * plot_w:.1f}" fill="#1a7f37"><title>awarded '
                     f"{tokens(awarded)}</title></rect>")
        parts.append(f'<rect x="{left}" y="{y0 + 11}" height="6" width="'
                     f'{claimed / top_value * plot_w:.1f}" fill="#8250df"><title>claimed '
                     f"{tokens(claimed)}</title></rect>")
        parts.append(f'<text x="{width - right + 6}" y="{y0 + 13}">{tokens(awarded)}</text>')
    parts.append(f'<text x="{left}" y="{height - 4}">green: awarded by the reports; purple: '
                 "claimed on chain</text></svg>")
    return "".join(parts)


def _challenge_text(challenges: tuple[ChallengeView, ...]) -> str:
    return ", ".join(f"{c.outcome} (by {c.challenger[:8]}…, evidence {c.evidence_cid})"
                     for c in challenges)


def render_html(report: AuditReport) -> str:
    """The whole page as a string (UTF-8, no external resources)."""
    out = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
           f"<title>fedledger audit: {escape(report.verdict.value)}</title>",
           f"<style>{_CSS}</style></head><body>",
           f"<h1>fedledger audit {_badge(report.verdict)}</h1>",
           (f"<p>Registry <code>{escape(report.registry)}</code>, token "
           f"<code>{escape(report.token)}</code>, chain id {report.chain_id}, history up to "
           f"block {report.head_block}. Everything below was re-derived from chain events "
           "and content hashes; nothing the aggregator said was taken on trust.</p>")]
    out.append("<h2>Rounds</h2><table><tr><th>round</th><th>status</th><th>verdict</th>"
               "<th>accuracy</th><th>accepted</th><th>rejected</th><th>total reward</th>"
               "<th>claimed</th><th>challenges</th><th>report</th></tr>")
    for r in report.rounds:
        acc = "-" if r.accuracy is None else f"{r.accuracy * 100:.2f}%"
        out.append(f"<tr><td class=num>{r.round}</td><td>{escape(r.status)}</td>"
                   f"<td>{_badge(r.verdict)}</td><td class=num>{acc}</td>"
                   f"<td class=num>{r.accepted}</td><td class=num>{r.rejected}</td>"
                   f"<td class=num>{tokens(r.total_reward)}</td>"
                   f"<td class=num>{tokens(r.claimed)}</td>"
                   f"<td>{escape(_challenge_text(r.challenges)) or '-'}</td>"
                   f"<td><code>{escape(r.report_cid)}</code></td></tr>")
    out.append("</table>")
    listed = [(None, f) for f in report.findings] + [
        (r.round, f) for r in report.rounds for f in r.findings]
    out.append("<h2>Findings</h2>")
    if not listed:
        out.append("<p>None: every audited round verified.</p>")
    else:
        out.append("<table><tr><th>round</th><th>kind</th><th>code</th><th>what</th></tr>")
        for number, f in listed:
            css = "mismatch" if f.kind is FindingKind.MISMATCH else "unverifiable"
            out.append(f"<tr><td class=num>{'network' if number is None else number}</td>"
                       f"<td class={css}>{escape(f.kind.value)}</td>"
                       f"<td><code>{escape(f.code)}</code></td><td>{escape(f.message)}</td></tr>")
        out.append("</table>")
    out.append("<h2>Accuracy per round</h2>")
    out.append(_line_chart(accuracy_series(report)))
    totals = participant_totals(report)
    out.append("<h2>Rewards per participant</h2>")
    out.append(_bar_chart([(t.participant, t.awarded, t.claimed) for t in totals]))
    out.append("<h2>Rejected updates</h2>")
    rejected = rejections(report)
    if not rejected:
        out.append("<p>None.</p>")
    else:
        out.append("<table><tr><th>round</th><th>participant</th><th>check</th>"
                   "<th>reason</th></tr>")
        for item in rejected:
            out.append(f"<tr><td class=num>{item.round}</td><td><code>"
                       f"{escape(item.participant)}</code></td><td><code>"
                       f"{escape(item.verification)}</code></td><td>{escape(item.reason)}</td></tr>")
        out.append("</table>")
    out.append("</body></html>\n")
    return "".join(out)
