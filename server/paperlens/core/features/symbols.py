"""Workspace symbols (full-text passage search: each result a place in a paper), and the search
and paper-list commands."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from paperlens.core.features.view import LibraryView

MAX_SYMBOLS = 50


class Symbol(NamedTuple):
    """A search hit: a passage (``kind`` "passage"), or a paper matched by its record (title,
    authors, key, year, venue; ``kind`` "record"), located at its bibliography entry or the
    first line of its text. (A named tuple: a frozen dataclass took ~0.7 µs more to make, 50 a
    query.)"""
    name: str
    kind: str
    path: str
    line_start: int
    line_end: int
    container: str


UNREACHABLE = "the library cannot be searched"     # how Library.search's note says so


class LibraryUnreachable(Exception):
    """The library's database cannot be reached: a search has no answer (which is not "no
    results"); the message says why (its URL redacted)."""


def _searched(view: LibraryView, query: str, limit: int, per_paper: int = 2):
    hits = view.search(query, limit=limit, per_paper=per_paper)
    note = getattr(hits, "note", "") or ""
    if not hits and note.startswith(UNREACHABLE):
        raise LibraryUnreachable(note)
    return hits


def workspace_symbols(query: str, view: LibraryView) -> list[Symbol]:
    query = (query or "").strip()
    if len(query) < 2:
        return []
    out = []
    for hit in _searched(view, query, MAX_SYMBOLS, per_paper=3):
        where = f"p. {hit.page}, " if hit.page else ""
        plain = hit.snippet.replace("**", "")          # without the bold marks
        if hit.section == "record":      # "Title — Lamport · 1978 · lamport1978time"
            name, kind = plain[:240] or hit.title, "record"
        else:
            name, kind = f"{hit.title} — {plain[:120]}", "passage"
        out.append(Symbol(name, kind, hit.path, hit.line_start, hit.line_end,
                          f"{hit.key} ({where}line {hit.line_start + 1})"))
    return out


def search(query: str, limit: int, view: LibraryView) -> list[dict]:
    """Ranked passages as JSON objects (with the file's URI)."""
    return [{**h.to_dict(), "uri": Path(h.path).as_uri()} for h in _searched(view, query, limit)]


def papers(query: str, limit: int, view: LibraryView) -> list[dict]:
    """Papers matching typed words, as completion ranks them, as JSON objects."""
    rows, _total = view.complete(query, limit)
    return [{"key": r.key, "title": r.title, "year": r.year, "authors": r.surnames, "venue": r.venue}
            for r in rows]
