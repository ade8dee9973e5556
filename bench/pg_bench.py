"""The index on PostgreSQL against the Whoosh index on the same folder (issue 19).

    python bench/pg_bench.py --papers 10000 [--url postgresql://...] [--whoosh-index DIR]
                             [--passages 1000000] [--reuse] [--runs 5] [--no-whoosh]

The folder is bench/corpus.py's deterministic corpus of N papers (built if missing). Without
``--url`` a PostgreSQL cluster is started in a temporary folder for the run (as the tests do:
tests/fixtures/postgres.py) and removed after it. Prints one JSON object per line:

- ``phase: index``: the PostgreSQL backend indexing the folder (schema ``bench``): seconds,
  papers, passages and MB of source text per second, rows and size of the database;
  ``--reuse`` keeps an index already in the schema (``reused: true``, no timings);
- ``phase: search``: per backend, p50/p95/max ms of the corpus's search checks and topic
  queries (each run ``--runs`` times, the first run of each query left out of the timings), and
  the MRR of the search checks (the expected paper's rank among the hits' papers), plus how
  many queries have the same top paper in both. The Whoosh index is ``--whoosh-index`` (an
  index built before, e.g. /tmp/ix10k/library-<hash>: copied, never written) or one built here;
- ``phase: scale`` (with ``--passages M``): the passages of ``bench`` multiplied in the
  database to at least M rows (schema ``bench_big``: copy k of a paper's passages has the paper
  id ``<id>~k``, the same text, so every word's document frequency grows k times, as a larger
  library of the same field's papers would), loaded server-side (INSERT ... SELECT, the GIN
  index built after), then searched: p50/p95 ms and the MRR (a copy counts as its paper).

The targets of issue 19: at 1M passages, search p95 <= 100 ms on this machine; MRR within
0.05 of the Whoosh backend's. Editor latency on PostgreSQL: bench/pg_editor.py.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
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
from paperlens.core.index.postgres import schema as sch  # noqa: E402
from paperlens.core.index.postgres.store import PostgresIndex  # noqa: E402
from paperlens.core.index.whoosh.store import IndexStore  # noqa: E402

BASE, BIG = "bench", "bench_big"


def log(msg: str) -> None:
    print(f"pg_bench: {msg}", file=sys.stderr, flush=True)


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


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
            "max_ms": round(max(times), 2) if times else 0.0,
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


def count(index: PostgresIndex, sql: str):
    return index._read(lambda c: c.execute(index._q(sql)).fetchone()[0])


def index_phase(url: str, folder: Path, work: Path, reuse: bool) -> tuple[PostgresIndex, dict]:
    index = PostgresIndex(folder, url, index_dir=work / "views", schema=BASE)
    out: dict = {"phase": "index", "backend": "postgresql", "papers_in_folder": None}
    if reuse and index.table.rows:
        out["reused"] = True
    else:
        source_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6
        log(f"indexing {folder} ({source_mb:.0f} MB) into schema {BASE}...")
        t = time.perf_counter()
        report = index.update(force_rebuild=True)
        seconds = time.perf_counter() - t
        out.update(seconds=round(seconds, 1), papers_per_s=round(report.papers_total / seconds, 1),
                   source_mb=round(source_mb, 1), mb_per_s=round(source_mb / seconds, 2),
                   workers=index.workers, error=report.error)
    passages = count(index, "SELECT count(*) FROM S.passages")
    out.update(papers=len(index.table.rows), passages=passages,
               schema_mb=round(float(count(index, f"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                                            f" JOIN pg_namespace n ON n.oid = c.relnamespace"
                                            f" WHERE n.nspname = '{BASE}' AND c.relkind = 'r'")) / 1e6, 1))
    if "seconds" in out:
        out["passages_per_s"] = round(passages / out["seconds"], 1)
    out["papers_in_folder"] = out["papers"]
    return index, out


def whoosh_index(folder: Path, given: str, work: Path) -> tuple[IndexStore, dict]:
    if given:
        dest = work / "whoosh-ix"
        log(f"copying the Whoosh index {given}...")
        shutil.copytree(given, dest)
        return IndexStore(folder, dest), {"index": given}
    store = IndexStore(folder, work / "whoosh-ix")
    log("indexing with Whoosh...")
    t = time.perf_counter()
    report = store.update(force_rebuild=True)
    return store, {"seconds": round(time.perf_counter() - t, 1), "papers": report.papers_total}


def scale(url: str, base: PostgresIndex, target: int) -> dict:
    """Schema BIG: BASE's tables, its passages copied k times (see the module docstring)."""
    import psycopg

    have = count(base, "SELECT count(*) FROM S.passages")
    copies = max(1, math.ceil(target / have))
    log(f"scaling {have} passages x {copies} into schema {BIG}...")
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{BIG}" CASCADE')
        for stmt in sch.ddl(BIG):
            if "USING gin" not in stmt:
                conn.execute(stmt)
        for table in ("meta", "files", "papers", "refs"):
            conn.execute(f'INSERT INTO "{BIG}".{table} SELECT * FROM "{BASE}".{table}')
        conn.execute(f'UPDATE "{BIG}".meta SET generation = generation + 1000')
        cols = "n, path, kind, section, line_start, line_end, page, text, seg, tsv, shadowed"
        conn.execute(f'INSERT INTO "{BIG}".passages (paper_id, {cols}) SELECT paper_id, {cols} FROM "{BASE}".passages')
        loaded = time.perf_counter()
        for k in range(1, copies):
            conn.execute(f"INSERT INTO \"{BIG}\".passages (paper_id, {cols}) SELECT paper_id || '~{k}', {cols}"
                         f' FROM "{BASE}".passages')
        loaded = time.perf_counter() - t
        gin = [s for s in sch.ddl(BIG) if "USING gin" in s]
        t2 = time.perf_counter()
        for stmt in gin:
            conn.execute(stmt)
        conn.execute(f'VACUUM ANALYZE "{BIG}".passages')
        indexed = time.perf_counter() - t2
        rows = conn.execute(f'SELECT count(*) FROM "{BIG}".passages').fetchone()[0]
        size = conn.execute(f"SELECT pg_total_relation_size('\"{BIG}\".passages')").fetchone()[0]
    return {"passages": rows, "copies": copies, "load_s": round(loaded, 1), "gin_and_analyze_s": round(indexed, 1),
            "rows_per_s": round(rows / (loaded + indexed), 1), "passages_mb": round(size / 1e6, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=1000)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--url", help="a PostgreSQL database to use (default: a temporary cluster)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-whoosh", action="store_true", help="the PostgreSQL backend only")
    ap.add_argument("--whoosh-index", default="", help="a Whoosh index of the folder built before (copied)")
    ap.add_argument("--passages", type=int, default=0, help="also search at this many passages (phase scale)")
    ap.add_argument("--reuse", action="store_true", help="keep the index already in schema bench / bench_big")
    args = ap.parse_args()
    manifest = corpus.build(args.papers, pdf_share=args.pdf_share)
    folder = corpus.corpus_dir(args.papers, pdf_share=args.pdf_share) / "library"   # the manifest's may be elsewhere
    checks = manifest["search_checks"]
    queries = [c["query"] for c in checks] + list(manifest["topic_queries"])
    cluster = None
    url = args.url
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as work_dir:
        work = Path(work_dir)
        try:
            if not url:
                from fixtures.postgres import start_cluster

                cluster = start_cluster("-c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=1GB"
                                        " -c max_wal_size=8GB")
                url = cluster.url()
            index, rec = index_phase(url, folder, work, args.reuse)
            emit(rec)
            search: dict = {"phase": "search", "papers": len(index.table.rows), "queries": len(queries)}
            log("searching with postgresql...")
            search["postgresql"] = timed_searches(index, queries, args.runs)
            search["postgresql"]["mrr"], tops = quality(index, checks)
            if not args.no_whoosh:
                whoosh, how = whoosh_index(folder, args.whoosh_index, work)
                log("searching with whoosh...")
                search["whoosh"] = {**how, **timed_searches(whoosh, queries, args.runs)}
                search["whoosh"]["mrr"], wtops = quality(whoosh, checks)
                search["same_top"] = sum(a == b for a, b in zip(tops, wtops))
                search["mrr_gap"] = round(search["whoosh"]["mrr"] - search["postgresql"]["mrr"], 4)
                whoosh.close()
            emit(search)
            if args.passages:
                big_rec: dict = {"phase": "scale"}
                reader = PostgresIndex(folder, url, index_dir=work / "views", schema=BIG)
                have = count(reader, "SELECT count(*) FROM S.passages") if reader.table.rows else 0
                if args.reuse and have >= args.passages:
                    reader.close()
                    big_rec.update(passages=have, reused=True)
                else:
                    reader.close()
                    big_rec.update(scale(url, index, args.passages))
                    reader = PostgresIndex(folder, url, index_dir=work / "views", schema=BIG)
                log(f"searching {big_rec['passages']} passages...")
                big_rec["postgresql"] = timed_searches(reader, queries, args.runs)
                big_rec["postgresql"]["mrr"], _ = quality(reader, checks)
                reader.close()
                emit(big_rec)
            index.close()
        finally:
            if cluster is not None:
                from fixtures.postgres import stop_cluster

                stop_cluster(cluster)


if __name__ == "__main__":
    main()
