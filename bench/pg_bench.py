"""The index on PostgreSQL against the Whoosh index on the same folder (issue 19).

    python bench/pg_bench.py --papers 1000 [--url postgresql://...] [--runs 5] [--no-whoosh]

The folder is bench/corpus.py's deterministic corpus of N papers (built if missing). Without
``--url`` a PostgreSQL cluster is started in a temporary folder for the run (as the tests do:
tests/fixtures/postgres.py) and removed after it. Prints JSON:

- ``index``: seconds, papers and passages per second, rows in the database, per backend;
- ``search``: p50/p95 ms of the corpus's search checks and topic queries (each run ``--runs``
  times, the first run of each query left out of the timings), per backend;
- ``quality``: MRR of the search checks (the expected paper's rank among the hits' papers),
  per backend, and how many queries have the same top paper in both.

The target of issue 19: at 1M passages (``--papers 10000``), search p95 <= 100 ms and MRR
within 0.05 of the Whoosh backend's.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402  (bench/corpus.py)

from paperlens.core.index import search as search_mod  # noqa: E402
from paperlens.core.index.postgres.store import PostgresIndex  # noqa: E402
from paperlens.core.index.whoosh.store import IndexStore  # noqa: E402


def log(msg: str) -> None:
    print(f"pg_bench: {msg}", file=sys.stderr, flush=True)


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else 0.0


def timed_searches(index, queries: list[str], runs: int) -> dict:
    times = []
    for query in queries:
        for n in range(runs):
            t = time.perf_counter()
            search_mod.search([index], query, limit=10)
            if n:                     # the first run of a query warms caches
                times.append((time.perf_counter() - t) * 1000)
    return {"queries": len(queries), "runs": runs, "p50_ms": p(times, 0.5), "p95_ms": p(times, 0.95),
            "mean_ms": round(statistics.fmean(times), 2) if times else 0.0}


def quality(index, checks: list[dict]) -> tuple[float, list[str]]:
    rr, tops = [], []
    for c in checks:
        papers = []     # a paper's text and its bibliography entry are two hits of one paper
        for h in search_mod.search([index], c["query"], limit=10):
            paper = c["expected_key"] if (h.key == c["expected_key"]
                                          or h.path.endswith("/" + c["expected_file"])) else h.path
            if paper not in papers:
                papers.append(paper)
        rr.append(1.0 / (papers.index(c["expected_key"]) + 1) if c["expected_key"] in papers else 0.0)
        tops.append(papers[0] if papers else "")
    return round(statistics.fmean(rr), 4) if rr else 0.0, tops


def run(url: str, folder: Path, manifest: dict, runs: int, whoosh: bool, work: Path) -> dict:
    checks = manifest["search_checks"]
    queries = [c["query"] for c in checks] + list(manifest["topic_queries"])
    out: dict = {"papers": manifest["papers"], "folder": str(folder), "index": {}, "search": {}, "quality": {}}
    backends = [("postgresql", lambda: PostgresIndex(folder, url, index_dir=work / "views", schema="bench"))]
    if whoosh:
        backends.append(("whoosh", lambda: IndexStore(folder, work / "whoosh-ix")))
    tops = {}
    for name, make in backends:
        index = make()
        log(f"indexing {manifest['papers']} papers with {name}...")
        t = time.perf_counter()
        report = index.update(force_rebuild=True)
        seconds = time.perf_counter() - t
        stats = {"seconds": round(seconds, 1), "papers": report.papers_total,
                 "papers_per_s": round(report.papers_total / seconds, 1), "error": report.error}
        if name == "postgresql":
            passages = index._read(lambda c: c.execute('SELECT count(*) FROM "bench".passages').fetchone()[0])
            size = index._read(lambda c: c.execute("SELECT pg_database_size(current_database())").fetchone()[0])
            stats.update(passages=passages, passages_per_s=round(passages / seconds, 1),
                         database_mb=round(size / 1e6, 1))
        out["index"][name] = stats
        log(f"searching with {name}...")
        out["search"][name] = timed_searches(index, queries, runs)
        out["quality"][name + "_mrr"], tops[name] = quality(index, checks)
        index.close()
    if whoosh:
        out["quality"]["same_top"] = sum(a == b for a, b in zip(tops["postgresql"], tops["whoosh"]))
        out["quality"]["checks"] = len(checks)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=1000)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--url", help="a PostgreSQL database to use (default: a temporary cluster)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-whoosh", action="store_true", help="the PostgreSQL backend only")
    args = ap.parse_args()
    manifest = corpus.build(args.papers, pdf_share=args.pdf_share)
    folder = Path(manifest["library"])
    cluster = None
    url = args.url
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as work:
        try:
            if not url:
                from fixtures.postgres import start_cluster

                cluster = start_cluster()
                url = cluster.url()
            result = run(url, folder, manifest, args.runs, not args.no_whoosh, Path(work))
        finally:
            if cluster is not None:
                from fixtures.postgres import stop_cluster

                stop_cluster(cluster)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
