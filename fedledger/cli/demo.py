"""`fedledger demo`: a whole network in one command, then an audit of its history.

Runs on the embedded defaults (py-evm in process, the on-disk Kubo-compatible store),
so nothing needs starting by hand; `--chain anvil` runs the same over a managed anvil.
Writes every round report, the audit (JSON and a self-contained HTML page) and plots into `--out`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import torch
import typer
from rich.console import Console
from rich.table import Table

from aggregator.orchestrator import FinalizedRound
from fedledger.cli.audit import default_rules, write_outputs
from fedledger.engines import ENGINES
from fedledger.simulation import TOKEN, Member, Simulation, SimulationConfig
from ledger.audit.verifier import Auditor, AuditReport
from ledger.chain.base import TestChainBackend
from ledger.chain.factory import open_chain
from ledger.errors import FedLedgerError
from ledger.store.factory import open_store

app = typer.Typer(help="Run a full federated network with attackers, rewards and an audit.")


def _tokens(amount: int) -> str:
    return f"{amount / TOKEN:,.2f}"


def _plots(out: Path, accuracy: list[float], members: list[Member]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(accuracy) + 1), [a * 100 for a in accuracy], marker="o")
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Global model accuracy per round")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(out / "accuracy.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = [m.label for m in members]
    colors = ["tab:green" if m.attack.is_honest else "tab:red" for m in members]
    ax.bar(labels, [m.earned / TOKEN for m in members], color=colors)
    ax.set_ylabel("tokens earned (FLR)")
    ax.set_title("Rewards per participant (red: attackers)")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    fig.tight_layout()
    paths.append(out / "rewards.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def _round_line(console: Console, done: FinalizedRound, members: list[Member]) -> None:
    report = done.report
    acc = report.validation_metrics.get("accuracy")
    accepted = sum(s.accepted for s in report.submissions)
    console.print(
        f"[bold]round {done.round}[/]: accuracy "
        f"{'n/a' if acc is None else f'{acc / 1e4:.2f}%'}, {accepted}/{len(report.submissions)} "
        f"updates accepted, {_tokens(report.total_reward)} FLR to pay"
    )


def _summary(console: Console, result: object, audit: AuditReport) -> None:
    res = result  # SimulationResult
    by_address = {m.participant.address: m for m in res.members}  # type: ignore[attr-defined]
    rounds = Table(title="Rounds")
    for col in ("round", "accuracy", "accepted", "rejected", "paid (FLR)", "audit"):
        rounds.add_column(col, justify="right" if col != "audit" else "left")
    verdicts = {r.round: r for r in audit.rounds}
    for done, acc in zip(res.rounds, res.accuracy, strict=True):  # type: ignore[attr-defined]
        subs = done.report.submissions
        v = verdicts.get(done.round)
        rounds.add_row(str(done.round), f"{acc * 100:.2f}%", str(sum(s.accepted for s in subs)),
                       str(sum(not s.accepted for s in subs)), _tokens(done.report.total_reward),
                       v.verdict.value if v else "-")
    console.print(rounds)

    rejected = Table(title="Rejected updates (latest reason per participant)")
    for col in ("participant", "role", "rounds rejected", "reason"):
        rejected.add_column(col)
    seen: dict[str, tuple[int, str]] = {}
    for done in res.rounds:  # type: ignore[attr-defined]
        for s in done.report.submissions:
            if not s.accepted:
                count = seen.get(s.participant, (0, ""))[0]
                seen[s.participant] = (count + 1, s.reason)
    for address, (count, reason) in sorted(seen.items(), key=lambda kv: by_address[kv[0]].index):
        m = by_address[address]
        rejected.add_row(m.label.split()[0], m.label.split()[1].strip("()"), str(count),
                         reason if len(reason) < 90 else reason[:87] + "...")
    for m in res.members:  # type: ignore[attr-defined]
        if m.attack.no_reveal:
            rejected.add_row(m.label.split()[0], "no-reveal", str(len(res.rounds)),  # type: ignore[attr-defined]
                             "committed but never revealed: nothing to aggregate, nothing paid")
    console.print(rejected)

    earned = Table(title="Tokens earned and claimed")
    for col in ("participant", "role", "address", "FLR"):
        earned.add_column(col, justify="right" if col == "FLR" else "left")
    for m in res.members:  # type: ignore[attr-defined]
        earned.add_row(m.label.split()[0], m.label.split()[1].strip("()"), m.participant.address,
                       _tokens(m.earned))
    console.print(earned)


@app.command("demo")
def demo_command(
    participants: Annotated[int, typer.Option(min=3, help="Number of participants.")] = 10,
    attackers: Annotated[float, typer.Option(min=0.0, max=0.49, help="Share of attackers.")] = 0.3,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds to run.")] = 8,
    rule: Annotated[str, typer.Option(help="Aggregation rule (see docs/aggregation.md).")] = "multikrum",
    epochs: Annotated[int, typer.Option(min=1, help="Local epochs per round.")] = 5,
    lr: Annotated[float, typer.Option(min=1e-6, max=10.0, help="Local SGD learning rate.")] = 0.02,
    alpha: Annotated[float, typer.Option(min=0.01, help="Dirichlet non-IID alpha.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed for data split, model and training.")] = 0,
    chain: Annotated[str, typer.Option(help="'embedded' (default) or 'anvil'.")] = "embedded",
    out: Annotated[Path, typer.Option(help="Where reports, audit and plots go.")] = Path("demo-output"),
    engine: Annotated[str, typer.Option(
        help="Where local training runs: 'local' (in process) or 'ray' (Ray tasks).")] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Parallel trainers for --engine ray.")] = 2,
) -> None:
    """Run N participants on non-IID digits with attackers, pay rewards, then audit everything."""
    console = Console()
    # Small models on 2 cores: one intra-op thread per step beats two fighting over a
    # core (measured 5-25x per step here); results do not depend on it.
    torch.set_num_threads(1)
    f = int(round(participants * attackers))
    rule_params: tuple[tuple[str, object], ...] = ()
    if rule in ("multikrum", "krum", "bulyan"):
        rule_params = (("num_malicious", f),)
        if rule == "multikrum":
            rule_params += (("num_selected", max(1, participants - f)),)
    cfg = SimulationConfig(participants=participants, attacker_share=attackers, rounds=rounds,
                           rule=rule, rule_params=rule_params, epochs=epochs, lr=str(lr), alpha=alpha,
                           seed=seed, engine=engine, workers=workers)
    if engine not in ENGINES:
        console.print(f"[red]unknown engine {engine!r}:[/] use one of {', '.join(ENGINES)}")
        raise typer.Exit(2)
    if out.exists():
        shutil.rmtree(out)
    (out / "reports").mkdir(parents=True)
    started = time.perf_counter()
    try:
        backend = open_chain(chain)
    except FedLedgerError as exc:
        console.print(f"[red]cannot open the {chain} chain:[/] {exc}")
        raise typer.Exit(2) from None
    if not isinstance(backend, TestChainBackend):
        console.print("[red]the demo needs a test chain (embedded or anvil)[/]")
        raise typer.Exit(2)
    try:
        store = open_store(str(out / "store"))
        console.print(
            f"[bold]fedledger demo[/]: {participants} participants ({f} attackers: "
            f"{', '.join(cfg.attack_for(i).name or 'no-reveal' for i in range(f)) or 'none'}), "
            f"{rounds} rounds, rule {rule}, chain {chain}, store {out / 'store'}")
        sim = Simulation(cfg, backend, store, out, console=Console(quiet=True))
        result = sim.run(on_round=lambda done, members: _round_line(console, done, members))
        for done in result.rounds:
            (out / "reports" / f"round-{done.round}.json").write_bytes(done.report.canonical_bytes())
        console.print("auditing the history from chain events and content hashes…")
        auditor = Auditor(result.network, store, default_rules())
        audit = auditor.audit()
        write_outputs(audit, out / "audit.json", out / "audit.html")
        result.network.info.save(out / "network.json")
        plots = _plots(out, result.accuracy, result.members)
        _summary(console, result, audit)
        for r in audit.rounds:
            for finding in r.findings:
                console.print(f"[red]round {r.round}:[/] {finding}")
        colour = "green" if audit.verdict.value == "verified" else "red"
        console.print(f"audit verdict: [bold {colour}]{audit.verdict.value}[/] for "
                      f"{len(audit.rounds)} rounds")
        console.print(f"wrote {out}/reports/, {out}/audit.json, {out}/audit.html, "
                      + ", ".join(str(p) for p in plots)
                      + f" in {time.perf_counter() - started:.0f} s")
        if audit.verdict.value != "verified":
            raise typer.Exit(1)
    finally:
        backend.close()
