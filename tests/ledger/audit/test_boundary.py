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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("ledger", "aggregator", "node", "fedledger")
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


def module_path(name: str) -> Path | None:
    """The source file of a repository module (None for third-party and stdlib modules)."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_closure(start: str) -> set[str]:
    """Every repository module importing `start` loads, at module level or inside functions.

    Static (parsed, not executed), so it is fast and also sees lazy imports such as the ones
    in `default_rules`. `from pkg import name` counts `pkg.name` when that is a module, and
    importing `a.b.c` counts the packages `a` and `a.b`.
    """
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen or module_path(name) is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        tree = ast.parse(module_path(name).read_text(encoding="utf-8"))  # type: ignore[union-attr]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo.append(node.module)
                todo.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return seen


def test_the_audit_command_loads_only_the_pure_rule_functions_from_aggregator() -> None:
    # Execute
    loaded = import_closure("fedledger.cli.audit")

    # Assert
    assert {"aggregator.round_compute", "aggregator.rewards", "ledger.audit.verifier"} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "aggregator" and not is_pure(m)) == []
    assert sorted(m for m in loaded if m.split(".")[0] == "node") == []


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
