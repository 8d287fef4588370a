#!/usr/bin/env bash
# Runs a command with the project's Node (>= 22) first on PATH; npm scripts go through here.
set -euo pipefail
. "$(dirname "$0")/node-env.sh"
exec "$@"
