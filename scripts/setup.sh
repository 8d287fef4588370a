#!/usr/bin/env bash
# One-step install for a fresh machine: Node >= 22 (bootstrapped if needed) and `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=./node-env.sh
. scripts/node-env.sh
echo "abproxy: using Node $(node --version) at $(command -v node)" >&2
# No prebuilt-binary downloads here: native addons compile from source against npm_config_nodedir.
export npm_config_build_from_source=true
npm ci --no-audit --no-fund
# The admin page's static files (dist/admin/), served by `abproxy serve` at /admin.
npm run --silent build:admin
# The CLI prebuilt as JavaScript (dist/js/): used while it matches the sources (bin/prebuilt.js).
npm run --silent build:js
# better-sqlite3 13 ships Node-API prebuilds in its npm package (no download, no compiler needed);
# fail here, not in the middle of the tests, if it cannot load on this machine.
node -e "new (require('better-sqlite3'))(':memory:').close()" || {
  echo "abproxy: better-sqlite3 does not load on this Node ($(node --version)); see README (Keys and storage)" >&2
  exit 1
}
