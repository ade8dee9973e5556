"""Accuracy of reference-list parsing, numeric citations and reference matching. Prints JSON.

    python bench/references_accuracy.py [SEEDS] [--labels bench/labels/references.json]
                                        [--library-size 10000]
    python bench/references_accuracy.py --dev-pdfs DIR [--dev-labels bench/labels/dev-reference-entries.json]
                                        [--errors]

SEEDS is the seed folder (default ``../shared/seeds``; the papers are read from its
``cvpr2024`` folder). The labels were made by hand from the seed texts (see ``_about`` in the
JSON). Reported:

* ``parsing``: per paper, the number of entries found against the expected count, and the
  sampled entries whose joined text starts / ends / contains what it should (compared without
  whitespace, accents folded, case-insensitive);
* ``citations``: sampled numeric citations (found by a unique context string) whose expanded
  labels are right, with ``max_label`` = the number of parsed entries; plus negatives that must
  not be citations;
* ``matching``: precision / recall / F1 of :class:`ReferenceMatcher` on hand-labelled
  (entry, library paper or none) pairs with the default thresholds, a threshold sweep, the same
  with the labelled library hidden among ~10k synthetic titles, and the time to build that index
  and to match 50 entries against it.

With ``--dev-pdfs DIR`` (the development set of real PDFs, ``../shared/dev-pdfs``) it reports
instead, per kind of PDF (two-column, single, scanned, thesis, ...), how well the reference lists
of the hand-labelled PDFs (``--dev-labels``: 100 entries read off the PDFs) are read the way the
library reads them (``parse_pdf``):

* ``split``: entries found against the count on the page, per paper (``count_exact``), and the
  labelled entries found at all (by their label, or by their first words when unnumbered);
* ``fields``: labelled entries whose title (case, accents, punctuation and spacing folded), first
  author surname (:func:`extract_first_author`) and year are right, out of the labelled entries.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core.references import (  # noqa: E402
    LibraryEntry,
    ReferenceMatcher,
    find_numeric_citations,
    numeric_citation_at,
    parse_references,
)


def load_text(path: Path) -> str:
    """A seed text as the parsers see it: UTF-8 (bad bytes replaced), CRLF -> LF, NULs dropped."""
    return path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n") \
        .replace("\r", "\n").replace("\x00", "")


def squash(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"\s+", "", s).casefold()


# --------------------------------------------------------------------------------------------

def bench_parsing(seeds: Path, items: list[dict]) -> dict:
    papers = []
    counts_ok = samples = samples_ok = 0
    failures = []
    timings = []
    for item in items:
        path = seeds / item["paper"]
        text = load_text(path)
        t0 = time.perf_counter()
        entries = parse_references(text)
        timings.append(time.perf_counter() - t0)
        raw = path.read_bytes().decode("utf-8", errors="replace")     # CRLF and NULs kept
        raw_count = len(parse_references(raw))
        by_label = {e.label: e for e in entries}
        labels = [int(e.label) for e in entries if e.label.isdigit()]
        consecutive = labels == list(range(1, len(labels) + 1))
        ok_count = len(entries) == item["count"] and consecutive
        counts_ok += ok_count
        good = 0
        for s in item["entries"]:
            samples += 1
            e = by_label.get(s["label"])
            problems = []
            if e is None:
                problems.append("missing")
            else:
                body = squash(e.text)
                if "starts" in s and not body.startswith(squash(s["starts"])):
                    problems.append("start")
                if "ends" in s and not body.endswith(squash(s["ends"])):
                    problems.append("end")
                if "contains" in s and squash(s["contains"]) not in body:
                    problems.append("contains")
                for bad in s.get("absent", []):
                    if squash(bad) in body:
                        problems.append(f"has {bad!r}")
            if problems:
                failures.append({"paper": item["paper"][:40], "label": s["label"], "problems": problems,
                                 "text": e.text if e else None})
            else:
                good += 1
        samples_ok += good
        papers.append({"paper": item["paper"][:40], "expected": item["count"], "found": len(entries),
                       "found_raw_crlf_nul": raw_count, "labels_consecutive": consecutive,
                       "samples_ok": f"{good}/{len(item['entries'])}"})
    return {
        "papers": papers,
        "count_exact": f"{counts_ok}/{len(items)}",
        "sampled_entries_correct": f"{samples_ok}/{samples}",
        "sampled_entry_accuracy": round(samples_ok / max(1, samples), 4),
        "ms_per_paper": round(1000 * sum(timings) / max(1, len(timings)), 2),
        "failures": failures,
    }


def bench_citations(seeds: Path, items: list[dict]) -> dict:
    total = ok = neg_total = neg_ok = at_ok = at_total = 0
    failures = []
    timings = []
    for item in items:
        text = load_text(seeds / item["paper"])
        entries = parse_references(text)
        max_label = max((int(e.label) for e in entries if e.label.isdigit()), default=None)
        t0 = time.perf_counter()
        cites = find_numeric_citations(text, max_label=max_label)
        timings.append(time.perf_counter() - t0)
        for c in item["cites"]:
            ctx = c["context"]
            pos = text.find(ctx)
            if pos < 0 or text.find(ctx, pos + 1) >= 0:
                failures.append({"paper": item["paper"][:40], "context": ctx,
                                 "problem": "context not found" if pos < 0 else "context not unique"})
                continue
            inside = [x for x in cites if x.span.start >= pos and x.span.end <= pos + len(ctx)]
            got: list[str] = []
            for x in inside:
                got.extend(lab for lab in x.labels if lab not in got)
                at_total += 1
                mid = (x.span.start + x.span.end) // 2
                edge_ok = all(numeric_citation_at(text, o, max_label) == x
                              for o in (x.span.start, mid, x.span.end - 1))
                at_ok += edge_ok
            negative = not c["labels"]
            total += not negative
            neg_total += negative
            if got == c["labels"]:
                ok += not negative
                neg_ok += negative
            else:
                failures.append({"paper": item["paper"][:40], "context": ctx, "expected": c["labels"],
                                 "got": got})
    return {
        "citations_correct": f"{ok}/{total}",
        "citation_accuracy": round(ok / max(1, total), 4),
        "negatives_correct": f"{neg_ok}/{neg_total}",
        "citation_at_consistent": f"{at_ok}/{at_total}",
        "ms_per_paper": round(1000 * sum(timings) / max(1, len(timings)), 2),
        "failures": failures,
    }


# --------------------------------------------------------------------------------------------

def library_entries(data: list[dict]) -> list[LibraryEntry]:
    return [LibraryEntry(id=d["id"], title=d["title"], doi=d.get("doi", ""), arxiv=d.get("arxiv", ""),
                         year=d.get("year", ""), surnames=d.get("surnames", [])) for d in data]


def score_pairs(matcher: ReferenceMatcher, pairs: list[dict], use_parsed: bool = False) -> dict:
    tp = fp = fn = tn = 0
    errors = []
    for p in pairs:
        text = p["parsed"] if use_parsed else p["text"]
        got = matcher.match(text)
        got_id = got[0] if got else None
        exp = p["expected"]
        if got_id is not None and got_id == exp:
            tp += 1
        elif got_id is None and exp is None:
            tn += 1
        else:
            if got_id is not None:
                fp += 1
            if exp is not None:
                fn += 1
            errors.append({"paper": p["paper"][:30], "label": p["label"], "expected": exp,
                           "got": list(got) if got else None})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4), "errors": errors}


def synthetic_titles(seeds: Path, n: int, rng: random.Random) -> list[str]:
    """Plausible but fake titles: words of the seed papers' cited titles, recombined."""
    words: list[str] = []
    for path in sorted((seeds).glob("*.txt")):
        for e in parse_references(load_text(path)):
            words.extend(w for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]+", e.title))
    if not words:
        words = ["learning", "deep", "image", "model", "network", "vision", "graph", "3d"]
    out = []
    for _ in range(n):
        k = rng.randint(3, 12)
        t = " ".join(rng.choice(words) for _ in range(k))
        if rng.random() < 0.4:
            t = rng.choice(words).capitalize() + ": " + t
        out.append(t)
    return out


