"""What to cite here, measured: leave-one-out on real documents, and completion latency at 10k. JSON.

    python bench/cite_recommend.py --docs DIR [--index-root DIR] [--names a,b] [--dev-pdfs DIR]
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
* ``context``: core/features/completion.py as it ranks by the context now (with the titles'
  word embeddings when the optional model is installed: ``pip install paperlens[embed]``,
  core/embed.py; made before the first request);
* ``lexical``: the same without the word embeddings (only when they are installed).

It prints recall@1, recall@10 and MRR (a key not offered counts 0) per document and over all
keys. ``--written`` cuts the document at the end of each citation's paragraph (as if written in
order: the later citations of a key, and the rest of the text, are not there yet). With ``--latency-library`` (the generated corpus' ``library`` folder, e.g.
bench/.cache/corpus-10000-s42-p0.05/library) and ``--latency-index`` (its index, built once:
this script builds it when missing, ~10 min at 10k; an index that exists is only read) it times
context-ranked completion at each citation of that corpus' draft.tex (limit 50, as the server
asks), ``--runs`` rounds, p50/p95/max in ms, wall and CPU time of the request's thread (on a
shared machine the wall time is mostly waiting; the load average is printed):

* ``context_ms``: the first completion at each citation (no ranking of that place kept), the
  background work of the previous one done (the titles' index, the sentence's search: what
  happens between two keystrokes); round 1 without the sentence's passages, later rounds with;
* ``back_to_back_ms``: the same, nothing searched yet, each request right after the last one
  (while the search it asked for runs on the background thread);
* ``typing_in_the_citation_ms``: the next keystrokes in the same citation (one and two
  characters typed), ``typing_today_ms`` the same without the context;
* ``no_citation_ms``: a completion request where no key is typed;
* the first request (which starts the titles' index and, when installed, the word embeddings'
  model), the titles' index (and embeddings) apart, their size, and with
  ``--graph`` the citation graph built first (as the server has it after indexing).

``--dev-pdfs DIR`` (the development PDFs, ``bash ../shared/dev-pdfs/extract.sh MIRROR DIR``,
indexed as one library under ``--index-root``/devpdfs) measures the same on full texts. Each
citing sentence bench/citation_support.py finds through the library's citation graph (paper A
of the library citing library paper B) is a case (``pairs``). A's text (its passages, the
reference list left out, its sections as ``\\section{}``) is written as a LaTeX draft whose
citations of library papers (numeric markers, ``[Hel07]`` keys, author-year names, matched as
evidence.citing_sentences matches them) are ``\\cite{}`` of their keys, its other citations
dropped; at the pair's citation the keys are removed (the cursor in the empty ``\\cite{}``,
the draft's other citations kept, as above) and B's rank among the whole library but A is
recorded for ``today``, ``bm25`` and ``context`` (``lexical``) as above. A is not offered (its
row is skipped as a draft's own paper is) and its links are taken out of the citation graph
the ranking reads (a draft's reference list is not in the library). ``pairs_cited_nowhere_else``:
the same pairs with B's key also taken out of the draft's other citations (B cited there for the
first time: no words written around its other citations, no recency of use; the hardest case and
the honest one for a first citation). ``all_citations``: every citation of those drafts naming a
library paper (each key), as ``pairs``. ``--written`` cuts each draft as above. ``--ranks``: each
pair's ranks and the context's first three keys.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core import citations, embed, recommend  # noqa: E402
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


def evaluate(folder: Path, index_root: Path, written: bool = False) -> dict:
    chapters = sorted((folder / "chapters").glob("*.tex"))
    text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in chapters)
    library = Library([folder / "library"], str(index_root / folder.name))
    library.update()
    view = LocalView(library)
    keys = view.keys()
    n = len(library.rows())
    path = folder / "thesis.tex"
    out = {"today": [], "bm25": [], "context": []}
    embedded = embed.available()
    if embedded:
        out["lexical"] = []
        embed.title_vectors(completion._kept.rows(view), wait=True)
    citations_seen = 0
    started = time.perf_counter()
    for doc_text, cursor, wanted in cases(text, keys):
        if written:           # the document as written so far: up to the end of the cursor's paragraph
            end = doc_text.find("\n\n", cursor)
            doc_text = doc_text[:end] if end >= 0 else doc_text
        citations_seen += 1
        doc = make_snapshot(path.as_uri(), doc_text, "latex", path)
        today = completion.complete(doc, cursor, view, limit=n, by_context=False)
        out["today"] += ranks([i.key for i in today.items] if today else [], wanted)
        ctx = recommend.context(doc_text, cursor, "latex")
        q = recommend.search_query(ctx)
        hits = view.search(q, n, per_paper=1) if q else []
        out["bm25"] += ranks([h.key for h in hits], wanted)
        ranked = completion.complete(doc, cursor, view, limit=n, embeddings=embedded)
        out["context"] += ranks([i.key for i in ranked.items] if ranked else [], wanted)
        if embedded:
            lexical = completion.complete(doc, cursor, view, limit=n, embeddings=False)
            out["lexical"] += ranks([i.key for i in lexical.items] if lexical else [], wanted)
    library.close()
    return {"document": folder.name, "library_papers": n, "citations": citations_seen,
            "seconds": round(time.perf_counter() - started, 1),
            **{name: metrics(rs) for name, rs in out.items()}, "_ranks": out}


# -- --dev-pdfs: the citing sentences of real full texts ------------------------------------

_LATEX_SPECIAL = str.maketrans({c: " " for c in "\\{}$%&#_^~"})     # (PDF text is no LaTeX)


def _markers(text: str, links: dict, rows: dict) -> list[tuple[int, int, str, int]]:
    """(start, end, cited id, where evidence.citing_sentences reads it) of each citation of a
    library paper in a passage of the paper citing ``links`` ({cited id: label}), found as
    evidence.citing_sentences finds them (evidence.citation_finder; a marker naming any number
    of entries)."""
    from paperlens.core.evidence import citation_finder

    out = []
    for cited, label in links.items():
        row = rows.get(cited)
        if row is None or not label:
            continue
        find = citation_finder(label, (row.surnames or [""])[0], row.year or "", most_cited=None)
        out.extend((a, b, cited, a) for a, b, _how in find(text))
    return sorted(out)


def pdf_draft(passages, links: dict, rows: dict) -> tuple[str, dict]:
    """A citing paper's text as a LaTeX draft (see the module's doc) and {(passage number, where
    evidence.citing_sentences reads the citation, cited id): offset of the citation's keys}."""
    from paperlens.core.evidence import REFERENCES_HEADING

    parts, at_of = [], {}
    size, section = 0, None

    def put(s: str) -> None:
        nonlocal size
        parts.append(s)
        size += len(s)
    for n, p in enumerate(passages):
        if REFERENCES_HEADING.search(p.section or ""):
            continue
        if p.section and p.section != section:
            put(f"\\section{{{' '.join(p.section.translate(_LATEX_SPECIAL).split())}}}\n\n")
        section = p.section
        text = p.text.translate(_LATEX_SPECIAL)
        merged: list = []         # (start, end, [cited ids], [reading points]) without overlaps
        for a, b, cited, read in _markers(p.text, links, rows):
            if merged and a < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
                merged[-1][2].append(cited)
                merged[-1][3].append((read, cited))
            else:
                merged.append([a, b, [cited], [(read, cited)]])
        last = 0
        for a, b, cited, reads in merged:
            put(text[last:a] + "\\cite{")
            for read, c in reads:
                at_of[(n, read, c)] = size
            put(",".join(dict.fromkeys(rows[c].key for c in cited)) + "}")
            last = b
        put(text[last:] + "\n\n")
    return "".join(parts), at_of


def _without(graph, citing: str):
    """The citation graph without the links of ``citing`` (its reference list)."""
    from paperlens.core.graph import CitationGraph

    out = CitationGraph()
    for a, cited_map in graph.cites.items():
        if a != citing:
            for b, label in cited_map.items():
                out.add(a, b, label)
    return out


def _uncite(text: str, key: str) -> str:
    """``text`` without ``key`` in its ``\\cite{}`` (an emptied citation dropped)."""
    def drop(m):
        kept = [k for k in m.group(1).split(",") if k != key]
        return "\\cite{" + ",".join(kept) + "}" if kept else ""
    return re.sub(r"\\cite\{([^{}]*)\}", drop, text)


class _DraftView(LocalView):
    """The library as completion sees it while A's draft is written: the citation graph without A's links."""

    def __init__(self, library, graph) -> None:
        super().__init__(library)
        self._graph = graph

    def graph(self, wait: bool = False):
        return self._graph


def evaluate_pdfs(folder: Path, index_root: Path, written: bool = False) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import citation_support
    from paperlens.core import evidence

    folder = folder.resolve()
    library = Library([folder], str(index_root / "devpdfs"))
    library.update()
    graph = library.graph()
    base = LocalView(library)
    rows = {r.id: r for r in library.rows() if not r.alias_of}
    texts = {i: citation_support.passages_of(library, i) for i in rows}
    pairs, links = citation_support.citing_pairs(graph, rows, texts)
    n = len(library.rows())
    embedded = embed.available()
    methods = ["today", "bm25", "context"] + (["lexical"] if embedded else [])
    if embedded:
        embed.title_vectors(completion._kept.rows(base), wait=True)
    out = {"pairs": {m: [] for m in methods}, "pairs_cited_nowhere_else": {m: [] for m in methods},
           "all_citations": {m: [] for m in methods}}
    missed = []              # pairs whose citation is not found in the draft
    started = time.perf_counter()
    by_citing: dict = {}
    for pair in pairs:
        by_citing.setdefault(pair[2], []).append(pair)
    for citing in sorted({a for a in graph.cites if texts.get(a)} | set(by_citing)):
        own = rows[citing]
        text, at_of = pdf_draft(texts[citing], graph.cites.get(citing, {}), rows)
        view = _DraftView(library, _without(graph, citing))
        path = Path(own.source)
        keys = frozenset(rows[c].key for c in graph.cites.get(citing, {}))
        ranked_at: dict = {}      # cursor -> {method: order}

        def orders(doc_text: str, cursor: int) -> dict:
            if written:
                end = doc_text.find("\n\n", cursor)
                doc_text = doc_text[:end] if end >= 0 else doc_text
            doc = make_snapshot(path.as_uri(), doc_text, "latex", path)
            o = {}
            today = completion.complete(doc, cursor, view, limit=n, by_context=False)
            o["today"] = [i.key for i in today.items] if today else []
            q = recommend.search_query(recommend.context(doc_text, cursor, "latex"))
            o["bm25"] = [h.key for h in view.search(q, n, per_paper=1)] if q else []
            ranked = completion.complete(doc, cursor, view, limit=n, embeddings=embedded)
            o["context"] = [i.key for i in ranked.items] if ranked else []
            if embedded:
                lexical = completion.complete(doc, cursor, view, limit=n, embeddings=False)
                o["lexical"] = [i.key for i in lexical.items] if lexical else []
            return {m: [k for k in order if k != own.key] for m, order in o.items()}   # never A itself

        for doc_text, cursor, wanted in cases(text, keys):
            ranked_at[cursor] = (orders(doc_text, cursor), wanted)
            for m in methods:
                out["all_citations"][m] += ranks(ranked_at[cursor][0][m], wanted)
        for pid, sentence, _, cited, how in by_citing.get(citing, []):
            cursor = None
            for (pn, read, c), at in at_of.items():
                if c == cited and evidence.plain_sentence_at(texts[citing][pn].text, read) == sentence:
                    cursor = at
                    break
            if cursor is None or cursor not in ranked_at:
                missed.append(pid)
                continue
            order, wanted = ranked_at[cursor]
            key = rows[cited].key
            for m in methods:
                out["pairs"][m] += ranks(order[m], [key] + [k for k in wanted if k != key])[:1]
            # the same with B cited nowhere else in the draft (its first citation: no words
            # written around its other citations, no recency)
            doc_text = next(d for d, c, _ in cases(text, keys) if c == cursor)
            before, after = _uncite(doc_text[:cursor], key), _uncite(doc_text[cursor:], key)
            alone = orders(before + after, len(before))
            for m in methods:
                out["pairs_cited_nowhere_else"][m] += ranks(alone[m], [key] + [k for k in wanted if k != key])[:1]
            out.setdefault("_pairs", []).append({"id": pid, "how": how, "sentence": sentence,
                                                 **{m: out["pairs"][m][-1] for m in methods},
                                                 "cited_nowhere_else": {m: out["pairs_cited_nowhere_else"][m][-1]
                                                                        for m in methods},
                                                 "context_top": order["context"][:3],
                                                 "context_top_cited_nowhere_else": alone["context"][:3]})
    library.close()
    return {"folder": str(folder), "library_papers": n, "candidates": n - 1, "graph_links": links,
            "pairs_found": len(pairs), "pairs_not_placed": missed,
            "seconds": round(time.perf_counter() - started, 1),
            "pairs": {m: metrics(rs) for m, rs in out["pairs"].items()},
            "pairs_cited_nowhere_else": {m: metrics(rs) for m, rs in out["pairs_cited_nowhere_else"].items()},
            "all_citations": {m: metrics(rs) for m, rs in out["all_citations"].items()},
            "_ranks": out.get("_pairs", [])}


def _idle() -> None:
    """Wait until completion's background work (the titles' index, the sentence searches) is
    done: what happens between two keystrokes (a user types a citation's opening brace at
    least a few hundred ms after the last completion elsewhere)."""
    building = recommend._building
    if building is not None:
        building.join()
    embed.idle()
    executor = completion._searches._executor
    if executor is not None:
        executor.submit(lambda: None).result()


def _forget() -> None:
    """Forget the rankings completion keeps by citation (each round asks anew)."""
    kept = getattr(completion, "_kept", None)      # (absent before it was added: a baseline run)
    if kept is not None:
        kept.clear()


def _quantiles(xs: list) -> dict:
    xs = sorted(xs)

    def q(p):
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2)
    return {"p50": q(0.5), "p95": q(0.95), "max": round(xs[-1], 2), "mean": round(statistics.mean(xs), 2)}


