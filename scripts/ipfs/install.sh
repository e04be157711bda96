#!/usr/bin/env bash
# Install js-ipfs 0.66.1 (a real IPFS daemon that runs offline) from the committed
# lockfile into scripts/ipfs/node_modules, for fedledger's DaemonStore integration
# tests and local multi-process runs. Kubo cannot be installed on these machines.
#
# Idempotent and fast when already installed: a stamp records the lockfile hash of
# the last successful install. `--before` keeps npm on the dependency versions
# js-ipfs 0.66.1 works with on Node 20 (newer transitive releases break it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
stamp="node_modules/.fedledger-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -x node_modules/.bin/jsipfs && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "js-ipfs already installed: $here/node_modules/.bin/jsipfs"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm not found: install Node 20 and npm, then rerun $0" >&2
  exit 127
fi
echo "installing js-ipfs from $here/package-lock.json (about 2-4 minutes cold)..."
npm install --before=2024-12-14 --no-audit --no-fund --loglevel=error
if [[ ! -x node_modules/.bin/jsipfs ]]; then
  echo "npm install finished but node_modules/.bin/jsipfs is missing" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "js-ipfs installed: $here/node_modules/.bin/jsipfs"
