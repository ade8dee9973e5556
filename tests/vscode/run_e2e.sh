#!/bin/bash
# End-to-end test of the paperlens VS Code extension in real VS Code (code-server 4.139 = the
# VS Code 1.139 workbench) driven by headless Chromium through Playwright:
#   install what is missing (tests/vscode/install.sh, cached in ~/.cache/paperlens-e2e),
#   build + package client-vscode into a .vsix, install it into a fresh code-server profile,
#   open a copy of examples/papers, then tests/vscode/e2e.js hovers a citation, completes \cite{,
#   and runs "paperlens: Search Papers", saving a screenshot of each step.
#
# usage: bash tests/vscode/run_e2e.sh
# env:   PAPERLENS_PYTHON    Python with paperlens installed (default <repo>/.venv/bin/python)
#        PAPERLENS_E2E_OUT   where screenshots and logs go (default ${TMPDIR:-/tmp}/paperlens-e2e-out)
#        PAPERLENS_E2E_CACHE where the tools are cached (default ~/.cache/paperlens-e2e)
#        PAPERLENS_E2E_KEEP=1 keep the temporary work dir (profiles, workspace copy, index)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PAPERLENS_PYTHON=${PAPERLENS_PYTHON:-$REPO/.venv/bin/python}
OUT=${PAPERLENS_E2E_OUT:-${TMPDIR:-/tmp}/paperlens-e2e-out}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T_ALL=$(now)

if ! "$PAPERLENS_PYTHON" -c 'import paperlens' 2>/dev/null; then
  echo "e2e: $PAPERLENS_PYTHON cannot import paperlens (set PAPERLENS_PYTHON or create .venv: bash scripts/test.sh)" >&2
  exit 2
fi

# -- 1. tools (cached) ----------------------------------------------------------------------
T=$(now)
# shellcheck source=install.sh
. "$HERE/install.sh"
T_INSTALL=$(since "$T")

# -- 2. build + package the extension ---------------------------------------------------------
T=$(now)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/paperlens-e2e.XXXXXX")
CS_PID=
cleanup() {
  local rc=$?
  if [ -n "$CS_PID" ]; then
    kill -TERM -- "-$CS_PID" 2>/dev/null || true        # the whole group: extension host, server
    for _ in $(seq 1 30); do kill -0 -- "-$CS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
  if [ "${PAPERLENS_E2E_KEEP:-0}" = 1 ]; then echo "e2e: kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$REPO/client-vscode"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >/dev/null
fi
VSIX="$WORK/paperlens.vsix"
npm run --silent package -- --out "$VSIX" > "$WORK/package.log" 2>&1 || { cat "$WORK/package.log"; exit 1; }
cd "$REPO"
T_BUILD=$(since "$T")

# -- 3. a fresh code-server profile with the extension and settings ---------------------------
T=$(now)
DATA="$WORK/cs-data"
mkdir -p "$DATA/user/User" "$DATA/user/Machine" "$DATA/ext" "$WORK/index" "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.json "$OUT"/*.log 2>/dev/null || true
export XDG_CONFIG_HOME="$DATA/xdg-config" XDG_DATA_HOME="$DATA/xdg-data" XDG_CACHE_HOME="$DATA/xdg-cache"
CS=(code-server --user-data-dir "$DATA/user" --extensions-dir "$DATA/ext")
"${CS[@]}" --install-extension "$VSIX" > "$WORK/install-ext.log" 2>&1 || { cat "$WORK/install-ext.log"; exit 1; }
ls "$DATA/ext" | grep -q '^paperlens\.paperlens-' || { echo "e2e: the extension did not install"; cat "$WORK/install-ext.log"; exit 1; }

WS="$WORK/papers"
cp -r "$REPO/examples/papers" "$WS"
# paperlens.server.pythonPath is machine-overridable: VS Code applies it from the settings of the
# machine the extension host runs on (code-server: "Remote" settings = Machine/settings.json)
PAPERLENS_PYTHON="$PAPERLENS_PYTHON" INDEX="$WORK/index" DATA="$DATA" node -e '
const fs = require("fs");
fs.writeFileSync(process.env.DATA + "/user/Machine/settings.json", JSON.stringify({
  "paperlens.server.pythonPath": process.env.PAPERLENS_PYTHON
}, null, 2));
fs.writeFileSync(process.env.DATA + "/user/User/settings.json", JSON.stringify({
  "paperlens.indexPath": process.env.INDEX,
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "editor.minimap.enabled": false,
  "editor.hover.delay": 300,
  "files.autoSave": "off",
  "window.restoreWindows": "none"
}, null, 2));'

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$WORK/cs-config.yaml" <<EOF
bind-addr: 127.0.0.1:$PORT
auth: none
cert: false
disable-telemetry: true
disable-update-check: true
disable-workspace-trust: true
disable-getting-started-override: true
reconnection-grace-time: 5
EOF
T_PROFILE=$(since "$T")

# -- 4. code-server (own process group) ---------------------------------------------------------
T=$(now)
setsid "${CS[@]}" --config "$WORK/cs-config.yaml" "$WS" > "$OUT/code-server.log" 2>&1 &
CS_PID=$!            # setsid => also the process-group id
for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" || { echo "e2e: code-server did not come up"; cat "$OUT/code-server.log"; exit 1; }
T_CS=$(since "$T")

# -- 5. drive it --------------------------------------------------------------------------------
T=$(now)
set +e
# last step: switch to a Python without paperlens (a venv made without it) and expect the fix message
NOPL="$WORK/no-paperlens-venv"
if python3 -m venv --without-pip "$NOPL" 2>/dev/null; then NOPL_PY="$NOPL/bin/python"; else NOPL_PY=; fi
PAPERLENS_E2E_PROFILE="$WORK/chrome-profile" PAPERLENS_E2E_MACHINE_SETTINGS="$DATA/user/Machine/settings.json" \
PAPERLENS_E2E_PYTHON_WITHOUT_PAPERLENS="$NOPL_PY" node "$HERE/e2e.js" "http://127.0.0.1:$PORT/?folder=$WS" "$OUT"
RC=$?
set -e
T_TEST=$(since "$T")

# the extension host's logs (the "paperlens" output channel is among them)
find "$DATA/user/logs" -type f \( -name '*paperlens*' -o -name 'exthost.log' -o -name 'remoteexthost.log' \) 2>/dev/null |
  while read -r f; do cp "$f" "$OUT/$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null || true; done
PL_LOG=$(ls "$OUT"/*paperlens*.log 2>/dev/null | head -1 || true)
if [ $RC -eq 0 ] && [ -n "$PL_LOG" ] && grep -q '\[error\]' "$PL_LOG"; then
  echo "e2e: the paperlens output channel has errors:"; grep '\[error\]' "$PL_LOG" | head -20
  RC=3
fi
if [ $RC -ne 0 ]; then
  echo "---- paperlens output channel / extension host logs (tail) ----"
  for f in "$OUT"/*.log; do [ -f "$f" ] || continue; echo "== $f"; tail -25 "$f"; done
fi

echo "timing: install/check ${T_INSTALL}s, build+package ${T_BUILD}s, profile+extension ${T_PROFILE}s," \
     "code-server start ${T_CS}s, browser test ${T_TEST}s, total $(since "$T_ALL")s"
echo "screenshots and logs: $OUT"
if [ $RC -eq 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed"; fi
exit $RC
