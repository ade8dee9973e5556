#!/usr/bin/env bash
# Every test: unit tests, pytest-lsp end-to-end tests, the real-editor tests (Neovim, Emacs),
# the VS Code extension's unit tests and its end-to-end test in real VS Code (code-server +
# headless Chromium; set PAPERLENS_SKIP_VSCODE_E2E=1 to leave that one out on a machine
# without the ~1 GB it installs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --editors
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
[ "$rc" = 0 ] || exit "$rc"
echo "== VS Code extension: unit tests (npm ci, then npm test)"
(cd client-vscode && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm test 2>&1 | tail -n 12)
if [ "${PAPERLENS_SKIP_VSCODE_E2E:-0}" != 1 ]; then
  echo "== VS Code extension: end-to-end in code-server (the first run installs Chromium, Node 24"
  echo "   and code-server, about 1 GB, into ~/.cache/paperlens-e2e; PAPERLENS_SKIP_VSCODE_E2E=1 skips)"
  PAPERLENS_PYTHON="$PWD/.venv/bin/python" bash tests/vscode/run_e2e.sh
fi
