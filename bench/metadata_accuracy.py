"""Accuracy of metadata found in paper texts and PDFs. Prints JSON.

    python bench/metadata_accuracy.py [--seeds ../shared/seeds] [--dev-pdfs DIR] [--errors]

Three labelled sets:

- the seed papers (bench/labels/metadata.json, checked by hand against the files) and PDFs
  generated here in one- and two-column layouts whose metadata is known by construction. Fields:
  title (exact, whitespace-normalised), authors (exact list), first author, year, venue,
  abstract start;
- the development set of 120 real PDFs (../shared/dev-pdfs: manifest.tsv labelled by hand from
  page 1; extract them with `bash ../shared/dev-pdfs/extract.sh MIRROR DIR` and pass DIR): title,
  first author's surname and year of each PDF read without a .bib entry, per kind (single,
  two-column, scanned, thesis, slides, other) and for the papers (the first four kinds); the year
  only where page 1 prints one, and how many years were given where it prints none;
- joins: bench/labels/dev-pdfs.bib holds hand-written entries (exact titles from page 1, no
  `file` fields) for 30 of those PDFs; the PDFs and the .bib are indexed together in a scratch
  folder and each entry must become one paper with its PDF.

Comparisons fold case, accents and punctuation: 'SAGAS' is 'Sagas', 'Leitão' is 'Leitao'.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.pdfs import ABSTRACT, make_paper_pdf  # noqa: E402

from paperlens.core.parse import parse_file  # noqa: E402

FIELDS = ("title", "authors", "first_author", "year", "venue", "abstract_start")
PAPER_KINDS = ("single", "two-column", "scanned", "thesis")


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


def fold(s) -> str:
    s = unicodedata.normalize("NFKD", str(s or ""))
    return "".join(c for c in s if not unicodedata.combining(c)).lower().replace("’", "'")


def loose(s) -> str:
    return " ".join(re.findall(r"[^\W_]+", fold(s)))


def surname_ok(label: str, author: str) -> bool:
    """The labelled surname ends the first author's name (or begins it, for Chinese names)."""
    lab, got = re.sub(r"\W", "", fold(label)), re.sub(r"\W", "", fold(author))
    return bool(lab) and (got.endswith(lab) or bool(re.match(r"[\u3400-\u9fff]", lab)) and got.startswith(lab))


def dev_rows(manifest: Path) -> list[dict]:
    with open(manifest, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def dev_metadata(folder: Path, rows: list[dict]) -> dict:
    """Per kind: title, first author and year accuracy of PDFs read on their own."""
    from paperlens.core.parse import ParseError

    tally: dict[str, dict] = {}
    errors = []
    seconds = 0.0
    for r in rows:
        path = folder / r["repo"] / r["path"]
        start = time.process_time()
        try:
            p = parse_file(path).papers[0]
            title, first, year, reason = p.title, (p.authors[:1] or [""])[0], p.year, ""
        except ParseError as exc:
            title, first, year, reason = "", "", "", str(exc)
        seconds += time.process_time() - start
        for kind in (r["kind"], "papers" if r["kind"] in PAPER_KINDS else None, "all"):
            if kind is None:
                continue
            t = tally.setdefault(kind, {"n": 0, "title": 0, "first_author": 0, "first_author_n": 0,
                                        "year": 0, "year_n": 0, "year_unprinted_given": 0})
            t["n"] += 1
            ok_title = loose(title) == loose(r["title"])
            t["title"] += ok_title
            ok_first = True
            if r["first_author_surname"]:
                t["first_author_n"] += 1
                ok_first = surname_ok(r["first_author_surname"], first)
                t["first_author"] += ok_first
            ok_year = True
            if r["year"]:
                t["year_n"] += 1
                ok_year = year == r["year"]
                t["year"] += ok_year
            elif year:
                t["year_unprinted_given"] += 1
        if not (ok_title and ok_first and ok_year):
            errors.append({"path": r["path"], "kind": r["kind"], "reason": reason,
                           "title": [r["title"], title] if not ok_title else None,
                           "first_author": [r["first_author_surname"], first] if not ok_first else None,
                           "year": [r["year"], year] if not ok_year else None})
    out = {}
    for kind, t in tally.items():
        out[kind] = {"n": t["n"], "title": round(t["title"] / t["n"], 3),
                     "first_author": round(t["first_author"] / max(1, t["first_author_n"]), 3),
                     "year": round(t["year"] / max(1, t["year_n"]), 3), "year_n": t["year_n"],
                     "year_unprinted_given": t["year_unprinted_given"]}
    order = list(PAPER_KINDS) + ["slides", "other", "papers", "all"]
    return {"by_kind": {k: out[k] for k in order if k in out}, "cpu_seconds": round(seconds, 2),
            "errors": errors}


def dev_joins(folder: Path, bib: Path) -> dict:
    """Index the hand-written .bib with its 30 PDFs; every entry must be one paper with its PDF."""
    from paperlens.core.library import Library

    text = bib.read_text(encoding="utf-8")
    wanted = re.findall(r"^% dev-pdf: (.+)$\n@\w+\{([^,]+),", text, re.MULTILINE)
    with tempfile.TemporaryDirectory() as tmp:
        lib_dir = Path(tmp) / "library"
        for rel, _ in wanted:
            dest = lib_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, dest)
        shutil.copyfile(bib, lib_dir / "references.bib")
        lib = Library([lib_dir], index_path=str(Path(tmp) / "index"))
        try:
            lib.update()
            joined, missed = 0, []
            for rel, key in wanted:
                row = lib.resolve(key)
                want = str((lib_dir / rel).resolve())
                if row is not None and row.fulltext == want:
                    joined += 1
                else:
                    missed.append({"key": key, "pdf": rel, "joined_to": row.fulltext if row else None})
            papers = sum(1 for r in lib.rows() if not r.alias_of)
        finally:
            lib.close()
    return {"entries": len(wanted), "joined": joined, "rate": round(joined / max(1, len(wanted)), 3),
            "papers_in_library": papers, "missed": missed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(ROOT.parent / "shared" / "seeds"))
    ap.add_argument("--dev-pdfs", default="", help="folder written by shared/dev-pdfs/extract.sh")
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared" / "dev-pdfs" / "manifest.tsv"))
    ap.add_argument("--errors", action="store_true", help="list every dev-set PDF read wrongly")
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
    report = {"seed_papers": summarise(seed_rows), "generated_pdfs": summarise(pdf_rows),
              "seed_errors": [r for r in seed_rows if not all(r["ok"].values())]}
    if args.dev_pdfs:
        folder = Path(args.dev_pdfs)
        dev = dev_metadata(folder, dev_rows(Path(args.manifest)))
        if not args.errors:
            dev["errors"] = len(dev["errors"])
        report["dev_pdfs_without_entry"] = dev
        report["dev_pdfs_joins"] = dev_joins(folder, ROOT / "bench" / "labels" / "dev-pdfs.bib")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
