"""Evidence for a hover in a large library: how long reading and scoring the cited paper's
passages takes (issue 17: ≤ 30 ms p95 at 10k papers). JSON on stdout.

    python bench/evidence_latency.py --folder LIBRARY --index INDEX [--papers 60] [--seed 42] [--memory]

Opens the library as the server does, WITHOUT updating it (an index built before, e.g. the
shared 10k one), reads the word-rarity sample once (what the server reads on a background
thread, timed apart), then for ``--papers`` papers with text, each with a claim (a sentence of
another paper, or of the paper itself every other time: a sentence it supports):

- ``cold``: what the first hover of a citation does (``hover.support``: the paper's passages
  read from the index, then scored); ``read`` and ``score`` its two parts, timed apart on the
  same papers (a fresh view, the scorer's word cache emptied);
- ``warm``: the same hover again (kept for the library's state: nothing read or scored);
- ``first_hovers_while_sampling``: the first hovers after the library is opened, while the
  word-rarity sample is read on a background thread (and the titles' rarity before it);
- ``draft_hovers``: the whole hover (card and evidence) on each key the library's ``draft.tex``
  cites, once each (the 10k bench's "each cited key once, cold cards"), ``unprepared`` (nothing
  kept: the card's paper read, the evidence computed) and ``prepared`` (after
  ``hover.prepare``, what the server runs in the background when the draft is opened;
  ``prepare_ms``: how long that took);
- ``contexts`` (``--contexts``): what the unsupported-citation check reads of the papers citing
  a cited paper (hover.cited_for, never a hover), cold and kept, on papers others cite,
  after the citation graph is built (timed apart);
- ``rarity_memory``: the word-rarity table's bytes, and with ``--memory`` what reading the
  sample leaves allocated and its peak (tracemalloc: slow).

Wall ms (p50/p95/max) and the CPU ms of the calling thread; the machine's load average, since
the figures move with it.

2026-12-04, the shared synthetic 10k index (/tmp/ix10k18, ~30 passages a paper), 80 hovers, a
2-core machine at load 4-6 shared with other work: cold evidence CPU p50 5.7-6.0 ms, p95
8.1-8.6 ms (wall p95 17-48 ms, the rest waiting for a core); read 2.5 / 3.1 ms CPU, score
3.4 / 6.1 ms CPU (p50 / p95); warm 0.03 ms. The first hovers while the word-rarity sample is
read (1.0 CPU-s for 200 papers, 2.3-2.6 before) CPU p95 11-13 ms, wall p95 42-84 ms; the
first hover of the library waited 0.3-0.6 s for the rarity of 10k titles before (read on a
thread now).
2026-12-04 evening, the same index (/tmp/ix10k), load 6 on 2 cores: the draft's 49 keys
hovered once, CPU p50 / p95 9.8 / 14.6 ms unprepared, 1.7 / 2.1 ms prepared (prepare: 0.45
CPU-s for the draft); the rarity table 0.069 MB for 5,776 stems (a dict of them: 0.53 MB);
reading the sample leaves 3.3 MB allocated at a peak of 5.6 MB (9.5 and 25 MB before: the
200 papers' texts were held at once, their passages went through the cards' cache and their
words stayed in the stem cache).
2026-12-04 night, /tmp/ix10k, load 5 on 2 cores (``--contexts``): cold evidence CPU p50 / p95
4.9 / 7.2 ms (wall 8.8 / 14.6); a cited paper's citation contexts (11 citing papers p50, 17 p95,
at most 12 read) cold CPU 37 / 47 ms (wall 104 / 132 ms), kept 0.3 / 0.5 ms; the graph's
build before them 10 CPU-s (31 s wall).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core import citations, evidence  # noqa: E402
from paperlens.core.features import hover  # noqa: E402
from paperlens.core.features.document import make_snapshot  # noqa: E402
from paperlens.core.features.view import LocalView, PaperCache  # noqa: E402
from paperlens.core.library import Library  # noqa: E402

SENTENCE = re.compile(r"[A-Z][^.!?]{60,240}[.!?]")


def quantiles(ms: list[float]) -> dict:
    if not ms:
        return {}
    s = sorted(ms)
    return {"n": len(s), "p50": round(statistics.median(s), 2),
            "p95": round(s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))], 2), "max": round(s[-1], 2)}


def timed(fn):
    w, c = time.perf_counter(), time.thread_time()
    out = fn()
    return out, (time.perf_counter() - w) * 1000, (time.thread_time() - c) * 1000


def draft_hovers(lib: Library, path: Path) -> dict:
    """Hover each key ``path`` cites once, unprepared then prepared (fresh caches each time)."""
    if not path.is_file():
        return {"error": f"no {path}"}
    text = path.read_text(encoding="utf-8")
    out: dict = {}
    for prepared in (False, True):
        hover.forget_evidence()
        view = LocalView(lib, cache=PaperCache())
        doc = make_snapshot(path.as_uri(), text, "latex", path, project_of=view.project_of)
        seen, at = set(), []
        for cite in citations.find_citations(doc.text, doc.language, doc.macros):
            if cite.key not in seen:
                seen.add(cite.key)
                at.append(cite.span.start + 1)
        if prepared:
            _, ms, cpu = timed(lambda: hover.prepare(doc, view))
            out["prepare_ms"], out["prepare_cpu_ms"] = round(ms), round(cpu)
        ms_, cpu_ = [], []
        for offset in at:
            _, ms, cpu = timed(lambda: hover.hover(doc, offset, view))
            ms_.append(ms)
            cpu_.append(cpu)
        name = "prepared" if prepared else "unprepared"
        out[name + "_ms"], out[name + "_cpu_ms"] = quantiles(ms_), quantiles(cpu_)
    return out


def contexts_cost(lib, claims, n: int, rng) -> dict:
    """The background check's reading of what a paper is cited for (hover.cited_for: up
    to evidence.CONTEXT_CITERS citing papers read, their sentences citing it found), cold (a
    fresh view, nothing kept) and again (kept for the library's state), on ``n`` papers the
    library's other papers cite, each with one of ``claims``' sentences."""
    (graph, graph_ms, graph_cpu) = timed(lambda: lib.graph())
    view = LocalView(lib, cache=PaperCache())
    cited = sorted(p for p, by in graph.cited_by.items() if by)
    picked = rng.sample(cited, min(n, len(cited)))
    cold, cold_cpu, again_cpu, citers, found = [], [], [], [], []
    for k, pid in enumerate(picked):
        row = view.row(pid)
        if row is None:
            continue
        claim = claims[k % len(claims)][1]
        got, ms, cpu = timed(lambda: hover.cited_for(view, row, claim))
        cold.append(ms)
        cold_cpu.append(cpu)
        _, _, cpu = timed(lambda: hover.cited_for(view, row, claim))
        again_cpu.append(cpu)
        citers.append(len(graph.cited_by.get(pid, ())))
        found.append(got is not None)
    return {"graph_ms": round(graph_ms), "graph_cpu_ms": round(graph_cpu), "papers": len(cold),
            "citing_papers": quantiles(citers), "with_contexts": sum(found),
            "cold_ms": quantiles(cold), "cold_cpu_ms": quantiles(cold_cpu), "again_cpu_ms": quantiles(again_cpu)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--papers", type=int, default=60)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--memory", action="store_true", help="trace what reading the rarity sample allocates")
    ap.add_argument("--contexts", action="store_true",
                    help="also time what the background check reads of the papers citing a cited paper "
                         "(hover.cited_for; the citation graph built first, timed apart)")
    args = ap.parse_args()

    lib = Library([args.folder], args.index)           # no update(): the index as built
    rows = [r for r in lib.rows() if not r.alias_of and (r.fulltext or not r.is_entry)]
    rng = random.Random(args.seed)
    picked = rng.sample(rows, min(len(rows), args.papers * 3))

    # the claims, read with a view of their own (not timed)
    claims = []
    reader = LocalView(lib)
    for n, row in enumerate(picked):
        if len(claims) >= args.papers:
            break
        own = hover.passages(reader, row)
        if not own:
            continue
        source = own if n % 2 == 0 else (hover.passages(reader, rng.choice(picked)) or own)
        text = " ".join(p.text for p in source[:40])
        sentences = SENTENCE.findall(text)
        if sentences:
            claims.append((row, rng.choice(sentences)))
    hover.forget_evidence()             # a cold start for what is timed

    # the first hovers after the server starts: the word-rarity sample is being read on a
    # background thread meanwhile (the titles' rarity is used until it is there)
    view = LocalView(lib, cache=PaperCache())          # as the server's views: a paper read once
    first, first_cpu = [], []
    t0 = time.perf_counter()
    for row, claim in claims[:args.papers // 2]:
        _, ms, cpu = timed(lambda: hover.support(view, row, claim))
        first.append(ms)
        first_cpu.append(cpu)
    first_s = time.perf_counter() - t0
    for thread in threading.enumerate():                # the sample being read
        if thread.name.startswith("paperlens-") and thread is not threading.current_thread():
            thread.join()
    hover.forget_evidence()             # scored again with the sampled rarity
    view = LocalView(lib, cache=PaperCache())
    (sampled, _), rarity_ms, rarity_cpu = timed(lambda: hover.read_rarity(view))
    memory = {"table_mb": round(sampled.nbytes / 1e6, 3), "stems": len(sampled)}
    if args.memory:
        import gc
        import tracemalloc
        hover.forget_evidence()
        gc.collect()
        tracemalloc.start()
        held = hover.read_rarity(LocalView(lib, cache=PaperCache()))
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        memory.update(left_allocated_mb=round(now / 1e6, 2), peak_mb=round(peak / 1e6, 2),
                      traced_stems=len(held[0]))
    hover.rarity(view, wait=True)       # kept for the library, as the server keeps it

    cold, cold_cpu, warm, warm_cpu = [], [], [], []
    for row, claim in claims:
        _, ms, cpu = timed(lambda: hover.support(view, row, claim))
        cold.append(ms)
        cold_cpu.append(cpu)
        _, ms, cpu = timed(lambda: hover.support(view, row, claim))
        warm.append(ms)
        warm_cpu.append(cpu)

    # the two parts of a cold hover, on the same papers: reading, then scoring
    hover.forget_evidence()
    words = hover.rarity(view)
    fresh = LocalView(lib)
    read, read_cpu, score, score_cpu, sizes = [], [], [], [], []
    for row, claim in claims:
        found, ms, cpu = timed(lambda: hover.passages(fresh, row))
        read.append(ms)
        read_cpu.append(cpu)
        found = found or []
        sizes.append(len(found))
        _, ms, cpu = timed(lambda: evidence.support(claim, found, words))
        score.append(ms)
        score_cpu.append(cpu)

    draft = draft_hovers(lib, Path(args.folder).resolve() / "draft.tex")
    contexts = contexts_cost(lib, claims, args.papers, rng) if args.contexts else None

    stores = lib.stores
    print(json.dumps({
        "papers_in_library": len(rows), "hovers": len(claims),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "rarity_sample": {"papers": evidence.RARITY_SAMPLE, "ms": round(rarity_ms), "cpu_ms": round(rarity_cpu)},
        "rarity_memory": memory, "draft_hovers": draft, **({"contexts": contexts} if contexts else {}),
        "first_hovers_while_sampling_ms": quantiles(first), "first_hovers_cpu_ms": quantiles(first_cpu),
        "first_hovers_seconds": round(first_s, 2),
        "passages_per_paper": quantiles([float(n) for n in sizes]),
        "cold_ms": quantiles(cold), "cold_cpu_ms": quantiles(cold_cpu),
        "read_ms": quantiles(read), "read_cpu_ms": quantiles(read_cpu),
        "score_ms": quantiles(score), "score_cpu_ms": quantiles(score_cpu),
        "warm_ms": quantiles(warm), "warm_cpu_ms": quantiles(warm_cpu),
        "index_segments": [len(getattr(s, "segments", ()) or ()) for s in stores],
    }, indent=2))
    lib.close()


if __name__ == "__main__":
    main()