def latency(folder: Path, index: Path, runs: int, graph: bool = False, embeddings: bool = True) -> dict:
    folder = folder.resolve()
    library = Library([folder], str(index))
    t = time.perf_counter()
    if not all(s.is_ready() for s in library.stores):      # (an index others read is never updated)
        library.update()
    update_s = time.perf_counter() - t
    view = LocalView(library)
    draft = folder / "draft.tex"
    text = draft.read_text(encoding="utf-8")
    keys = view.keys()
    todo = [(make_snapshot(draft.as_uri(), t2, "latex", draft), c, wanted) for t2, c, wanted in cases(text, keys)]
    t = time.perf_counter()
    completion.complete(todo[0][0], todo[0][1], view, limit=50, embeddings=embeddings)
    first = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    _idle()                      # the titles' index the first request started (the server
    titles_s = time.perf_counter() - t      # starts it after each index update)
    vectors = embed.title_vectors(completion._kept.rows(view)) if embeddings and embed.available() else None
    graph_s = None
    if graph:                    # (the server builds the citation graph after indexing)
        t = time.perf_counter()
        library.graph()
        graph_s = round(time.perf_counter() - t, 1)

    def timed(doc, cursor, by_context=True):
        t, c = time.perf_counter(), time.thread_time()
        completion.complete(doc, cursor, view, limit=50, by_context=by_context, embeddings=embeddings)
        return (time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000

    # at each citation of the draft, the first completion there (no ranking of that place kept):
    # paced (the background work of the previous request done, as between keystrokes) and back
    # to back (the next request while the search the previous one asked for runs)
    paced, paced_cpu, rush, rush_cpu, baseline = [], [], [], [], []
    pending = 0
    for n in range(runs):
        _forget()
        for doc, cursor, _ in todo:
            _idle()
            wall, cpu = timed(doc, cursor)
            paced.append(wall)
            paced_cpu.append(cpu)
            baseline.append(timed(doc, cursor, by_context=False)[0])
    completion._searches = completion._Searches()        # (nothing searched yet)
    for n in range(runs):
        _forget()
        _idle()
        for doc, cursor, _ in todo:
            executor = completion._searches._executor
            pending += bool(executor is not None and executor._work_queue.qsize())
            wall, cpu = timed(doc, cursor)
            rush.append(wall)
            rush_cpu.append(cpu)
    _idle()
    # the next keystrokes in the same citation (a prefix typed: the editor asks again)
    typed, typed_cpu, typed_today = [], [], []
    for doc, cursor, _ in todo:
        completion.complete(doc, cursor, view, limit=50, embeddings=embeddings)   # at the opening brace
        _idle()
        for ch in ("a", "ab"):
            t2 = doc.text[:cursor] + ch + doc.text[cursor:]
            d2 = make_snapshot(draft.as_uri(), t2, "latex", draft)
            wall, cpu = timed(d2, cursor + len(ch))
            typed.append(wall)
            typed_cpu.append(cpu)
            typed_today.append(timed(d2, cursor + len(ch), by_context=False)[0])
    # a keystroke that completes no citation: the context is never read
    t, c = time.perf_counter(), time.thread_time()
    plain = make_snapshot(draft.as_uri(), text, "latex", draft)
    for _ in range(200):
        completion.complete(plain, 10, view, limit=50)
    no_citation = (time.perf_counter() - t) * 1000 / 200
    no_citation_cpu = (time.thread_time() - c) * 1000 / 200
    library.close()
    return {"papers": len(keys), "requests": len(paced), "update_s": round(update_s, 1),
            "first_ms": round(first, 1), "titles_index_s": round(titles_s, 2), "graph_s": graph_s,
            "embeddings": None if vectors is None else {
                "titles": int(vectors.codes.shape[0]), "mb": round(vectors.nbytes / 2**20, 2),
                "model_mb": round(vectors.model.table.nbytes / 2**20, 1)},
            "context_ms": _quantiles(paced), "context_cpu_ms": _quantiles(paced_cpu),
            "back_to_back_ms": _quantiles(rush), "back_to_back_cpu_ms": _quantiles(rush_cpu),
            "back_to_back_search_pending": pending,
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "today_ms": _quantiles(baseline),
            "typing_in_the_citation_ms": _quantiles(typed), "typing_in_the_citation_cpu_ms": _quantiles(typed_cpu),
            "typing_today_ms": _quantiles(typed_today),
            "no_citation_ms": round(no_citation, 4), "no_citation_cpu_ms": round(no_citation_cpu, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/citebench"))
    ap.add_argument("--names", default="")
    ap.add_argument("--dev-pdfs", type=Path, help="the development PDFs: leave-one-out at their citing sentences")
    ap.add_argument("--latency-library", type=Path)
    ap.add_argument("--latency-index", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ranks", action="store_true", help="also print every key's rank")
    ap.add_argument("--written", action="store_true",
                    help="each citation with the document cut at the end of its paragraph (written in order: "
                         "no later citation of a key tells what it is about)")
    ap.add_argument("--graph", action="store_true", help="latency with the citation graph built (as the server has it)")
    ap.add_argument("--no-embed", action="store_true", help="latency without the word embeddings")
    args = ap.parse_args()
    report: dict = {}
    if args.docs:
        names = [n for n in args.names.split(",") if n] or sorted(
            p.name for p in args.docs.iterdir() if (p / "library").is_dir())
        docs = [evaluate(args.docs / n, args.index_root, args.written) for n in names]
        overall = {}
        for method in ("today", "bm25", "context", "lexical"):
            if all(method in d["_ranks"] for d in docs):
                overall[method] = metrics([r for d in docs for r in d["_ranks"][method]])
        if not args.ranks:
            for d in docs:
                d.pop("_ranks")
        report["documents"] = docs
        report["overall"] = overall
    if args.dev_pdfs:
        pdfs = evaluate_pdfs(args.dev_pdfs, args.index_root, args.written)
        if not args.ranks:
            pdfs.pop("_ranks")
        report["dev_pdfs"] = pdfs
    if args.latency_library:
        report["latency"] = latency(args.latency_library, args.latency_index, args.runs, args.graph,
                                    not args.no_embed)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
