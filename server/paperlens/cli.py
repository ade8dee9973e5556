"""Command line: ``paperlens serve | index | search | show | cite``.

``--json`` output follows the schema documented in the README (``"schema": 1``); scripts and
tests consume it. Human output goes to stdout, logs and warnings to stderr.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from paperlens.core.counts import PaperCounts

JSON_SCHEMA = 1


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-path", default=None,
                   help="where indexes are kept (default: the user cache directory)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")


def _add_backend(p: argparse.ArgumentParser, writes: bool) -> None:
    p.add_argument("--backend", default=None, metavar="URL",
                   help="the folders' index in this PostgreSQL database (postgresql://[user@]host"
                        "[:port]/database; the password from PGPASSWORD or ~/.pgpass), a library "
                        "shared by a team" + (": this command writes it (point it at the primary)"
                                              if writes else ": read only, as the writer left it")
                        + "; default: whoosh, index files on this machine")


def _add_zotero(p: argparse.ArgumentParser) -> None:
    p.add_argument("--zotero", default=None, metavar="DIR",
                   help="also read the Zotero library of this data folder (the one holding "
                        "zotero.sqlite), live and read-only")
    p.add_argument("--zotero-collection", action="append", default=None, metavar="NAME",
                   help="only this Zotero collection (name, path like A/B, or key) and its "
                        "subcollections; repeatable")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperlens", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the language server over stdio")
    p.add_argument("--stdio", action="store_true", help="accepted for editor clients; stdio is the default")
    p.add_argument("--log-file", default=None, help="also write the server log to this file")
    p.add_argument("-v", "--verbose", action="store_true")

    p = sub.add_parser("index", help="index paper folders (incrementally)")
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch (aside, then swapped in)")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: one per core, at most 2)")
    _add_backend(p, writes=True)
    _add_zotero(p)
    _add_common(p)

    p = sub.add_parser("search", help="ranked passages for a query")
    p.add_argument("query")
    p.add_argument("--dir", action="append", default=[], metavar="DIR")
    p.add_argument("--limit", type=int, default=10)
    _add_backend(p, writes=False)
    _add_zotero(p)
    _add_common(p)

    p = sub.add_parser("show", help="the hover card of a citation key")
    p.add_argument("key")
    p.add_argument("--dir", action="append", default=[], metavar="DIR")
    _add_backend(p, writes=False)
    _add_zotero(p)
    _add_common(p)

    p = sub.add_parser("summarize", help="fill the summary cache of a library")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--provider", choices=["extractive", "openai"], default=None,
                   help="default: extractive (offline); openai uses the settings below")
    p.add_argument("--model", default=None)
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible server (Ollama, vLLM, ...)")
    p.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    p.add_argument("--concurrency", type=int, default=2)
    _add_common(p)

    p = sub.add_parser("cite", help="citation keys matching typed words (as completion does)")
    p.add_argument("words", nargs="*", metavar="WORDS",
                   help="typed words, all matched (key, author surnames, title words, year); none: the newest papers")
    p.add_argument("--dir", action="append", default=[], metavar="DIR")
    p.add_argument("--limit", type=int, default=10)
    _add_backend(p, writes=False)
    _add_zotero(p)
    _add_common(p)
    return parser


def _emit(args, data: dict, human: str) -> None:
    if args.json:
        sys.stdout.write(json.dumps({"schema": JSON_SCHEMA, **data}, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(human if human.endswith("\n") else human + "\n")


def _library(args, dirs):
    """The library of ``dirs``, brought up to date first (an index in a database is only read:
    ``paperlens index --backend`` writes it). An index that cannot be updated (a full disk) or
    read (the database is away) is said on stderr and used as it was."""
    from paperlens.core.library import Library

    lib = Library(dirs, args.index_path, zotero=_zotero(args), backend=getattr(args, "backend", None))
    lib.writes_remote = False
    reports = lib.update()
    for r in reports:
        if r.error:
            sys.stderr.write(f"paperlens: {r.error}; using the index as it was\n")
    return lib, reports


def _zotero(args) -> Optional[tuple]:
    """(data folder, collections, False) of ``--zotero``, or None: the command line reads a
    Zotero library only when it is named (the server also finds the default one)."""
    folder = getattr(args, "zotero", None)
    if not folder:
        return None
    return (folder, tuple(args.zotero_collection) if args.zotero_collection else None, False)


def _no_papers(lib) -> str:
    """What a query on a library without papers answers ("" when it has some)."""
    if lib.rows():
        return ""
    return "no papers yet in " + ", ".join(str(s.folder) for s in lib.stores)


def cmd_index(args) -> int:
    from paperlens.config import redacted_backend
    from paperlens.core.counts import PaperCounts
    from paperlens.core.library import Library

    lib = Library(args.dirs, args.index_path, workers=args.workers, zotero=_zotero(args),
                  backend=args.backend)
    progress = None
    if sys.stderr.isatty() and not args.json:
        def draw(done: int, total: int, rel: str) -> None:
            width = 30
            filled = int(width * done / total) if total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rel[-40:]:<40}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        progress = draw
        # skipped files are listed in the summary below; keep the bar on one line meanwhile
        logging.getLogger("paperlens").setLevel(logging.ERROR)
    reports = lib.update(progress=progress, force_rebuild=args.rebuild)
    counts = [PaperCounts.of(store.table.rows) for store in lib.stores]
    lines = []
    for r, c, store in zip(reports, counts, lib.stores):
        lines.extend(_index_lines(r, c, zotero=store.table.rows if store is lib.zotero else None))
        if any(store is s for s in lib.remote):
            lines.append(f"  index in {redacted_backend(args.backend)}")
    if len(reports) > 1:
        lines.append(f"in all: {sum(counts, PaperCounts()).describe()}")
    _emit(args, {"folders": [{**r.to_dict(), **c.to_dict()} for r, c in zip(reports, counts)]},
          "\n".join(lines))
    failed = [r for r in reports if r.error]
    for r in failed:        # also when the output is JSON (stdout has it in "error")
        sys.stderr.write(f"paperlens: {r.error}; the index was kept as it was\n")
    return 1 if failed else 0


def _plural(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _index_lines(r, c: PaperCounts, zotero: Optional[list] = None) -> list[str]:
    """A folder's papers (counted as `cite` and completion count them), then what this run did
    (for a Zotero library, ``zotero`` being its rows: its items, those with a full text, those
    that are a folder's .bib entry too; the attachments parsed)."""
    from pathlib import Path

    name = f"Zotero library {r.folder}" if zotero is not None else r.folder
    if not Path(r.folder).is_dir():
        return [f"{name}: skipped: {r.skipped[0][1] if r.skipped else 'not a folder'}"]
    did = [_plural(r.files_seen, "item" if zotero is not None else "file") + " seen"]
    if r.busy:
        did.append("another paperlens process was updating this index (its results are shown)")
    elif r.error:
        did.append("nothing written")
    elif r.files_parsed or r.skipped or r.files_removed or r.rebuilt:
        did.append(f"{r.files_parsed} parsed" + (f" ({_plural(r.drafts, 'draft')})" if r.drafts else ""))
        if r.skipped:
            did.append(f"{len(r.skipped)} skipped")
        if r.files_removed:
            did.append(f"{r.files_removed} removed")
        did.append(_plural(r.papers_indexed, "record") + " written")
    else:
        did.append("nothing changed")
    run = "this run: " + ", ".join(did) + f", {r.seconds:.2f} s"
    run += f" [full rebuild: {r.rebuilt}]" if r.rebuilt else ""
    if zotero is not None:
        texts = sum(1 for row in zotero if row.file)
        joined = sum(1 for row in zotero if row.alias_of)
        what = f"{_plural(len(zotero), 'item')}, {texts} with a PDF or snapshot" + \
            (f", {joined} of them also a .bib entry (one paper each)" if joined else "")
    else:
        what = c.describe()
    lines = [f"{name}: {what}", "  " + run]
    if r.error:
        lines.append(f"  error: {r.error}; the index was kept as it was")
    if r.unusable > len(r.skipped):      # refused before, still there, not listed again
        lines.append(f"  {_plural(r.unusable, 'unusable file')} in the folder, listed when first seen "
                     f"(--rebuild lists {'it' if r.unusable == 1 else 'them'} again)")
    lines += [f"  skipped {path}: {reason}" for path, reason in r.skipped]
    lines += [f"  warning {w}" for w in r.warnings]
    return lines


def cmd_search(args) -> int:
    lib, _ = _library(args, args.dir)
    empty = _no_papers(lib)
    hits = [] if empty else lib.search(args.query, limit=args.limit)
    away = lib.remote_unavailable()
    if away:
        sys.stderr.write(f"paperlens: the library cannot be searched: {away}\n")
        if args.json:
            _emit(args, {"query": args.query, "results": [], "error": away}, "")
        return 1
    lines = []
    for n, h in enumerate(hits, 1):
        where = f"{h.path}:{h.line_start + 1}" + (f" (page {h.page})" if h.page else "")
        lines.append(f"{n}. {h.title} [{h.key}] score {h.score:.2f}\n   {where}\n   {h.snippet}")
    _emit(args, {"query": args.query, "results": [h.to_dict() for h in hits]},
          "\n".join(lines) if lines else empty or f"no results for {args.query!r}")
    return 0


def cmd_show(args) -> int:
    """The card of a key as its hover shows it; with --json also the paper's record, each of its
    reference entries with the key of the library paper it cites (``matched_key``, null when
    none) and the library papers citing it (``cited_by``, in the card's order)."""
    from paperlens.config import SummarySettings, summary_cache_dir
    from paperlens.core.cards import citing_papers
    from paperlens.core.features.hover import card
    from paperlens.core.features.reading import reference_links
    from paperlens.core.features.view import LocalView
    from paperlens.core.models import Reference
    from paperlens.core.summarize import SummaryService

    lib, _ = _library(args, args.dir)
    row = lib.resolve(args.key)
    if row is None:
        close = lib.closest_keys(args.key)
        msg = f"unknown key {args.key!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
        if args.json:
            _emit(args, {"key": args.key, "found": False, "suggestions": close}, "")
        else:
            sys.stderr.write(msg + "\n")
        return 1
    paper = lib.paper(row)
    service = SummaryService(SummarySettings(), summary_cache_dir(args.index_path))   # offline
    view = LocalView(lib, summaries=service)
    graph = view.graph(wait=True)
    text = card(view, row)
    service.close()
    if not args.json:
        _emit(args, {}, text)
        return 0
    links = reference_links(view, row) or [(r, view.match_reference(r, citing=row)) for r in paper.references]
    data = paper.to_dict()
    data["references"] = [{**{k: getattr(ref, k) for k in Reference.STORED},
                           "matched_key": target.key if target is not None else None}
                          for ref, target in links]
    cited_by = citing_papers(graph, lib.canonical(row).id, lib.row)
    _emit(args, {"key": args.key, "found": True, "paper": data, "card": text,
                 "cited_by": [c.to_dict() for c in cited_by]}, text)
    return 0


def cmd_cite(args) -> int:
    query = " ".join(args.words)          # several words are one query, as completion reads them
    lib, _ = _library(args, args.dir)
    rows, total = lib.complete(query, args.limit)
    lines = [f"{r.key}\t{r.year}\t{r.title}" for r in rows]
    if total > len(rows):
        lines.append(f"(showing {len(rows)} of {total}; "
                     + ("type more words to narrow)" if query else "type words to narrow)"))
    _emit(args, {"query": query, "total": total,
                 "results": [{"key": r.key, "title": r.title, "year": r.year,
                              "authors": r.surnames} for r in rows]},
          "\n".join(lines) if lines else _no_papers(lib) or f"no keys match {query!r}")
    return 0


def cmd_summarize(args) -> int:
    from paperlens.config import SummarySettings, summary_cache_dir
    from paperlens.core.summarize import SummaryService

    settings = SummarySettings()
    for name in ("provider", "model", "base_url", "api_key_env"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    lib, _ = _library(args, args.dirs)
    rows = [r for r in lib.rows() if not r.alias_of]
    inputs = []
    for r in rows:
        x = lib.summary_inputs(r)
        if x is not None:       # a joined text is named by its entry's key in progress and errors
            inputs.append((dataclasses.replace(x[0], key=r.key), *x[1:]))
    service = SummaryService(settings, summary_cache_dir(args.index_path),
                             report=lambda msg: sys.stderr.write(f"summaries: {msg}\n"))
    tty = sys.stderr.isatty() and not args.json

    def progress(done, paper, summary, error) -> None:
        if tty:
            width = 30
            filled = int(width * done / len(inputs)) if inputs else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{len(inputs)} {paper.key[:30]:<30}")
            if done >= len(inputs):
                sys.stderr.write("\n")
            sys.stderr.flush()

    result = service.fill(iter(inputs), progress=progress, concurrency=max(1, args.concurrency))
    service.close()
    data = {"papers": len(inputs), "cached": result.cached, "computed": result.computed,
            "fallback": result.fallback, "errors": result.errors, "provider": settings.provider}
    _emit(args, data, f"{len(inputs)} papers with full text: {result.computed} summaries made, "
                      f"{result.cached} already cached, {result.fallback} extractive only"
                      + "".join(f"\n  {e}" for e in result.errors))
    return 1 if result.errors and settings.provider == "openai" and not result.computed and not result.cached else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):   # their request lines carry URLs
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.command == "serve":
        from paperlens.lsp.front import serve
        return serve(log_file=args.log_file, verbose=args.verbose)
    if getattr(args, "json", False):
        logging.getLogger().setLevel(logging.ERROR)
    if getattr(args, "backend", None) is not None:
        from paperlens.config import Settings, settings_from_dict

        settings, errors = settings_from_dict({"index": {"backend": args.backend}})
        if errors:
            sys.stderr.write("paperlens: --backend " + errors[0].split(" ", 1)[1].split("; using")[0] + "\n")
            return 2
        args.backend = settings.index.backend if settings.index.backend != Settings().index.backend else None
    if args.command != "summarize":
        dirs = args.dirs if args.command == "index" else args.dir
        if args.zotero_collection and not args.zotero:
            sys.stderr.write("paperlens: --zotero-collection needs --zotero DIR\n")
            return 2
        if not dirs and not args.zotero:
            sys.stderr.write(f"paperlens {args.command}: give a paper folder "
                             f"({'DIR' if args.command == 'index' else '--dir DIR'}) or --zotero DIR\n")
            return 2
    return {"index": cmd_index, "search": cmd_search, "show": cmd_show, "cite": cmd_cite,
            "summarize": cmd_summarize}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
