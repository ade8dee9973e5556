"""workspace/symbol through ``paperlens serve`` over stdio, for bench/run.py's queries: round trip
per query, and (``--cpu``) the CPU time the server's event loop spent on each request
(bench/request_cpu.py), which other work on a shared machine changes less.

    python bench/symbol_roundtrip.py --index-path COPY_OF_AN_INDEX [--corpus DIR] [--rounds 8]
        [--cpu] [--code CHECKOUT] [--encoding utf-8] [--dump OUT.json]

The index is the one bench/run.py built (pass a copy: the server may write into it). The
queries are the corpus's topic queries and known-paper checks, each sent once to warm up, then
``--rounds`` times (kind after kind). ``--code``: run the server of another checkout (its
``server/`` and ``bench/request_cpu.py``), to compare two versions on the same machine.
``--dump`` writes each query's last answer (the JSON the client got). Prints JSON: per kind of
query the median of the queries' medians, and per title query its median.

``--like-run``: the queries as bench/run.py sends them instead (no warm-up: topic queries then
the checks, ``--rounds`` times over all of them, 3 by default as there), and per title query its
time in each round (the first is its cold one; bench/run.py takes the median of the three) and,
with ``--cpu``, the server's CPU and garbage collector's time in each.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from peers import LspClient, wait_idle  # noqa: E402

DEFAULT_CORPUS = ROOT / "bench/.cache/corpus-10000-s42-p0.05"
KINDS = ("title-phrase", "topic", "method-name")


async def run(args) -> dict:
    manifest = json.loads((args.corpus / "manifest.json").read_text(encoding="utf-8"))
    queries = [(c["query"], c["kind"]) for c in manifest["search_checks"]]
    queries += [(q, "topic") for q in manifest["topic_queries"]]
    code = Path(args.code).resolve() if args.code else ROOT
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if code != ROOT:
        env["PYTHONPATH"] = str(code / "server")
    cpu_file = Path(tempfile.mkstemp(suffix=".json")[1]) if args.cpu else None
    cmd = [sys.executable, str(code / "bench/request_cpu.py"), str(cpu_file)] if cpu_file \
        else [sys.executable, "-m", "paperlens", "serve"]
    settings = {"paperlens": {"indexPath": str(args.index_path)}}
    library = manifest["library"]
    client = LspClient(cmd, cwd=library, env=env, config=settings)
    await client.start()
    caps = {"workspace": {"configuration": True, "workspaceFolders": True, "symbol": {}},
            "window": {"workDoneProgress": True}}
    if args.encoding:
        caps["general"] = {"positionEncodings": [args.encoding]}
    root = Path(library).as_uri()
    await client.request("initialize", {"processId": os.getpid(), "rootUri": root, "capabilities": caps,
                                        "workspaceFolders": [{"uri": root, "name": "library"}],
                                        "initializationOptions": settings}, timeout=600)
    client.notify("initialized", {})
    await wait_idle(client.proc.pid, 600)
    sent: list[str] = []
    warm = 0 if args.like_run else len(queries)
    if args.like_run:                 # bench/run.py's order: topic queries, then the checks
        order = [q for q, k in queries if k == "topic"] + [q for q, k in queries if k != "topic"]
        plan = [q for _ in range(args.rounds) for q in order]
    else:
        plan = [q for kind in KINDS for _ in range(args.rounds) for q, k in queries if k == kind]
        for q, _ in queries:                              # warm-up
            await client.request("workspace/symbol", {"query": q}, timeout=60)
            sent.append(q)
    ms: dict[str, list[float]] = {}
    answers: dict[str, object] = {}
    for q in plan:
        result, _, dt = await client.request("workspace/symbol", {"query": q}, timeout=60)
        ms.setdefault(q, []).append(dt)
        answers[q] = result
        sent.append(q)
    await client.close()
    cpu: dict[str, list[float]] = {}
    gc_ms: dict[str, list[float]] = {}
    if cpu_file is not None:
        timed = json.loads(cpu_file.read_text(encoding="utf-8"))["messages"].get("workspace/symbol", [])
        cpu_file.unlink()
        for q, t in zip(sent[warm:], timed[warm:]):
            cpu.setdefault(q, []).append(t[0])
            gc_ms.setdefault(q, []).append(t[2] if len(t) > 2 else 0.0)
    out: dict = {"code": str(code), "rounds": args.rounds, "kinds": {}}
    for kind in KINDS:
        qs = [q for q, k in queries if k == kind]
        entry = {"queries": len(qs), "median_ms": round(statistics.median(statistics.median(ms[q]) for q in qs), 2)}
        if cpu:
            entry["median_cpu_ms"] = round(statistics.median(statistics.median(cpu[q]) for q in qs), 2)
        out["kinds"][kind] = entry
    out["title_queries"] = {q: {"ms": round(statistics.median(ms[q]), 2),
                                **({"cpu_ms": round(statistics.median(cpu[q]), 2)} if cpu else {})}
                            for q, k in queries if k == "title-phrase"}
    if args.like_run:
        out["title_rounds"] = {q: {"ms": [round(v, 2) for v in ms[q]],
                                   **({"cpu_ms": [round(v, 2) for v in cpu[q]],
                                       "gc_ms": [round(v, 2) for v in gc_ms[q]]} if cpu else {})}
                               for q, k in queries if k == "title-phrase"}
    if args.dump:
        args.dump.write_text(json.dumps(answers, ensure_ascii=False, indent=0), encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--index-path", type=Path, required=True)
    ap.add_argument("--rounds", type=int, help="rounds (8; with --like-run 3)")
    ap.add_argument("--cpu", action="store_true", help="the server's CPU time per request too")
    ap.add_argument("--code", help="a checkout whose server to run (default: this one)")
    ap.add_argument("--encoding", help="the position encoding the client offers")
    ap.add_argument("--dump", type=Path, help="write each query's answer to this JSON file")
    ap.add_argument("--like-run", action="store_true",
                    help="bench/run.py's order: no warm-up, all queries round after round (see above)")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.like_run else 8
    print(json.dumps(asyncio.run(run(args)), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