def bench_matching(seeds: Path, labels: dict, library_size: int) -> dict:
    lib = library_entries(labels["library"])
    pairs = labels["matching"]
    for p in pairs:    # the same entries as the parser gives them (what the server will pass)
        one = parse_references(p["text"], section=(0, len(p["text"])))
        p["parsed"] = one[0].text if one else p["text"]
    matcher = ReferenceMatcher(lib)
    default = score_pairs(matcher, pairs)
    parsed = score_pairs(matcher, pairs, use_parsed=True)
    sweep = []
    for t in (80, 84, 86, 88, 90, 92, 94, 96, 98):
        m = ReferenceMatcher(lib, threshold=t, partial_threshold=min(100.0, t + 3))
        s = score_pairs(m, pairs)
        sweep.append({"threshold": t, "partial_threshold": min(100, t + 3), "precision": s["precision"],
                      "recall": s["recall"], "f1": s["f1"], "fp": s["fp"]})
    no_year = score_pairs(ReferenceMatcher(lib, year_tolerance=None), pairs)
    sweep_no_authors = []
    for t in (80, 84, 88, 90, 92, 94, 96):
        s = score_pairs(ReferenceMatcher(lib, threshold=t, partial_threshold=min(100.0, t + 3), strict=0,
                                         min_partial_words=1), pairs)
        sweep_no_authors.append({"threshold": t, "precision": s["precision"], "recall": s["recall"],
                                 "f1": s["f1"], "fp": s["fp"]})
    # margin: the weakest right title match against the strongest wrong candidate
    loose = ReferenceMatcher(lib, threshold=50, partial_threshold=50)
    right, wrong = [], []
    for p in pairs:
        got = loose.match(p["text"])
        if got is None or got[1] >= 100 and got[0] == p["expected"]:
            continue
        (right if got[0] == p["expected"] else wrong).append(
            {"label": f"{p['paper'][:12]}[{p['label']}]", "got": got[0], "score": got[1]})
    right.sort(key=lambda r: r["score"])
    wrong.sort(key=lambda r: -r["score"])

    rng = random.Random(1234)
    fake = [LibraryEntry(id=f"S{i:05d}", title=t, year=str(rng.randint(1990, 2024)))
            for i, t in enumerate(synthetic_titles(seeds, max(0, library_size - len(lib)), rng))]
    big_lib = lib + fake
    t0 = time.perf_counter()
    big = ReferenceMatcher(big_lib)
    build_s = time.perf_counter() - t0
    sample = [p["text"] for p in pairs[:50]]
    t0 = time.perf_counter()
    for text in sample:
        big.match(text)
    match_s = time.perf_counter() - t0
    big_score = score_pairs(big, pairs)
    return {
        "library_titles": len(lib),
        "pairs": len(pairs),
        "pairs_with_match": sum(1 for p in pairs if p["expected"]),
        "default_thresholds": {"threshold": matcher.threshold, "partial_threshold": matcher.partial_threshold,
                               "strict": matcher.strict, "year_tolerance": matcher.year_tolerance},
        "raw_entries": default,
        "parsed_entries": {k: v for k, v in parsed.items() if k != "errors"},
        "without_year_check": {k: v for k, v in no_year.items() if k != "errors"},
        "sweep": sweep,
        "sweep_without_author_check": sweep_no_authors,
        "margin": {"weakest_right_title_matches": right[:5], "strongest_wrong_candidates": wrong[:8]},
        "large_library": {
            "size": len(big_lib),
            "build_s": round(build_s, 3),
            "match_50_entries_s": round(match_s, 4),
            "ms_per_entry": round(1000 * match_s / max(1, len(sample)), 3),
            "precision": big_score["precision"], "recall": big_score["recall"], "f1": big_score["f1"],
            "errors": big_score["errors"],
        },
    }


