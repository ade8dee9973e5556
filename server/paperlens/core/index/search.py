"""Ranked passage search over one or more folder indexes, whatever keeps them.

A query is first brought within limits (``limit_query``: a search runs while the editor
waits), then each index ranks its own passages (:meth:`SearchIndex.search`) and the hits are
merged: by tier (a precise reading of the query before a looser one), then by score.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable

from paperlens.core.index.base import IndexUnavailable, SearchHit

if TYPE_CHECKING:
    from paperlens.core.index.base import SearchIndex

log = logging.getLogger(__name__)

# What one query may ask for: its length, its words (a pasted 20,000-term OR query took
# 11-14 s, 100k plain words 3-4.5 s) and how deep its groups nest (a parser recursed once per
# parenthesis: 5,000 raised RecursionError). A query over a limit is cut, searched, and its
# results carry a note saying so. (An index adds its own limits: how far patterns expand...)
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 64
MAX_QUERY_DEPTH = 8

HIGHLIGHT_TOP = 12       # hits given highlighted snippets (~1 ms each); the rest a plain start


class SearchResults(list):
    """The hits of a search, best first; ``note`` says how the query was limited ("" if not)."""

    note = ""


def limit_query(query: str) -> tuple[str, list[str]]:
    """``query`` within the limits above, and what was cut (for the note). Pure text work,
    linear in the query's length (itself cut first)."""
    notes = []
    query = query.strip()
    if len(query) > 16 * MAX_QUERY_CHARS:        # what the steps below look at
        query = query[:16 * MAX_QUERY_CHARS]
        notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
    if query.count("(") > MAX_QUERY_DEPTH:
        out, kept, dropped = [], [], False     # kept: whether each open group's "(" was kept
        for ch in query:
            if ch == "(":
                keep = sum(kept) < MAX_QUERY_DEPTH
                kept.append(keep)
                dropped |= not keep
                if not keep:
                    continue
            elif ch == ")" and kept and not kept.pop():
                continue
            out.append(ch)
        if dropped:
            query = "".join(out)
            notes.append(f"parentheses nested deeper than {MAX_QUERY_DEPTH} levels were ignored")
    if len(query) > MAX_QUERY_CHARS:
        cut = query.rfind(" ", 0, MAX_QUERY_CHARS + 1)
        query = query[:cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS].rstrip()
        if not notes or not notes[0].startswith("the query was cut"):
            notes.insert(0, f"the query was cut to its first {MAX_QUERY_CHARS} characters")
    words = query.split()
    if len(words) > MAX_QUERY_TERMS:
        query = " ".join(words[:MAX_QUERY_TERMS])
        notes.append(f"only its first {MAX_QUERY_TERMS} words were searched")
    return query, notes


def search(indexes: Iterable["SearchIndex"], query: str, limit: int = 10,
           per_paper: int = 2) -> SearchResults:
    """Best passages for ``query`` across the indexes, at most ``per_paper`` from one paper.
    A query over the limits above is cut first; ``note`` of the result says what was cut."""
    query, cut = limit_query(query or "")
    notes: set[str] = set()
    out = SearchResults()
    if not query:
        return out
    ranked: list[tuple[int, SearchHit]] = []
    for index in indexes:
        try:
            if not index.is_ready():
                continue
            ranked.extend(index.search(query, limit, per_paper, HIGHLIGHT_TOP - len(ranked), notes))
        except IndexUnavailable:      # said once by the index; rebuilt by the next update
            continue
        except Exception:
            log.exception("search failed in %s", index.folder)
    ranked.sort(key=lambda th: (th[0], -th[1].score))
    out.extend(h for _, h in ranked[:limit])
    out.note = "; ".join(cut + sorted(notes))
    if out.note:
        log.info("search %.80r: %s", query, out.note)
    return out


def warm(indexes: Iterable["SearchIndex"]) -> None:
    """Prepare the first query's once-per-index work (run in the background)."""
    for index in indexes:
        try:
            if index.is_ready():
                index.warm()
        except IndexUnavailable:
            continue
        except Exception:
            log.exception("preparing search failed in %s", index.folder)
