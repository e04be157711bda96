#!/usr/bin/env bash
# The README main-job command: installs fedledger into .venv (pinned by
# constraints.txt) and runs `fedledger demo` with the arguments given.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh >&2
exec .venv/bin/fedledger demo "$@"
