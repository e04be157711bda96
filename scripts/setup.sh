#!/usr/bin/env bash
# Installs everything fedledger needs into this checkout: a Python venv pinned by
# constraints.txt (CPU torch 2.13.0, tested web3/eth-tester), and the npm toolchain
# (solc-js, OpenZeppelin, anvil). Idempotent: a second run only checks.
# Usage: scripts/setup.sh [--test]   (--test adds the test-only extras)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras=""
[[ "${1:-}" == "--test" ]] && extras="[test]"

python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "fedledger needs Python >= 3.11; $python_bin is $("$python_bin" --version 2>&1)" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  "$python_bin" -m venv .venv
fi
echo "==> installing Python packages (constraints.txt pins torch==2.13.0 CPU)"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".${extras}"
if [[ -n "$extras" ]] && ! .venv/bin/python -c "import flwr" 2>/dev/null; then
  # Flower is the peer the tests compare our rules against. Its 1.41 metadata pins versions
  # that no longer resolve against this set, yet its aggregation code runs on these
  # packages, so it goes in without its declared dependencies plus the few it imports.
  echo "==> installing Flower 1.41 for the equivalence tests"
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt --no-deps \
    flwr==1.41.0 protobuf grpcio cryptography cffi pycparser PyYAML pathspec tomli tomli_w iterators
fi

if command -v npm >/dev/null 2>&1; then
  if [[ ! -d node_modules/solc || ! -d node_modules/@openzeppelin/contracts || package.json -nt node_modules/.package-lock.json ]]; then
    echo "==> installing npm toolchain (solc-js, OpenZeppelin, anvil)"
    npm install --no-audit --no-fund --loglevel=error
  fi
else
  echo "note: npm not found; anvil and the Solidity compiler are unavailable (the embedded chain still works)" >&2
fi
