#!/usr/bin/env bash
# Static analysis of contracts/ with Slither, driven by the project's own compiler (solc-js
# through scripts/solcjs-wrapper), reproducibly:
#
#   scripts/slither.sh              # human-readable findings on stderr, JSON in build/slither.json
#   scripts/slither.sh --fail       # also exit 1 when any finding is not triaged in
#                                   # scripts/slither.triage (one "detector<TAB>element" per line)
#
# Why a separate virtual environment (build/slither-venv, gitignored): slither-analyzer 0.11.x
# requires web3<8 and the project pins web3 8.0.0, so pip cannot install both into .venv.
# Slither only needs the compiler output, not the project's Python packages.
#
# How solc-js is used: crytic-compile's --solc-standard-json mode calls
# `solc --standard-json --allow-paths DIR`; the wrapper drops --allow-paths (solc-js rejects it),
# adds --base-path/--include-path so `@openzeppelin/...` imports resolve from node_modules, and
# strips solc-js's ">>>" notices. (The plain solc mode needs --combined-json, which solc-js lacks.)
# OpenZeppelin's own code is excluded from the findings (--filter-paths node_modules).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/build/slither-venv"
version="0.11.6"
if [[ ! -x "$venv/bin/slither" ]] || ! "$venv/bin/pip" show slither-analyzer 2>/dev/null \
    | grep -qx "Version: $version"; then
  echo "installing slither-analyzer==$version into $venv" >&2
  python3.11 -m venv "$venv"
  "$venv/bin/pip" install -q "slither-analyzer==$version"
fi
if [[ ! -x "$root/node_modules/.bin/solcjs" ]]; then
  echo "solc-js not found: run 'npm install' in $root" >&2
  exit 2
fi

fail=0
if [[ "${1:-}" == "--fail" ]]; then fail=1; fi
out="$root/build/slither.json"
rm -f "$out"
set +e
"$venv/bin/slither" contracts \
  --solc "$root/scripts/solcjs-wrapper" --solc-standard-json \
  --solc-remaps "@openzeppelin/=node_modules/@openzeppelin/" \
  --filter-paths "node_modules" \
  --exclude-dependencies \
  --json "$out"
rc=$?
set -e
if [[ ! -s "$out" ]]; then
  echo "slither produced no report (exit $rc)" >&2
  exit 2
fi
"$venv/bin/python" - "$out" "$root/scripts/slither.triage" "$fail" <<'PY'
import json, sys
from pathlib import Path

report = json.loads(Path(sys.argv[1]).read_text())
triage_file, fail = Path(sys.argv[2]), sys.argv[3] == "1"
triaged = set()
if triage_file.exists():
    for line in triage_file.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            detector, element = line.split("\t")[:2]
            triaged.add((detector, element))
if not report.get("success", False):
    print(f"slither failed: {report.get('error')}", file=sys.stderr)
    sys.exit(2)
findings = report.get("results", {}).get("detectors", [])
untriaged = []
for f in findings:
    first = f["elements"][0] if f["elements"] else {}
    key = (f["check"], first.get("name", ""))
    mark = "triaged" if key in triaged else "NEW"
    if key not in triaged:
        untriaged.append(key)
    print(f"{mark:8} {f['impact']:13} {f['check']:28} {key[1]}")
print(f"{len(findings)} findings, {len(untriaged)} not triaged in {triage_file.name}")
sys.exit(1 if fail and untriaged else 0)
PY
