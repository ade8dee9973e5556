"""How well the citation graph links real PDFs to the library papers their references name. JSON.

    python bench/graph_accuracy.py --dev-pdfs DIR [--manifest ../shared/dev-pdfs/manifest.tsv]
                                   [--labels bench/labels/dev-graph-links.json] [--sample 50]
                                   [--errors]
    python bench/graph_accuracy.py --synthetic 10000 [--seeds ../shared/seeds]

DIR holds the development set (``bash ../shared/dev-pdfs/extract.sh MIRROR DIR``): 120 real PDFs,
their titles read by a person (manifest.tsv). All of them are indexed as one library, and the
library's citation graph (what hovers say as "cited by", what find-references follows) is
compared with:

- **title-named links** (the lower bound of the truth, built without paperlens's parsers): paper
  A links to paper B when the text of A after its last references heading (pdfium's raw text,
  hyphenation joined; the last third of the pages when there is no such heading) contains B's
  hand-read title (three words or more) as a phrase, compared with case, accents, punctuation
  and spacing folded. *Recall* is the share of these links the graph has, per kind of citing PDF;
- **the other links** the graph has: a seeded sample of them is labelled by reading
  (``--labels``: ``{"A path -> B path": true|false}``); *precision on the confirmed sample* is
  the share of labelled sampled links that are right. Links of the sample without a label are
  listed so that a person can label them (``unlabelled``).

``--synthetic N`` times the graph's build instead: N papers of made-up titles (words of the seed
papers' cited titles, recombined, as in ``references_accuracy.py``), ~28 references each, a
quarter of them naming a library paper (in the forms reference lists use: case, a dropped
subtitle, a title field mis-split from the author list), the rest naming papers outside the
library; reported: build seconds, links, and the share of planted links found.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core.library import Library  # noqa: E402

HEADING = re.compile(r"^\s*(?:\d+\.?|[IVX]+\.)?\s*(references|bibliography|literature cited|"
                     r"works cited|参考文献)\s*:?\s*$", re.I | re.M)
MIN_TITLE_WORDS = 3


def fold(s: str) -> str:
    """Case, accents, punctuation and spacing folded: 'Paxos  Made-Simple.' -> 'paxos made simple'."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[^\W_]+", s))


def raw_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            pages.append(tp.get_text_range())
            tp.close()
            page.close()
        return pages
    finally:
        pdf.close()


