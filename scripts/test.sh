#!/usr/bin/env bash
# The README test command: installs what the tests need (Python venv, npm toolchain
# with solc-js and anvil, the js-ipfs daemon) and runs the whole suite.
# pytest's "no tests collected" (exit 5) is a failure here, never a pass.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh --test
if ! command -v chromium >/dev/null 2>&1; then
  # The dashboard test drives Debian's chromium through Playwright (never a downloaded browser).
  echo "==> installing chromium (Debian package) for the dashboard browser test"
  sudo_cmd=""
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
if [[ -x scripts/ipfs/install.sh ]]; then
  scripts/ipfs/install.sh
fi
set +e
.venv/bin/python -m pytest -p no:cacheprovider -n "${FEDLEDGER_TEST_WORKERS:-2}" --dist loadfile "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit $rc
