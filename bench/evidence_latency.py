"""Evidence for a hover in a large library: how long reading and scoring the cited paper's
passages takes (issue 17: ≤ 30 ms p95 at 10k papers). JSON on stdout.

    python bench/evidence_latency.py --folder LIBRARY --index INDEX [--papers 60] [--seed 42]

Opens the library as the server does, WITHOUT updating it (an index built before, e.g. the
shared 10k one), reads the word-rarity sample once (what the server reads on a background
thread, timed apart), then for ``--papers`` papers with text, each with a claim (a sentence of
another paper, or of the paper itself every other time: a sentence it supports):

- ``cold``: what the first hover of a citation does (``hover.support``: the paper's passages
  read from the index, then scored); ``read`` and ``score`` its two parts, timed apart on the
  same papers (a fresh view, the scorer's word cache emptied);
- ``warm``: the same hover again (kept for the library's state: nothing read or scored);
- ``first_hovers_while_sampling``: the first hovers after the library is opened, while the
  word-rarity sample is read on a background thread (and the titles' rarity before it).

Wall ms (p50/p95/max) and the CPU ms of the calling thread; the machine's load average, since
the figures move with it.

2026-12-04, the shared synthetic 10k index (/tmp/ix10k18, ~30 passages a paper), 80 hovers, a
2-core machine at load 4-6 shared with other work: cold evidence CPU p50 5.7-6.0 ms, p95
8.1-8.6 ms (wall p95 17-48 ms, the rest waiting for a core); read 2.5 / 3.1 ms CPU, score
3.4 / 6.1 ms CPU (p50 / p95); warm 0.03 ms. The first hovers while the word-rarity sample is
read (1.0 CPU-s for 200 papers, 2.3-2.6 before) CPU p95 11-13 ms, wall p95 42-84 ms; the
first hover of the library waited 0.3-0.6 s for the rarity of 10k titles before (read on a
thread now).
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

from paperlens.core import evidence  # noqa: E402
from paperlens.core.features import hover  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--papers", type=int, default=60)
    ap.add_argument("--seed", type=int, default=42)
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
    evidence.clear_caches()             # a cold start for what is timed

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
    hover._supports.clear()             # noqa: SLF001 - scored again with the sampled rarity
    evidence.clear_caches()
    view = LocalView(lib, cache=PaperCache())
    _, rarity_ms, rarity_cpu = timed(lambda: hover._read_rarity(view, hover.library_state(view)))  # noqa: SLF001

    cold, cold_cpu, warm, warm_cpu = [], [], [], []
    for row, claim in claims:
        _, ms, cpu = timed(lambda: hover.support(view, row, claim))
        cold.append(ms)
        cold_cpu.append(cpu)
        _, ms, cpu = timed(lambda: hover.support(view, row, claim))
        warm.append(ms)
        warm_cpu.append(cpu)

    # the two parts of a cold hover, on the same papers: reading, then scoring
    evidence.clear_caches()
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

    stores = lib.stores
    print(json.dumps({
        "papers_in_library": len(rows), "hovers": len(claims),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "rarity_sample": {"papers": evidence.RARITY_SAMPLE, "ms": round(rarity_ms), "cpu_ms": round(rarity_cpu)},
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
