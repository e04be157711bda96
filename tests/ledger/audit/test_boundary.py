"""The auditor's trust boundary, as an import graph.

The auditor trusts the chain and content hashes, never the aggregator. It re-runs the
aggregation rule, which is code in `aggregator/`, so the boundary is: `ledger` (and with it
`ledger.audit`) imports nothing from `aggregator` or `node`; the audit command loads from
`aggregator` only the pure rule functions (`round_compute`, `rewards`, `scoring`,
`fixedpoint`, `rules`), never the orchestrator, the service or anything else that holds
state or talks to the chain or the store; and those pure modules themselves import no I/O.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PURE = {"aggregator", "aggregator.fixedpoint", "aggregator.rewards", "aggregator.round_compute",
        "aggregator.scoring", "aggregator.rules"}
IO_MODULES = ("ledger.chain", "ledger.contracts", "ledger.store", "web3", "httpx", "requests",
              "fastapi", "uvicorn", "ipfshttpclient", "socket", "subprocess", "urllib")
#: The one exception: the native kernels compile their C source (shipped in the package)
#: with the local compiler on first use; no network, no chain, no store.
ALLOWED = {"aggregator/rules/native.py": {"subprocess"}}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports are not used here)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def is_pure(module: str) -> bool:
    return module in PURE or module.startswith("aggregator.rules.")


def test_ledger_imports_nothing_from_aggregator_or_node() -> None:
    # Prepare
    files = sorted((ROOT / "ledger").rglob("*.py"))

    # Execute
    offending = {str(f.relative_to(ROOT)): sorted(m for m in imported_modules(f)
                                                  if m.split(".")[0] in ("aggregator", "node"))
                 for f in files}

    # Assert
    assert len(files) > 20
    assert {f: m for f, m in offending.items() if m} == {}


def test_the_audit_command_loads_only_the_pure_rule_functions_from_aggregator() -> None:
    # Prepare: a fresh interpreter, so nothing imported by other tests counts.
    script = ("import json, sys, fedledger.cli.audit as a; a.default_rules(); "
              "print(json.dumps(sorted(m for m in sys.modules "
              "if m.split('.')[0] in ('aggregator', 'node'))))")

    # Execute
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    # Assert
    assert "aggregator.round_compute" in loaded and "aggregator.rewards" in loaded
    assert [m for m in loaded if not is_pure(m)] == []


def test_the_pure_rule_modules_import_no_io() -> None:
    # Prepare
    files = [ROOT / "aggregator" / f"{name}.py" for name in
             ("fixedpoint", "rewards", "round_compute", "scoring")]
    files += sorted((ROOT / "aggregator" / "rules").glob("*.py"))

    # Execute
    offending = {str(f.relative_to(ROOT)): sorted(
        m for m in imported_modules(f) - ALLOWED.get(str(f.relative_to(ROOT)), set())
        if m.startswith(IO_MODULES) or (m.split(".")[0] == "aggregator" and not is_pure(m)))
        for f in files}

    # Assert
    assert {f: m for f, m in offending.items() if m} == {}
