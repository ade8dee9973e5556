"""Hover: on a citation key, the paper's card (with how the library cites it); on an unknown key,
what it is not and what it may be; inside a library paper, its numeric citations (see
:mod:`.reading`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from paperlens.core.cards import CITED_BY_SHOWN, citing_papers, graph_line, paper_card
from paperlens.core.features import reading
from paperlens.core.features.document import Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.models import Span


@dataclass(frozen=True)
class Hover:
    markdown: str
    span: Span


def card(view: LibraryView, row, summary: bool = True) -> str:
    """The card of a library paper: its record, summary (unless not ``summary``) or abstract,
    the line saying how the rest of the library cites it and the papers citing it (once the
    citation graph is built): the first few, however many there are (the count is the graph
    line's)."""
    graph = view.graph()
    paper_id = view.canonical(row).id if graph is not None else row.id
    total = len(graph.cited_by.get(paper_id, ())) if graph is not None else 0
    return paper_card(view.paper(row), view.summary(row) if summary else None, graph_line(graph, paper_id),
                      citing_papers(graph, paper_id, view.row, limit=CITED_BY_SHOWN), total)


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def unknown_key(key: str, view: LibraryView) -> str:
    """The hover of a key the library does not have."""
    value = f"Unknown citation key {_code(key)}: not in the library."
    close = view.closest_keys(key)
    if close:
        value += " Did you mean " + ", ".join(_code(k) for k in close) + "?"
    if view.indexing():
        value += " (indexing is still running)"
    return value


def hover(doc: Snapshot, offset: int, view: LibraryView) -> Optional[Hover]:
    cite = doc.citation_at(offset)
    if cite is None:
        return reading.hover(doc, offset, view)
    row = view.resolve(cite.key, doc.bib_files)
    if row is None:
        return Hover(unknown_key(cite.key, view), cite.span)
    return Hover(card(view, row), cite.span)
