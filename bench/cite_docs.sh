#!/usr/bin/env bash
# cite_docs.sh MIRROR DEST: write the development documents of bench/cite_recommend.py under
# DEST/<name>/ (the chapters, in reading order, as chapters/NN-<file>) and DEST/<name>/library/
# (the thesis' .bib: the library the citations are ranked in), from bare clones kept as
# MIRROR/<owner>+<name>/repo (fetch github:<owner>/<name>), at the pinned commits below.
#
# Sources (public LaTeX theses with their .bib; 100+ citations each):
#   millidge  BerenMillidge/PhD_Thesis @ 19f81160  predictive coding / active inference (Edinburgh);
#             thesis.bib: 813 entries, 32 with an abstract; 529 citation commands
#   jackson   AaronJackson/thesis @ df1ee355       3D face and body reconstruction with CNNs
#             (Nottingham); thesis.bib: 275 entries, titles only; 258 citation commands
#   gotovos   3lectrologos/thesis @ 7d1693e2       sampling from probabilistic submodular models
#             (ETH Zurich); thesis.bib: 128 entries, titles only; 131 citation commands
set -euo pipefail
MIRROR=${1:?usage: cite_docs.sh MIRROR DEST}
DEST=${2:?usage: cite_docs.sh MIRROR DEST}

# name  owner/repo  commit  bib  chapters...
SOURCES=(
  "millidge BerenMillidge/PhD_Thesis 19f81160b28634370656177c40334655fe8b0769 thesis.bib chap1.tex chap2.tex chap3.tex chap4.tex chap5.tex chap6.tex chap7.tex appendix_A.tex appendix_B.tex Appendix_C.tex"
  "jackson AaronJackson/thesis df1ee3551c319dc9b2840d4b0fd48690b2bf6e8c thesis.bib chapter_introduction/main.tex chapter_background/main.tex chapter_literature/main.tex chapter_faces/main.tex chapter_seg/main.tex chapter_humans/main.tex chapter_conclusion/main.tex"
  "gotovos 3lectrologos/thesis 7d1693e23fd640939757444d1cb42c9dd35bd01b thesis.bib chapters/intro.tex chapters/background.tex chapters/gibbs.tex chapters/m3.tex chapters/genes.tex chapters/conclusion.tex chapters/appendix_exp.tex"
)

for line in "${SOURCES[@]}"; do
  read -r name repo commit bib chapters <<<"$line"
  git_dir="$MIRROR/${repo/\//+}/repo"
  [ -d "$git_dir" ] || { echo "fetch github:$repo first (no $git_dir)" >&2; exit 1; }
  git --git-dir="$git_dir" cat-file -e "$commit^{commit}" 2>/dev/null \
    || { echo "$repo: commit $commit is not in $git_dir" >&2; exit 1; }
  mkdir -p "$DEST/$name/library" "$DEST/$name/chapters"
  git --git-dir="$git_dir" show "$commit:$bib" > "$DEST/$name/library/$(basename "$bib")"
  n=0
  for path in $chapters; do
    n=$((n + 1))
    out="$DEST/$name/chapters/$(printf '%02d' "$n")-${path//\//-}"
    git --git-dir="$git_dir" show "$commit:$path" > "$out"
  done
done
echo "extracted to $DEST"
