#!/usr/bin/env python
"""Compile contracts/*.sol and write the committed artifacts (or check they are current).

    python scripts/compile_contracts.py          # rewrite ledger/contracts/compiled/<Name>.json
    python scripts/compile_contracts.py --check  # exit 1 if a committed artifact is stale

Artifacts are written in the canonical form of `ledger.contracts.artifacts.artifact_to_json`, so
`--check` is a byte comparison. Files for contracts that no longer exist are removed (or, with
`--check`, reported).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ledger.contracts.artifacts import (
    ARTIFACTS_SUBDIR,
    artifact_to_json,
)
from ledger.contracts.compiler import CONTRACTS_DIR, compile_contracts
from ledger.errors import FedLedgerError

ARTIFACTS_DIR = REPO_ROOT / "ledger" / "contracts" / ARTIFACTS_SUBDIR


def _expected_files(contracts_dir: Path) -> dict[str, str]:
    result = compile_contracts(contracts_dir)
    for warning in result.warnings:
        print(f"note (third-party source): {warning.splitlines()[0]}", file=sys.stderr)
    return {f"{name}.json": artifact_to_json(a) for name, a in result.artifacts.items()}


def stale_artifacts(expected: dict[str, str], out_dir: Path) -> list[str]:
    """Names of files in `out_dir` that differ from, lack, or are not in `expected`."""
    present = {p.name for p in out_dir.glob("*.json")} if out_dir.is_dir() else set()
    problems = []
    for name, text in sorted(expected.items()):
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from a fresh compile")
    problems.extend(f"{name}: no such contract in the sources" for name in sorted(present - set(expected)))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if committed artifacts differ from a fresh compile")
    parser.add_argument("--contracts-dir", type=Path, default=CONTRACTS_DIR)
    parser.add_argument("--out-dir", type=Path, default=ARTIFACTS_DIR)
    args = parser.parse_args(argv)
    try:
        expected = _expected_files(args.contracts_dir)
    except FedLedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        problems = stale_artifacts(expected, args.out_dir)
        for problem in problems:
            print(f"stale artifact {problem}", file=sys.stderr)
        if problems:
            print("run `python scripts/compile_contracts.py` and commit the result", file=sys.stderr)
            return 1
        print(f"{len(expected)} artifacts match the sources")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(expected.items()):
        (args.out_dir / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out_dir / name}")
    for stale in sorted({p.name for p in args.out_dir.glob("*.json")} - set(expected)):
        (args.out_dir / stale).unlink()
        print(f"removed {args.out_dir / stale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
