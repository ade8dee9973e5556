"""Indexing benchmark on a library made from the seed papers. Prints JSON.

    python bench/index_bench.py [--seeds ../shared/seeds] [--papers 200] [--pdf-share 0.5]

Builds (and caches under bench/.cache) a folder of papers recombined from the seed texts: PDFs
in one- and two-column layouts (generated with the test fixtures' PDF writer) and text files,
plus one broken and one encrypted PDF. Measures a full index with 1 and 2 workers (MB of text
per second, papers per second), the latency of one changed file becoming searchable, the
re-open cost of an untouched folder, the index size on disk, and page accuracy: for every
generated PDF, the first sentence of each section is searched as a phrase and the page of the
best passage of that paper is compared with the page the sentence was written on.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.pdfs import latin1, make_broken_pdf, make_encrypted_pdf, make_paper_pdf  # noqa: E402

from paperlens.core.index.whoosh.store import IndexStore  # noqa: E402
from paperlens.core.library import Library  # noqa: E402
from paperlens.core.parse import parse_file  # noqa: E402


def seed_papers(seeds: Path):
    """(title, authors, abstract, sections) of every full-text seed paper."""
    out = []
    for f in sorted((seeds / "cvpr2024").glob("*.txt")):
        res = parse_file(f)
        paper = res.papers[0]
        sections: dict[str, list[str]] = {}
        for p in res.passages:
            if p.section == "abstract":
                continue
            name = re.sub(r"^\d+(\.\d+)*\.?\s*", "", p.section) or "Body"
            sections.setdefault(name, []).append(p.text)
        out.append((paper.title, paper.authors[:6], paper.abstract,
                    [(h, "\n\n".join(ps)) for h, ps in sections.items()]))
    return out


def build_corpus(seeds: Path, n: int, pdf_share: float, dest: Path) -> dict:
    """Deterministic corpus: paper i is seed (i % k) with its sections shuffled by seed i."""
    manifest = dest / "corpus.json"
    key = f"{n}-{pdf_share}-v2"
    if manifest.exists() and json.loads(manifest.read_text()).get("key") == key:
        return json.loads(manifest.read_text())
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    papers = seed_papers(seeds)
    rng = random.Random(42)
    expected = {}
    n_pdf = int(n * pdf_share)
    for i in range(n):
        title, authors, abstract, sections = papers[i % len(papers)]
        sections = sections[:]
        rng.shuffle(sections)
        title = f"{title} (variant {i})"
        if i < n_pdf:
            path = dest / f"paper-{i:05d}.pdf"
            pages = make_paper_pdf(path, title=latin1(title), authors=[latin1(a) for a in authors],
                                   abstract=latin1(abstract),
                                   sections=[(latin1(h), latin1(b)) for h, b in sections[:8]],
                                   references=[], columns=1 + i % 2)
            expected[path.name] = pages
        else:
            body = "\n".join(f"{k}. {h}\n{b}" for k, (h, b) in enumerate(sections, 1))
            (dest / f"paper-{i:05d}.txt").write_text(
                f"{title}\n{', '.join(authors)}\nUniversity of Benchmarks\nPreprint 2024.\nAbstract\n"
                f"{abstract}\n{body}\n", encoding="utf-8")
    make_broken_pdf(dest / "broken.pdf")
    make_encrypted_pdf(dest / "encrypted.pdf")
    data = {"key": key, "expected_pages": expected}
    manifest.write_text(json.dumps(data))
    return data


def text_bytes(folder: Path) -> int:
    """Bytes of text the indexer reads: text files as they are, PDFs as extracted text."""
    total = 0
    from paperlens.core.parse.pdf import extract_pages
    for f in folder.iterdir():
        if f.suffix == ".txt":
            total += f.stat().st_size
        elif f.suffix == ".pdf":
            try:
                total += sum(len(p.encode("utf-8")) for p in extract_pages(f))
            except Exception:
                pass
    return total


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(ROOT.parent / "shared" / "seeds"))
    ap.add_argument("--papers", type=int, default=200)
    ap.add_argument("--pdf-share", type=float, default=0.5)
    ap.add_argument("--cache", default=str(ROOT / "bench" / ".cache"))
    args = ap.parse_args()
    cache = Path(args.cache)
    corpus_dir = cache / f"corpus-{args.papers}-{args.pdf_share}"
    t = time.perf_counter()
    corpus = build_corpus(Path(args.seeds), args.papers, args.pdf_share, corpus_dir)
    build_s = time.perf_counter() - t
    mb = text_bytes(corpus_dir) / 1e6
    result = {"papers": args.papers, "pdf_share": args.pdf_share, "text_mb": round(mb, 2),
              "corpus_build_s": round(build_s, 1), "full_index": {}}
    for workers in (1, 2):
        ix = cache / f"ix-{args.papers}-{workers}"
        shutil.rmtree(ix, ignore_errors=True)
        store = IndexStore(corpus_dir, ix, workers=workers)
        t = time.perf_counter()
        report = store.update()
        dt = time.perf_counter() - t
        result["full_index"][f"workers_{workers}"] = {
            "seconds": round(dt, 2), "mb_per_s": round(mb / dt, 2),
            "papers_per_s": round(report.papers_total / dt, 1), "papers": report.papers_total,
            "skipped": [f"{p}: {r}" for p, r in report.skipped]}
        store.close()
    ix = cache / f"ix-{args.papers}-2"
    result["index_size_mb"] = round(dir_size(ix) / 1e6, 2)
    # re-open untouched: nothing parsed
    t = time.perf_counter()
    store = IndexStore(corpus_dir, ix)
    r = store.update()
    result["reopen_untouched"] = {"seconds": round(time.perf_counter() - t, 3), "files_parsed": r.files_parsed}
    # one changed file -> searchable
    lib = Library.__new__(Library)
    lib.stores = [store]
    target = next(f for f in sorted(corpus_dir.glob("*.txt")))
    original = target.read_text(encoding="utf-8")
    lat = []
    for i in range(5):
        word = "zyx" + hashlib.sha1(str(i).encode()).hexdigest()[:8]
        target.write_text(original.replace("Abstract\n", f"Abstract\n{word} ", 1), encoding="utf-8")
        t = time.perf_counter()
        store.update(only=[target.name])
        hits = lib.search(word)
        lat.append(time.perf_counter() - t)
        assert hits and hits[0].path == str(target), word
    target.write_text(original, encoding="utf-8")
    store.update(only=[target.name])
    result["changed_file_searchable_s"] = {"max": round(max(lat), 3), "mean": round(sum(lat) / len(lat), 3)}
    # page accuracy on generated PDFs
    total = correct = 0
    for name, pages in corpus["expected_pages"].items():
        for sentence, page in pages.items():
            words = sentence.split()[:10]
            if len(words) < 5:
                continue
            q = '"' + " ".join(w.strip('",;:()[]') for w in words) + '"'
            hits = [h for h in lib.search(q, limit=200, per_paper=50) if h.path.endswith(name)]
            total += 1
            correct += bool(hits) and hits[0].page == page
    result["page_accuracy"] = {"checked": total, "correct": correct,
                               "accuracy": round(correct / total, 4) if total else None}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
