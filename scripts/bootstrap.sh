#!/usr/bin/env bash
# Make the project runnable on a fresh machine: a virtualenv in .venv with paperlens and its test
# tools installed; with --editors also the headless editors the editor tests drive (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.paperlens-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "is ignored: it is neither" >&2 || true
  .venv/bin/python -c "import paperlens, pygls, whoosh, bibtexparser, pytest_lsp" \
    || { echo "bootstrap: installing paperlens into .venv failed" >&2; exit 1; }
  touch "$stamp"
fi
if [ "${1:-}" = "--editors" ]; then
  need=()
  command -v nvim >/dev/null 2>&1 || need+=(neovim)
  command -v emacs >/dev/null 2>&1 || need+=(emacs-nox elpa-eglot)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1; then
      sudo apt-get update -qq >/dev/null
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
      echo "bootstrap: please install ${need[*]} (the editor tests drive them)" >&2
    fi
  fi
fi