def reference_text(pages: list[str]) -> str:
    """The text after the last references heading, else the last third of the pages; line-end
    hyphenation joined (pdfium marks it with U+0002 / U+FFFE, or a plain hyphen)."""
    text = "\n".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u0002\ufffe]\s*\n?", "", text)
    heads = list(HEADING.finditer(text))
    if heads:
        tail = text[heads[-1].end():]
    else:
        tail = "\n".join(pages[len(pages) - max(1, len(pages) // 3):])
    tail = re.sub(r"(?<=[a-z])-\s*\n\s*(?=[a-z])", "", tail)
    return tail


def title_named_links(folder: Path, manifest: list[dict]) -> tuple[set[tuple[str, str]], dict]:
    titles = {m["rel"]: fold(m["title"]) for m in manifest}
    usable = {rel: t for rel, t in titles.items() if len(t.split()) >= MIN_TITLE_WORDS}
    links: set[tuple[str, str]] = set()
    unreadable = []
    for m in manifest:
        try:
            tail = " " + fold(reference_text(raw_pages(folder / m["rel"]))) + " "
        except Exception as exc:   # noqa: BLE001 - reported
            unreadable.append(f"{m['rel']}: {exc}")
            continue
        for rel, t in usable.items():
            if rel != m["rel"] and t != titles[m["rel"]] and f" {t} " in tail:
                links.add((m["rel"], rel))
    return links, {"titles_used": len(usable), "unreadable": unreadable}


def graph_links(folder: Path, index: Path) -> tuple[set[tuple[str, str]], dict]:
    lib = Library([folder], index_path=str(index))
    try:
        t0 = time.perf_counter()
        lib.update()
        t1 = time.perf_counter()
        graph = lib.graph()
        t2 = time.perf_counter()
        files: dict[str, str] = {}        # row id -> file (relative to the folder)
        for r in lib.rows():
            src = r.file or r.source
            if src:
                try:
                    rel = str(Path(src).resolve().relative_to(folder.resolve()))
                except ValueError:
                    continue
                files[r.id] = rel
                if r.alias_of:
                    files.setdefault(r.alias_of, rel)
        links = set()
        for citing, cited in graph.cites.items():
            for target in cited:
                if citing in files and target in files:
                    links.add((files[citing], files[target]))
        return links, {"index_s": round(t1 - t0, 1), "graph_s": round(t2 - t1, 3),
                       "papers": len(files)}
    finally:
        lib.close()


def synthetic_library(n: int, seeds: Path, refs_per_paper: int = 28, seed: int = 1234):
    """A Library-like object over N made-up papers with reference lines (no index, no files),
    and the planted links {(citing id, cited id)}."""
    import threading

    from paperlens.core.index.table import PaperTable, Row
    from paperlens.core.models import Reference
    from references_accuracy import synthetic_titles

    rng = random.Random(seed)
    cvpr = seeds / "cvpr2024" if (seeds / "cvpr2024").is_dir() else seeds
    titles = synthetic_titles(cvpr, 2 * n, rng)
    lib_titles, outside = titles[:n], titles[n:]
    names = ["Smith", "Zhang", "Wang", "Li", "Garcia", "Kumar", "Müller", "Rossi", "Kim", "Chen",
             "Nguyen", "Ivanov", "Tanaka", "Okafor", "Dubois", "Silva", "Cohen", "Novak", "Berg", "Lopez"]
    names += [f"{a}{b}" for a in ("Ha", "Ber", "Kov", "Mar", "Sol", "Tur") for b in ("ris", "tin", "ova", "lund", "ek")]

    def authors() -> list[str]:
        return rng.sample(names, rng.randint(1, 4))

    rows = []
    for i, t in enumerate(lib_titles):
        rows.append(Row(f"P{i:05d}", f"k{i}", t, authors(), str(rng.randint(1990, 2024)), "", f"/lib/p{i}.pdf",
                        0, "pdf", f"/lib/p{i}.pdf"))
    planted = set()

    def entry(title: str, surnames: list[str], year: str) -> tuple[str, str]:
        form = rng.random()
        au = ", ".join(f"{chr(65 + rng.randrange(26))}. {s}" for s in surnames)
        shown = title.lower() if form < 0.3 else title.split(": ", 1)[-1] if form < 0.4 else title
        text = f"{au}. {shown}. In Proc. CVPR, {year}."
        field = shown if form < 0.9 else f"{au}. {shown}"      # a title field mis-split
        return text, field

    # as the index keeps them: a JSON line per paper of the fields it keeps (written and read by
    # the store's own functions), parsed by each build; the whole entries as parsed (what
    # store.references gives) apart, as JSON text (on disk in an index)
    from paperlens.core.index.whoosh.store import _references, reference_line

    lines = []
    full = {}
    for i, row in enumerate(rows):
        refs = []
        for k in range(refs_per_paper):
            if rng.random() < 0.25:
                j = rng.randrange(n)
                cited = rows[j]
                text, field = entry(cited.title, cited.surnames, cited.year)
                if j != i:
                    planted.add((row.id, cited.id))
            else:
                text, field = entry(rng.choice(outside), authors(), str(rng.randint(1990, 2024)))
            refs.append(Reference(str(k + 1), text=text, title=field, year=text[-5:-1]))
        full[row.id] = json.dumps([r.to_dict() for r in refs], ensure_ascii=False)
        lines.append((row.id, reference_line(refs)))

    class Store:
        folder = Path("/lib")
        table = PaperTable(rows)
        stamp = 1
        full_reads = 0

        def reference_lines(self):
            for pid, line in lines:
                yield pid, _references(json.loads(line))

        def reference_lines_lazily(self):
            # as the Whoosh store does: a hash of each line, the line decoded when it is read
            for pid, line in lines:
                yield pid, hash(line), (lambda line=line: _references(json.loads(line)))

        def references(self, pid):
            self.full_reads += 1
            return [Reference.from_dict(d) for d in json.loads(full.get(pid, "[]"))]

    lib = Library.__new__(Library)
    lib.stores = [Store()]
    lib._keys = None
    lib._graph_lock = threading.Lock()
    lib.graph_builds = 0
    lib._building = set()
    return lib, planted


def bench_synthetic(n: int, seeds: Path) -> dict:
    from paperlens.core.index.whoosh.store import REF_FIELDS

    lib, planted = synthetic_library(n, seeds)
    lib.stores[0].table.get("P00000")
    t0, c0 = time.perf_counter(), time.process_time()
    graph = lib.graph()
    build_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    found = {(a, b) for a, cited in graph.cites.items() for b in cited}
    return {"papers": n, "references": n * 28, "graph_build_s": round(build_s, 2),
            "graph_build_cpu_s": round(cpu_s, 2),
            "links": len(found), "planted": len(planted),
            "planted_found": round(len(found & planted) / max(1, len(planted)), 3),
            "unplanted_links": len(found - planted), "stored_fields": list(REF_FIELDS),
            "papers_whose_entries_were_reread": lib.stores[0].full_reads}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev-pdfs", type=Path)
    ap.add_argument("--synthetic", type=int, default=0, help="time the graph of N made-up papers")
    ap.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    ap.add_argument("--manifest", type=Path, default=ROOT.parent / "shared" / "dev-pdfs" / "manifest.tsv")
    ap.add_argument("--labels", type=Path, default=ROOT / "bench" / "labels" / "dev-graph-links.json")
    ap.add_argument("--sample", type=int, default=50)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--errors", action="store_true", help="list missed and unconfirmed links")
    args = ap.parse_args()
    if args.synthetic:
        sys.path.insert(0, str(ROOT / "bench"))
        print(json.dumps(bench_synthetic(args.synthetic, args.seeds), indent=2))
        return 0
    if args.dev_pdfs is None:
        ap.error("--dev-pdfs or --synthetic is required")

    with open(args.manifest, encoding="utf-8") as f:
        manifest = list(csv.DictReader(f, delimiter="\t"))
    for m in manifest:
        m["rel"] = f"{m['repo']}/{m['path']}"
    kind = {m["rel"]: m["kind"] for m in manifest}
    present = [m for m in manifest if (args.dev_pdfs / m["rel"]).is_file()]
    if len(present) < len(manifest):
        print(f"{len(manifest) - len(present)} PDFs of the manifest are missing under {args.dev_pdfs}",
              file=sys.stderr)

    truth, truth_info = title_named_links(args.dev_pdfs, present)
    tmp = Path(tempfile.mkdtemp(prefix="paperlens-graph-"))
    try:
        found, graph_info = graph_links(args.dev_pdfs.resolve(), tmp / "index")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per_kind: dict[str, Counter] = defaultdict(Counter)
    for a, b in truth:
        per_kind[kind.get(a, "?")]["truth"] += 1
        per_kind[kind.get(a, "?")]["found"] += (a, b) in found
    recall = {k: {"links": c["truth"], "found": c["found"],
                  "recall": round(c["found"] / c["truth"], 3) if c["truth"] else None}
              for k, c in sorted(per_kind.items())}
    hit = len(truth & found)

    others = sorted(found - truth)
    rnd = random.Random(args.seed)
    sample = rnd.sample(others, min(args.sample, len(others)))
    labels = json.loads(args.labels.read_text(encoding="utf-8")) if args.labels.is_file() else {}
    labels = {k: v for k, v in labels.items() if not k.startswith("_")}
    named = {f"{a} -> {b}": (a, b) for a, b in sample}
    judged = {k: labels[k] for k in named if k in labels}
    right = sum(1 for v in judged.values() if v)
    per_kind_other: dict[str, Counter] = defaultdict(Counter)
    for k, v in judged.items():
        c = per_kind_other[kind.get(named[k][0], "?")]
        c["labelled"] += 1
        c["right"] += bool(v)

    out = {
        "truth": {"title_named_links": len(truth), **truth_info},
        "graph": {"links": len(found), **graph_info},
        "recall_title_named": round(hit / len(truth), 3) if truth else None,
        "recall_per_kind": recall,
        "other_links": len(others),
        "precision_confirmed_sample": {
            "sampled": len(sample), "labelled": len(judged), "right": right,
            "precision": round(right / len(judged), 3) if judged else None,
            "per_kind": {k: {**c, "precision": round(c["right"] / c["labelled"], 3)}
                         for k, c in sorted(per_kind_other.items())},
        },
        "targets": {"recall_title_named": 0.90, "precision_confirmed_sample": 0.95},
    }
    unlabelled = [k for k in named if k not in labels]
    if unlabelled:
        out["unlabelled"] = unlabelled
    if args.errors:
        out["missed"] = sorted(f"{a} -> {b}" for a, b in truth - found)
        out["wrong"] = sorted(k for k, v in judged.items() if not v)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
