"""Drive a language server over stdio and time hover, completion and workspace/symbol.

    python bench/lsp_latency.py --folder examples/papers --doc examples/papers/drafts/survey.tex \
        [--server "paperlens serve"] [--rounds 50] [--burst 30] [--index-path DIR]

Prints one JSON object: spawn -> initialized, spawn -> first completion, and p50/p95/max in ms
for each request kind. Only paperlens' own commands are assumed by default; any server command
can be given.

``--burst N`` measures the first seconds: right after the first completion's answer, N
completions (alternately with an empty prefix and with ``--prefix``) and N hovers, one after the
other, while the server's start-up work (checking the index, loading tables, the citation graph,
diagnostics) runs; ``burst`` in the output gives their p50/p95/max and how many of them were
answered before the indexing progress ended. With ``--index-path`` pointing at an index built
before (``paperlens index DIR --index-path ...``), this is the start of an editor on a persisted
library.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2),
            "max_ms": round(max(ms), 2) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else None}


async def run(args) -> dict:
    folder = Path(args.folder).resolve()
    doc = Path(args.doc).resolve()
    text = doc.read_text(encoding="utf-8")
    cmd = shlex.split(args.server) if args.server else [sys.executable, "-m", "paperlens", "serve"]
    client = LanguageClient("paperlens-bench", "1")
    ended = asyncio.Event()

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def _create(params):
        return None

    @client.feature(types.PROGRESS)
    def _progress(params):
        value = params.value if isinstance(params.value, dict) else {}
        if value.get("kind") == "end":
            ended.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def _log(params):
        pass

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def _config(params):
        return [None for _ in params.items]

    t0 = time.perf_counter()
    await client.start_io(*cmd)
    init_opts = {"paperlens": {"indexPath": args.index_path}} if args.index_path else None
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
        root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        initialization_options=init_opts))
    client.initialized(types.InitializedParams())
    t_init = time.perf_counter() - t0
    uri = doc.as_uri()
    lang = {".tex": "latex", ".md": "markdown", ".typ": "typst"}.get(doc.suffix, "plaintext")
    # a line that asks for completion after the cite trigger, and a known key for hover
    extra = {"latex": "\\cite{", "markdown": "[@", "typst": "@"}.get(lang, "")
    # the last two lines: a citation being started, and one with the prefix typed
    full = text + "\n" + extra + "\n" + extra + args.prefix
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=lang, version=1, text=full)))
    last = full.count("\n") - 1
    comp_pos = types.Position(line=last, character=len(extra))
    comp_pos2 = types.Position(line=last + 1, character=len(extra) + len(args.prefix))

    # hover targets: the first citation key of the document
    from paperlens.core import citations
    keys = citations.find_citations(text, lang)
    hover_pos = None
    if keys:
        from paperlens.lsp.convert import offset_to_position
        hover_pos = offset_to_position(text, keys[0].span.start + 1)

    first = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=comp_pos))
    t_first = time.perf_counter() - t0
    first_items = len(first.items) if isinstance(first, types.CompletionList) else len(first or [])
    burst: dict = {}
    if args.burst:
        lat: dict[str, list[float]] = {"completion": [], "hover": []}
        order: list[tuple[float, int, str, float]] = []
        before_indexed = 0
        for n in range(args.burst):
            for kind in ("completion", "hover"):
                t = time.perf_counter()
                if kind == "completion":
                    await client.text_document_completion_async(types.CompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=comp_pos if n % 2 == 0 else comp_pos2))
                elif hover_pos is not None:
                    await client.text_document_hover_async(types.HoverParams(
                        text_document=types.TextDocumentIdentifier(uri=uri), position=hover_pos))
                else:
                    continue
                lat[kind].append((time.perf_counter() - t) * 1000)
                order.append((lat[kind][-1], len(order), kind if kind == "hover" or n % 2 == 0 else "completion+prefix",
                              t - t0))
                before_indexed += not ended.is_set()
        burst = {"requests": sum(len(v) for v in lat.values()), "answered_before_indexing_ended": before_indexed,
                 "seconds_after_spawn": round(time.perf_counter() - t0, 3),
                 **{k: summary(v) for k, v in lat.items()},
                 "all": summary(lat["completion"] + lat["hover"]),
                 "slowest": [{"request": i, "kind": k, "ms": round(ms, 1), "sent_s": round(at, 3)}
                             for ms, i, k, at in sorted(order)[::-1][:5]]}
    await asyncio.wait_for(ended.wait(), args.index_timeout)
    t_indexed = time.perf_counter() - t0
    if getattr(args, "settle", 0):     # let the start-up's background work (graph, caches) end
        await asyncio.sleep(args.settle)

    async def timed(coro_fn, n):
        out, size = [], 0
        for _ in range(n):
            t = time.perf_counter()
            res = await coro_fn()
            out.append((time.perf_counter() - t) * 1000)
            size = len(json.dumps(client.protocol._converter.unstructure(res))) if res is not None else 0
        return out, size

    comp_empty, size_empty = await timed(lambda: client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=comp_pos)), args.rounds)
    comp_prefix, size_prefix = await timed(lambda: client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=comp_pos2)), args.rounds)
    hover = []
    size_hover = 0
    if hover_pos is not None:
        hover, size_hover = await timed(lambda: client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=hover_pos)), args.rounds)
    symbols, size_symbols = await timed(lambda: client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query=args.query)), max(5, args.rounds // 5))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {
        "server": cmd, "folder": str(folder), "document": str(doc),
        "spawn_to_initialized_s": round(t_init, 3),
        "spawn_to_first_completion_s": round(t_first, 3), "first_completion_items": first_items,
        "spawn_to_indexed_s": round(t_indexed, 3),
        **({"burst": burst} if burst else {}),
        "completion_empty_prefix": {**summary(comp_empty), "bytes": size_empty},
        f"completion_prefix_{args.prefix}": {**summary(comp_prefix), "bytes": size_prefix},
        "hover": {**summary(hover), "bytes": size_hover},
        "workspace_symbol": {**summary(symbols), "bytes": size_symbols, "query": args.query},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--server", default="")
    ap.add_argument("--index-path", default=None)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--prefix", default="va")
    ap.add_argument("--query", default="attention transformer")
    ap.add_argument("--index-timeout", type=float, default=600)
    ap.add_argument("--settle", type=float, default=0,
                    help="seconds to wait after indexing ends before measuring (background work)")
    ap.add_argument("--burst", type=int, default=0,
                    help="completions and hovers sent right after the first answer (start-up latency)")
    args = ap.parse_args()
    if args.index_path is None:
        args.index_path = tempfile.mkdtemp(prefix="paperlens-bench-")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
