"""Accuracy of metadata found in paper texts and PDFs. Prints JSON.

    python bench/metadata_accuracy.py [--seeds ../shared/seeds]

Two labelled sets: the seed papers (bench/labels/metadata.json, checked by hand against the
files) and PDFs generated here in one- and two-column layouts whose metadata is known by
construction. Fields: title (exact, whitespace-normalised), authors (exact list), first author,
year, venue, abstract start.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.pdfs import ABSTRACT, make_paper_pdf  # noqa: E402

from paperlens.core.parse import parse_file  # noqa: E402

FIELDS = ("title", "authors", "first_author", "year", "venue", "abstract_start")


def norm(s) -> str:
    return " ".join(unicodedata.normalize("NFC", str(s or "")).split()).lower()


def score(paper, label) -> dict[str, bool]:
    out = {"title": norm(paper.title) == norm(label["title"]),
           "authors": [norm(a) for a in paper.authors] == [norm(a) for a in label["authors"]],
           "first_author": (norm(paper.authors[0]) if paper.authors else "") ==
                           (norm(label["authors"][0]) if label["authors"] else ""),
           "year": paper.year == (label["year"] or ""),
           "venue": norm(paper.venue) == norm(label["venue"] or "")}
    start = label.get("abstract_start")
    out["abstract_start"] = norm(paper.abstract).startswith(norm(start)) if start else not paper.abstract
    return out


def summarise(rows: list[dict]) -> dict:
    return {f: round(sum(r["ok"][f] for r in rows) / len(rows), 3) for f in FIELDS} | {"n": len(rows)}


GENERATED = [
    ("Neural Radiance Caching for Real-Time Global Illumination", ["Maria Gonzalez", "Tom Becker"]),
    ("A Study of Contrastive Pretraining on Remote Sensing Imagery", ["Li Wei", "Anna Kowalska", "Raj Patel"]),
    ("Sparse Attention Kernels for Long Document Summarisation", ["Olivia Brown"]),
    ("Self-Supervised Depth Estimation from Endoscopic Video", ["Kenji Sato", "Elena Rossi", "Omar Haddad", "Julia Meyer"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(ROOT.parent / "shared" / "seeds"))
    args = ap.parse_args()
    labels = json.loads((ROOT / "bench" / "labels" / "metadata.json").read_text(encoding="utf-8"))
    seed_rows = []
    for label in labels["papers"]:
        paper = parse_file(Path(args.seeds) / label["file"]).papers[0]
        ok = score(paper, label)
        seed_rows.append({"file": label["file"], "ok": ok,
                          "wrong": {f: getattr(paper, f, None) if f not in ("first_author", "abstract_start")
                                    else (paper.authors[:1] if f == "first_author" else paper.abstract[:60])
                                    for f, good in ok.items() if not good}})
    pdf_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (title, authors) in enumerate(GENERATED):
            for columns in (1, 2):
                path = Path(tmp) / f"gen-{i}-{columns}.pdf"
                make_paper_pdf(path, title=title, authors=authors, columns=columns)
                paper = parse_file(path).papers[0]
                label = {"title": title, "authors": authors, "year": "", "venue": "",
                         "abstract_start": " ".join(ABSTRACT.split()[:10])}
                ok = score(paper, label)
                pdf_rows.append({"file": path.name, "ok": ok})
    print(json.dumps({"seed_papers": summarise(seed_rows), "generated_pdfs": summarise(pdf_rows),
                      "seed_errors": [r for r in seed_rows if not all(r["ok"].values())]},
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
