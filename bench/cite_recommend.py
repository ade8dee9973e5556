"""What to cite here, measured: leave-one-out on real documents, and completion latency at 10k. JSON.

    python bench/cite_recommend.py --docs DIR [--index-root DIR] [--names a,b]
                                   [--latency-library FOLDER --latency-index DIR] [--runs N]

DIR holds the development documents (``bash bench/cite_docs.sh MIRROR DIR``): for each thesis,
DIR/<name>/chapters/*.tex (read in order as one document) and DIR/<name>/library/*.bib (the
library: the thesis' own bibliography, indexed with paperlens under --index-root, kept between
runs). At each citation of the document whose keys the library has, its keys are removed (the
cursor left in the empty ``\\cite{}``) and the rank of each removed key among the library's keys
is recorded (other removed keys of the same citation do not count against it) for

* ``today``: core/features/completion.py without the context (``by_context=False``), empty prefix;
* ``bm25``: the library's ranked search (``Library.search``, BM25 over titles, abstracts and
  passages) with the words of the sentence as the query, one hit per paper;
* ``context``: core/features/completion.py as it ranks by the context now.

It prints recall@1, recall@10 and MRR (a key not offered counts 0) per document and over all
keys. With ``--latency-library`` (the generated corpus' ``library`` folder, e.g.
bench/.cache/corpus-10000-s42-p0.05/library) and ``--latency-index`` (its index, built once:
this script builds it when missing, ~10 min at 10k) it times context-ranked completion at each
citation of that corpus' draft.tex (limit 50, as the server asks), ``--runs`` rounds: p50/p95/max
in ms (wall, and CPU time of the request's thread: on a shared machine the wall time is mostly
waiting), the next keystrokes in the same citation (one character typed: the search is
remembered), the first request (which starts the titles' index) and the titles' index apart.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core import citations, recommend  # noqa: E402
from paperlens.core.features import completion  # noqa: E402
from paperlens.core.features.document import make_snapshot  # noqa: E402
from paperlens.core.features.view import LocalView  # noqa: E402
from paperlens.core.library import Library  # noqa: E402


def cases(text: str, keys: frozenset):
    """(text without the citation's keys, cursor, removed keys) for each citation of ``text``
    naming at least one library key."""
    found = citations.find_citations(text, "latex")
    for start, end, group in recommend._groups(text, found):
        wanted = [k for k in dict.fromkeys(group) if k in keys]
        if wanted:
            yield text[:start] + text[end:], start, wanted


def ranks(order: list[str], wanted: list[str]) -> list[int]:
    """1-based rank of each wanted key in ``order`` not counting the other wanted keys (0: absent)."""
    out = []
    others = set(wanted)
    for key in wanted:
        r = 0
        for k in order:
            if k == key:
                out.append(r + 1)
                break
            if k not in others:
                r += 1
        else:
            out.append(0)
    return out


def metrics(rs: list[int]) -> dict:
    n = len(rs) or 1
    return {"keys": len(rs),
            "recall@1": round(sum(1 for r in rs if r == 1) / n, 3),
            "recall@10": round(sum(1 for r in rs if 0 < r <= 10) / n, 3),
            "mrr": round(sum(1 / r for r in rs if r) / n, 3)}


def evaluate(folder: Path, index_root: Path) -> dict:
    chapters = sorted((folder / "chapters").glob("*.tex"))
    text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in chapters)
    library = Library([folder / "library"], str(index_root / folder.name))
    library.update()
    view = LocalView(library)
    keys = view.keys()
    n = len(library.rows())
    path = folder / "thesis.tex"
    out = {"today": [], "bm25": [], "context": []}
    citations_seen = 0
    started = time.perf_counter()
    for doc_text, cursor, wanted in cases(text, keys):
        citations_seen += 1
        doc = make_snapshot(path.as_uri(), doc_text, "latex", path)
        today = completion.complete(doc, cursor, view, limit=n, by_context=False)
        out["today"] += ranks([i.key for i in today.items] if today else [], wanted)
        ctx = recommend.context(doc_text, cursor, "latex")
        q = recommend.search_query(ctx)
        hits = view.search(q, n, per_paper=1) if q else []
        out["bm25"] += ranks([h.key for h in hits], wanted)
        ranked = completion.complete(doc, cursor, view, limit=n)
        out["context"] += ranks([i.key for i in ranked.items] if ranked else [], wanted)
    library.close()
    return {"document": folder.name, "library_papers": n, "citations": citations_seen,
            "seconds": round(time.perf_counter() - started, 1),
            **{name: metrics(rs) for name, rs in out.items()}, "_ranks": out}


def latency(folder: Path, index: Path, runs: int) -> dict:
    folder = folder.resolve()
    library = Library([folder], str(index))
    t = time.perf_counter()
    library.update()
    update_s = time.perf_counter() - t
    view = LocalView(library)
    draft = folder / "draft.tex"
    text = draft.read_text(encoding="utf-8")
    keys = view.keys()
    todo = [(make_snapshot(draft.as_uri(), t2, "latex", draft), c) for t2, c, _ in cases(text, keys)]
    t = time.perf_counter()
    completion.complete(todo[0][0], todo[0][1], view, limit=50)
    first = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    recommend.title_index(view.rows())          # (the server builds it after each index update)
    titles_s = time.perf_counter() - t
    times, baseline, cpu = [], [], []
    recommend._searches.clear()              # (each round asks anew, as the first request does)
    for _ in range(runs):
        recommend._searches.clear()
        for doc, cursor in todo:
            t, c = time.perf_counter(), time.thread_time()
            completion.complete(doc, cursor, view, limit=50)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            t = time.perf_counter()
            completion.complete(doc, cursor, view, limit=50, by_context=False)
            baseline.append((time.perf_counter() - t) * 1000)
    # the next keystrokes in the same citation (a prefix typed: the editor asks again)
    typed, typed_today = [], []
    for doc, cursor in todo:
        completion.complete(doc, cursor, view, limit=50)        # the request at the opening brace
        for ch in ("a", "ab"):
            t2 = doc.text[:cursor] + ch + doc.text[cursor:]
            d2 = make_snapshot(draft.as_uri(), t2, "latex", draft)
            t = time.perf_counter()
            completion.complete(d2, cursor + len(ch), view, limit=50)
            typed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            completion.complete(d2, cursor + len(ch), view, limit=50, by_context=False)
            typed_today.append((time.perf_counter() - t) * 1000)
    # a keystroke that completes no citation: the context is never read
    t = time.perf_counter()
    plain = make_snapshot(draft.as_uri(), text, "latex", draft)
    for _ in range(200):
        completion.complete(plain, 10, view, limit=50)
    no_citation = (time.perf_counter() - t) * 1000 / 200
    library.close()

    def q(xs, p):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2)
    return {"papers": len(keys), "requests": len(times), "update_s": round(update_s, 1),
            "first_ms": round(first, 1), "titles_index_s": round(titles_s, 2),
            "context_ms": {"p50": q(times, 0.5), "p95": q(times, 0.95), "max": round(max(times), 2),
                           "mean": round(statistics.mean(times), 2)},
            "context_cpu_ms": {"p50": q(cpu, 0.5), "p95": q(cpu, 0.95)},
            "load_average": round(os.getloadavg()[0], 1),
            "today_ms": {"p50": q(baseline, 0.5), "p95": q(baseline, 0.95)},
            "typing_in_the_citation_ms": {"p50": q(typed, 0.5), "p95": q(typed, 0.95),
                                          "today_p50": q(typed_today, 0.5), "today_p95": q(typed_today, 0.95)},
            "no_citation_ms": round(no_citation, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/citebench"))
    ap.add_argument("--names", default="")
    ap.add_argument("--latency-library", type=Path)
    ap.add_argument("--latency-index", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ranks", action="store_true", help="also print every key's rank")
    args = ap.parse_args()
    report: dict = {}
    if args.docs:
        names = [n for n in args.names.split(",") if n] or sorted(
            p.name for p in args.docs.iterdir() if (p / "library").is_dir())
        docs = [evaluate(args.docs / n, args.index_root) for n in names]
        overall = {}
        for method in ("today", "bm25", "context"):
            overall[method] = metrics([r for d in docs for r in d["_ranks"][method]])
        if not args.ranks:
            for d in docs:
                d.pop("_ranks")
        report["documents"] = docs
        report["overall"] = overall
    if args.latency_library:
        report["latency"] = latency(args.latency_library, args.latency_index, args.runs)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
