#!/usr/bin/env bash
# The main job on the bundled example library: index it, show a search result and a hover card.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
INDEX=${PAPERLENS_DEMO_INDEX:-$(mktemp -d)}
PL=.venv/bin/paperlens
echo "== paperlens index examples/papers"
$PL index examples/papers --index-path "$INDEX"
echo
echo "== paperlens search 'gaze estimation from webcams' --dir examples/papers --limit 1"
$PL search "gaze estimation from webcams" --dir examples/papers --index-path "$INDEX" --limit 1
echo
echo "== paperlens show vaswani2017attention --dir examples/papers   (the hover card)"
$PL show vaswani2017attention --dir examples/papers --index-path "$INDEX"
