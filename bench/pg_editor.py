"""An editor connected to the index on PostgreSQL (issue 19): completion, hover and
workspace/symbol latency, measured by bench/lsp_latency.py (imported, unchanged) with the
server's setting ``paperlens.index.backend`` pointing at the database.

    python bench/pg_editor.py --url postgresql://... [--papers 10000] [--from-schema bench]
                              [--rounds 50] [--burst 30] [--settle 45] [--server CMD] [--cpu]
                              [--whoosh-index /tmp/ix10k]

The folder is bench/corpus.py's corpus of N papers; its index is expected in the database as
the server looks for it, schema ``paperlens_library`` (core/library.py ``schema_for``). When
that schema is missing it is copied, server-side, from ``--from-schema`` (the schema
bench/pg_bench.py indexed the folder into): the same rows a ``paperlens index --backend``
run writes. Prints one JSON line: lsp_latency's figures (p50/p95/max ms per request kind;
spawn -> first completion) and the database's papers and passages. Target: completion and
hover p95 <= 10 ms (they answer from the paper table the server keeps, not from the database).

``--cpu`` adds ``cpu``: what each request cost the server's event loop in CPU time
(bench/request_cpu.py), p50/p95 per kind: on a machine shared with other work the wall-clock
figures measure mostly the others. ``--whoosh-index DIR`` measures the same editor on the Whoosh
backend (a copy of an index of the corpus built before), for a comparison on the same machine.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402  (bench/corpus.py)
import lsp_latency  # noqa: E402  (bench/lsp_latency.py, helper D's: used as it is)
from lsprotocol import types  # noqa: E402

from paperlens.core.index.postgres import schema as sch  # noqa: E402
from paperlens.core.library import schema_for  # noqa: E402


def log(msg: str) -> None:
    print(f"pg_editor: {msg}", file=sys.stderr, flush=True)


def ensure_schema(url: str, target: str, source: str, again: bool) -> dict:
    """``target`` holds the folder's index: copied from ``source`` when missing (or ``again``)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (target,)).fetchone()
        if have is None or again:
            log(f"copying schema {source} to {target}...")
            conn.execute(f'DROP SCHEMA IF EXISTS "{target}" CASCADE')
            with conn.transaction():
                for stmt in sch.ddl(target):
                    conn.execute(stmt)
                for table in ("meta", "files", "papers", "passages", "refs"):
                    conn.execute(f'INSERT INTO "{target}".{table} SELECT * FROM "{source}".{table}')
            conn.execute(f'VACUUM ANALYZE "{target}".passages')
        return {"schema": target,
                "papers": conn.execute(f'SELECT count(*) FROM "{target}".papers').fetchone()[0],
                "passages": conn.execute(f'SELECT count(*) FROM "{target}".passages').fetchone()[0]}


def configure(options: dict) -> None:
    """lsp_latency's client, sending ``options`` as initializationOptions and as the answer
    to workspace/configuration (it answers None by itself: the defaults, no database)."""
    base = lsp_latency.LanguageClient

    def section(name: str | None):
        value = options
        for part in (name or "").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value

    class Client(base):
        def feature(self, name, *args, **kwargs):
            if name == types.WORKSPACE_CONFIGURATION:
                register = super().feature(name, *args, **kwargs)
                return lambda fn: register(lambda params: [section(i.section) for i in params.items])
            return super().feature(name, *args, **kwargs)

        async def initialize_async(self, params):
            params.initialization_options = options
            return await super().initialize_async(params)

    lsp_latency.LanguageClient = Client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="", help="the database (required unless --whoosh-index)")
    ap.add_argument("--papers", type=int, default=10000)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--from-schema", default="bench")
    ap.add_argument("--copy-again", action="store_true")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--server", default="",
                    help="the server's command line (default: this Python's paperlens serve), e.g. a "
                         "wrapper that profiles it")
    ap.add_argument("--cpu", action="store_true",
                    help="also the CPU time each request cost the server's event loop (bench/request_cpu.py: "
                         "p50/p95 CPU-ms per kind; on a shared machine the wall-clock figures mostly "
                         "measure the other processes)")
    ap.add_argument("--whoosh-index", default="",
                    help="measure the same editor on the Whoosh backend instead: an index folder of the "
                         "corpus built before (e.g. /tmp/ix10k, holding library-<hash>; copied, never "
                         "written), for a comparison on the same machine")
    ap.add_argument("--settle", type=float, default=0,
                    help="seconds to wait after indexing ends before measuring: the start-up's "
                         "background work (the citation graph: ~9 CPU-s at 10k) then is done, as "
                         "bench/run.py waits for an idle server")
    args = ap.parse_args()
    if not args.url and not args.whoosh_index:
        ap.error("--url is required (or --whoosh-index)")
    manifest = corpus.build(args.papers, pdf_share=args.pdf_share)
    folder = (corpus.corpus_dir(args.papers, pdf_share=args.pdf_share) / "library").resolve()
    index_path = tempfile.mkdtemp(prefix="pg-editor-")
    if args.whoosh_index:
        shutil.copytree(args.whoosh_index, index_path, dirs_exist_ok=True)
        db, backend = {"whoosh_index": args.whoosh_index}, "whoosh"
        configure({"paperlens": {"indexPath": index_path}})
    else:
        db, backend = ensure_schema(args.url, schema_for(folder), args.from_schema, args.copy_again), "postgresql"
        configure({"paperlens": {"indexPath": index_path, "index": {"backend": args.url}}})
    server, cpu_file = args.server, Path(index_path) / "request-cpu.json"
    if args.cpu and not server:
        server = f"{sys.executable} {ROOT / 'bench' / 'request_cpu.py'} {cpu_file}"
    ns = argparse.Namespace(folder=str(folder), doc=str(folder / "draft.tex"), server=server, index_path=index_path,
                            rounds=args.rounds, prefix=args.prefix or manifest.get("prefix2") or "va",
                            query="attention transformer", index_timeout=600, burst=args.burst,
                            settle=args.settle)
    try:
        result = asyncio.run(lsp_latency.run(ns))
        if args.cpu and cpu_file.exists() and not args.burst:
            import request_cpu

            result["cpu"] = request_cpu.summary(cpu_file, args.rounds)
    finally:          # (a copy of a Whoosh index is ~0.5 GB at 10k)
        shutil.rmtree(index_path, ignore_errors=True)
    print(json.dumps({"phase": "editor", "backend": backend, "database": db, **result}), flush=True)


if __name__ == "__main__":
    main()
