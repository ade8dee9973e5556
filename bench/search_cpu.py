"""CPU time of workspace/symbol-style searches in one process, by kind of query, on an existing index.

    python bench/search_cpu.py [--corpus DIR] [--index-path DIR] [--rounds 5] [--profile OUT]
                               [--dump OUT.json] [--compare BEFORE.json]

The queries are bench/run.py's: the corpus's topic queries and its known-paper checks (unique
method names, title phrases), searched as workspace/symbol does (``Library.search(q, limit=50,
per_paper=3)``). The index is opened without updating it (a copy of a bench index: nothing is
written). Each query is searched once to warm up, then ``--rounds`` times; its median CPU time
(``time.process_time``: this process only, other work on the machine changes it less) and wall
time are kept. Also: RSS before and after the first search (what it loads), and where each
check's expected file ranks.

Prints JSON: per kind of query the median of the queries' medians; the checks; per query.
``--dump`` writes every query's hits (paper, place, score, snippet) to a file; ``--compare`` reads
such a file (made before a change) and adds, per query, whether the hits are the same (same
papers and places, scores and snippets, same order) and how many of its first 10 papers and
places (before) are not among the first 10 now.

``--like-run``: the queries as bench/run.py sends them to the server instead: no warm-up (but
the first query, which loads the index), every query once a round, ``--rounds`` (3) rounds, so
that what a query read is mostly gone from the caches when it comes back; per query the median
of its rounds and each round's CPU time, and per kind the mean of the queries' first rounds
(what a user sees first) and of their fastest repeats.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

DEFAULT_CORPUS = ROOT / "bench/.cache/corpus-10000-s42-p0.05"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def hit_record(h) -> dict:
    """What --dump keeps of a hit (its score as computed, not rounded)."""
    return {"paper_id": h.paper_id, "path": h.path, "line": h.line_start, "section": h.section,
            "score": h.score, "snippet": h.snippet}


def compare(before: dict, now: dict) -> dict:
    """Per query of both: identical hits or not, and how many of the first 10 (by paper and
    place) are not among the first 10 now; in all: how many queries are identical, and the most
    missing."""
    def place(h):
        return (h["paper_id"], h["path"], h["line"], h["section"])

    per = {}
    for q in before.keys() & now.keys():
        a, b = before[q], now[q]
        per[q] = {"same": a == b, "top10_missing": len({place(h) for h in a[:10]} - {place(h) for h in b[:10]})}
    return {"queries": len(per), "identical": sum(v["same"] for v in per.values()),
            "max_top10_missing": max((v["top10_missing"] for v in per.values()), default=None),
            "differing": {q: v for q, v in per.items() if not v["same"]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--index-path", type=Path, default=Path("/tmp/ix10k"))
    ap.add_argument("--rounds", type=int, help="rounds per query (5; with --like-run 3)")
    ap.add_argument("--like-run", action="store_true", help="bench/run.py's order (see above)")
    ap.add_argument("--kind", help="only queries of this kind (topic, method-name, title-phrase)")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the timed rounds here")
    ap.add_argument("--dump", type=Path, help="write every query's hits to this JSON file")
    ap.add_argument("--compare", type=Path, help="compare the hits with those of a --dump file")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.like_run else 5
    manifest = json.loads((args.corpus / "manifest.json").read_text(encoding="utf-8"))
    queries = [(q, "topic") for q in manifest["topic_queries"]]
    queries += [(chk["query"], chk["kind"]) for chk in manifest["search_checks"]]
    if args.kind:
        queries = [(q, k) for q, k in queries if k == args.kind]
    expected = {chk["query"]: Path(chk["expected_file"]).name for chk in manifest["search_checks"]}

    from paperlens.core.library import Library

    rss0 = rss_mb()
    lib = Library([manifest["library"]], str(args.index_path))
    rss_open = rss_mb()
    t = time.process_time()
    lib.search(queries[0][0], limit=50, per_paper=3)
    first_cpu = time.process_time() - t
    rss_first = rss_mb()
    if not args.like_run:
        for q, _ in queries:
            lib.search(q, limit=50, per_paper=3)
    rss_warm = rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    per_query = {}
    dumped = {}
    timed: dict[str, tuple[list, list, list]] = {q: ([], [], []) for q, _ in queries}
    if args.like_run:            # bench/run.py's order: every query once a round
        plan = [q for _ in range(args.rounds) for q, _ in queries]
    else:
        plan = [q for q, _ in queries for _ in range(args.rounds)]
    for q in plan:
        cpu, wall, hits = timed[q]
        if profiler:
            profiler.enable()
        t, w = time.process_time(), time.perf_counter()
        found = lib.search(q, limit=50, per_paper=3)
        cpu.append((time.process_time() - t) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
        if profiler:
            profiler.disable()
        hits[:] = found
    for q, kind in queries:
        cpu, wall, hits = timed[q]
        names = [Path(h.path).name for h in hits]
        rank = names.index(expected[q]) + 1 if q in expected and expected[q] in names else None
        per_query[q] = {"kind": kind, "cpu_ms": round(statistics.median(cpu), 2),
                        "wall_ms": round(statistics.median(wall), 2), "hits": len(hits),
                        **({"rank": rank} if q in expected else {}),
                        "top": names[:3],
                        **({"rounds_cpu_ms": [round(v, 2) for v in cpu]} if args.like_run else {})}
        dumped[q] = [hit_record(h) for h in hits]
    if profiler:
        profiler.dump_stats(str(args.profile))
    kinds = {}
    for kind in sorted({k for _, k in queries}):
        vals = [v for v in per_query.values() if v["kind"] == kind]
        kinds[kind] = {"queries": len(vals),
                       "median_cpu_ms": round(statistics.median(v["cpu_ms"] for v in vals), 2),
                       "max_cpu_ms": round(max(v["cpu_ms"] for v in vals), 2),
                       "median_wall_ms": round(statistics.median(v["wall_ms"] for v in vals), 2)}
        if args.like_run:       # what a user sees first: each query's first round, and its repeats
            firsts = [timed[q][0][0] for q, k in queries if k == kind]
            repeats = [min(timed[q][0][1:]) for q, k in queries if k == kind and len(timed[q][0]) > 1]
            kinds[kind]["first_round_mean_cpu_ms"] = round(statistics.mean(firsts), 2)
            if repeats:
                kinds[kind]["repeat_mean_cpu_ms"] = round(statistics.mean(repeats), 2)
    checks = [v.get("rank") for v in per_query.values() if "rank" in v]
    out = {"index": str(args.index_path), "kinds": kinds,
           "checks": {"queries": len(checks), "first": sum(1 for r in checks if r == 1),
                      "top10": sum(1 for r in checks if r is not None and r <= 10)},
           "rss_mb": {"before_open": round(rss0, 1), "opened": round(rss_open, 1),
                      "after_first_search": round(rss_first, 1), "after_all_queries": round(rss_warm, 1)},
           "first_search_cpu_ms": round(first_cpu * 1000, 1),
           "per_query": per_query}
    if args.dump:
        args.dump.write_text(json.dumps(dumped, ensure_ascii=False, indent=0), encoding="utf-8")
    if args.compare:
        out["compared"] = compare(json.loads(args.compare.read_text(encoding="utf-8")), dumped)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