def fold(s: str) -> str:
    """Case, accents, punctuation and spacing folded: 'Zookeeper: Wait-free' -> 'zookeeper wait free'."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[^\W_]+", s))


def _find_entry(entries: list, label: dict):
    """The parsed entry a labelled one stands for: by its printed label, else by its first words."""
    if label.get("label"):
        for e in entries:
            if e.label == label["label"]:
                return e
        return None
    start = squash(label["first_words"])
    for e in entries:
        if squash(e.text).startswith(start):
            return e
    return None


def bench_dev_pdfs(folder: Path, labels: dict, errors: bool) -> dict:
    from paperlens.core.parse.pdf import parse_pdf
    from paperlens.core.references.fields import extract_first_author

    per_kind: dict[str, dict] = {}
    papers, failures = [], []
    for item in labels["papers"]:
        kind = item["kind"]
        k = per_kind.setdefault(kind, {"papers": 0, "counted": 0, "count_exact": 0, "found": 0,
                                       "expected": 0, "labelled": 0, "entry_found": 0,
                                       "title": 0, "first_author": 0, "year": 0})
        k["papers"] += 1
        try:
            result = parse_pdf(folder / item["pdf"])
            entries = result.papers[0].references if result.papers else []
        except Exception as exc:   # noqa: BLE001 - reported
            entries = []
            failures.append({"pdf": item["pdf"], "problem": f"not parsed: {exc}"})
        if item.get("count"):
            k["counted"] += 1
            k["count_exact"] += len(entries) == item["count"]
            k["found"] += min(len(entries), item["count"])
            k["expected"] += item["count"]
        ok = {"entry": 0, "title": 0, "first_author": 0, "year": 0}
        for lab in item["entries"]:
            k["labelled"] += 1
            e = _find_entry(entries, lab)
            wrong = []
            if e is None:
                wrong = ["missing"]
            else:
                ok["entry"] += 1
                if fold(e.title) == fold(lab["title"]):
                    ok["title"] += 1
                else:
                    wrong.append("title")
                if fold(extract_first_author(e.text)) == fold(lab["first_author"]):
                    ok["first_author"] += 1
                else:
                    wrong.append("first_author")
                if e.year == lab["year"]:
                    ok["year"] += 1
                else:
                    wrong.append("year")
            if wrong:
                failures.append({"pdf": item["pdf"].rsplit("/", 1)[-1], "entry": lab["label"] or lab["first_words"],
                                 "wrong": wrong, "expected": {f: lab[f] for f in ("title", "first_author", "year")},
                                 "got": None if e is None else {"title": e.title,
                                                                "first_author": extract_first_author(e.text),
                                                                "year": e.year, "text": e.text[:200]}})
        k["entry_found"] += ok["entry"]
        for f in ("title", "first_author", "year"):
            k[f] += ok[f]
        papers.append({"pdf": item["pdf"].rsplit("/", 1)[-1][:60], "kind": kind, "expected": item.get("count"),
                       "found": len(entries), "labelled": len(item["entries"]), **ok})

    def rates(k: dict) -> dict:
        n = max(1, k["labelled"])
        return {"papers": k["papers"],
                "split": {"count_exact": f"{k['count_exact']}/{k['counted']}",
                          "entries_found_of_counted": f"{k['found']}/{k['expected']}",
                          "labelled_entries_found": round(k["entry_found"] / n, 3)},
                "fields": {"labelled": k["labelled"], "title": round(k["title"] / n, 3),
                           "first_author": round(k["first_author"] / n, 3), "year": round(k["year"] / n, 3)}}

    total: dict = {}
    for k in per_kind.values():
        for key, v in k.items():
            total[key] = total.get(key, 0) + v
    out = {"dev_pdfs": str(folder), "by_kind": {kind: rates(k) for kind, k in sorted(per_kind.items())},
           "all": rates(total) if total else {}, "papers": papers}
    if errors:
        out["failures"] = failures
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="?", default="../shared/seeds")
    ap.add_argument("--labels", default=str(ROOT / "bench" / "labels" / "references.json"))
    ap.add_argument("--library-size", type=int, default=10000)
    ap.add_argument("--dev-pdfs", type=Path, help="the development PDFs: report split and fields per kind")
    ap.add_argument("--dev-labels", type=Path, default=ROOT / "bench" / "labels" / "dev-reference-entries.json")
    ap.add_argument("--errors", action="store_true", help="with --dev-pdfs: list the wrong entries")
    args = ap.parse_args(argv)
    if args.dev_pdfs is not None:
        labels = json.loads(args.dev_labels.read_text(encoding="utf-8"))
        print(json.dumps(bench_dev_pdfs(args.dev_pdfs, labels, args.errors), indent=1, ensure_ascii=False))
        return 0
    seeds = Path(args.seeds)
    if not seeds.exists() and not Path(args.seeds).is_absolute():
        seeds = (ROOT / args.seeds).resolve()
    papers = seeds / "cvpr2024" if (seeds / "cvpr2024").is_dir() else seeds
    if not papers.is_dir():
        print(json.dumps({"error": f"no seed folder at {seeds}"}))
        return 2
    labels = json.loads(Path(args.labels).read_text(encoding="utf-8"))
    report = {
        "seeds": str(papers),
        "parsing": bench_parsing(papers, labels["parsing"]),
        "citations": bench_citations(papers, labels["citations"]),
        "matching": bench_matching(papers, labels, args.library_size),
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
