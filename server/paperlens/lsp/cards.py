"""Hover cards of library papers, kept until what they show changes (an index update, a summary
made, the citation graph built, other summary settings).

Transitional: the features are moving the card and its citation-graph sentence to
``paperlens.core.features``; this module goes once they no longer call :meth:`Cards.card` and
:meth:`Cards.graph_line`."""
from __future__ import annotations

from typing import Callable

from paperlens.core.library import Library
from paperlens.lsp.graph import CitationGraphs

MAX_CARDS = 2000


class Cards:
    def __init__(self, library: Callable[[], Library], summaries: Callable, graphs: CitationGraphs) -> None:
        self._library = library
        self._summaries = summaries
        self._graphs = graphs
        self._cards: dict[tuple, str] = {}

    def clear(self) -> None:
        """What a card shows changed: the next hover makes it again (from any thread)."""
        self._cards.clear()

    def graph_line(self, row, graph=None) -> str:
        """How the library cites ``row`` (its citation graph, or ``graph``); "" while the
        graph is not built (its build is started)."""
        graph = graph if graph is not None else self._graphs.ready()
        if graph is None:
            self._graphs.schedule()
            return ""
        n_by, n_cites = len(graph.cited_by.get(row.id, ())), len(graph.cites.get(row.id, {}))
        parts = []
        if n_by:
            parts.append(f"cited by {n_by} paper{'s' if n_by != 1 else ''} in your library")
        if n_cites:
            parts.append(f"cites {n_cites} paper{'s' if n_cites != 1 else ''} of your library")
        return "; ".join(parts).capitalize()

    def card(self, row) -> str:
        """The hover card of a library paper, with its summary and citation-graph line."""
        from paperlens.core.cards import library_card

        library = self._library()
        store = library.store_for(row.source)
        key = (row.id, store.stamp if store else None, library.graph_if_ready() is not None)
        cached = self._cards.get(key)
        if cached is not None:
            return cached
        card = library_card(library, row, self._summaries(), self.graph_line(row))
        if len(self._cards) > MAX_CARDS:
            self._cards.clear()
        self._cards[key] = card
        return card
