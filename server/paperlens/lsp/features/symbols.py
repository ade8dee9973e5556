"""workspace/symbol: full-text passage search; each result is a location in a paper.

A paper matched by its record (title, authors, key, year, venue) rather than by a passage is
shown as its record, located at its bibliography entry or the first line of its text."""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types

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


def search_command(ls, args) -> list[dict]:
    """``paperlens.search`` command: [query, limit?] -> ranked passages as JSON objects."""
    query = args[0] if args else ""
    if isinstance(query, dict):
        limit, query = query.get("limit", 20), query.get("query", "")
    else:
        limit = args[1] if len(args) > 1 else 20
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 20
    hits = ls.session.library.search(str(query), limit=max(1, min(limit, 200)))
    return [{**h.to_dict(), "uri": Path(h.path).as_uri()} for h in hits]
