"""workspace/symbol: full-text passage search; each result is a location in a paper.

A paper matched by its record (title, authors, key, year, venue) rather than by a passage is
shown as its record, located at its bibliography entry or the first line of its text."""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from paperlens.lsp import convert

MAX_SYMBOLS = 50


def _plain(snippet: str) -> str:
    return snippet.replace("**", "")


def workspace_symbol(ls, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
    query = (params.query or "").strip()
    if len(query) < 2:
        return []
    out = []
    for hit in ls.session.library.search(query, limit=MAX_SYMBOLS, per_paper=3):
        where = f"p. {hit.page}, " if hit.page else ""
        if hit.section == "record":      # "Title — Lamport · 1978 · lamport1978time"
            name, kind = _plain(hit.snippet)[:240] or hit.title, types.SymbolKind.Object
        else:
            name, kind = f"{hit.title} — {_plain(hit.snippet)[:120]}", types.SymbolKind.String
        out.append(types.SymbolInformation(
            name=name,
            kind=kind,
            location=types.Location(uri=Path(hit.path).as_uri(),
                                    range=convert.line_range(hit.line_start, hit.line_end)),
            container_name=f"{hit.key} ({where}line {hit.line_start + 1})",
        ))
    return out


def query_and_limit(command: str, args, default: int, most: int) -> tuple[str, int]:
    """A command's ``[query, limit?]`` or ``[{"query": ..., "limit": ...}]`` arguments: the
    query (a string; a number is taken as its text, null as nothing) and the limit (clamped to
    1..``most``; ``default`` when absent or not a number). A query of any other type is
    InvalidParams."""
    args = list(args) if isinstance(args, (list, tuple)) else []
    query = args[0] if args else ""
    limit = args[1] if len(args) > 1 else default
    if isinstance(query, dict):
        query, limit = query.get("query", ""), query.get("limit", default)
    if query is None:
        query = ""
    elif isinstance(query, (int, float)) and not isinstance(query, bool):
        query = str(query)
    elif not isinstance(query, str):
        raise JsonRpcInvalidParams(f"{command}: the query must be a string")
    try:
        limit = int(limit)
    except (TypeError, ValueError, OverflowError):
        limit = default
    return query, max(1, min(limit, most))


def search_command(ls, args) -> list[dict]:
    """``paperlens.search`` command: [query, limit?] -> ranked passages as JSON objects."""
    query, limit = query_and_limit("paperlens.search", args, 20, 200)
    hits = ls.session.library.search(query, limit=limit)
    return [{**h.to_dict(), "uri": Path(h.path).as_uri()} for h in hits]


def papers_command(ls, args) -> list[dict]:
    """``paperlens.papers`` command: [query, limit?] -> papers matching typed words, as
    completion ranks them."""
    query, limit = query_and_limit("paperlens.papers", args, 50, 500)
    rows, _total = ls.session.library.complete(query, limit)
    return [{"key": r.key, "title": r.title, "year": r.year, "authors": r.surnames,
             "venue": r.venue} for r in rows]
