#!/usr/bin/env bash
# Every test: unit tests, pytest-lsp end-to-end tests, and the real-editor tests (Neovim, Emacs).
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
exit "$rc"
