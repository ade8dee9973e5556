"""Where a paper is cited: find references (the user's drafts and the library papers whose
reference lists cite it) and the code lens on a library paper's text (how the library cites it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from paperlens.core.cards import citing_papers, graph_line
from paperlens.core.features.document import Location, Snapshot
from paperlens.core.features.reading import paper_of
from paperlens.core.features.view import LibraryView

NOT_CITED = "Not cited by other papers in your library"


def references(doc: Snapshot, offset: int, view: LibraryView,
               include_declaration: bool = False) -> Optional[list[Location]]:
    """The citations of the paper at ``offset`` (a citation key, else the library paper the
    document is the text of): its entry (``include_declaration``), the citations of its key in
    the user's drafts, and the entries of the library papers' reference lists that cite it.

    May wait for the library's citation graph: call it off the event loop."""
    cite = doc.citation_at(offset)
    if cite is not None:
        row, key = view.resolve(cite.key, doc.bib_files), cite.key
    else:
        row = paper_of(doc, view)
        row = view.canonical(row) if row is not None else None
        key = row.key if row is not None else None
    if key is None:
        return None
    out: list[Location] = []
    if include_declaration and row is not None:
        out.append(Location(row.source, row.source_line))
    for path, (text, keys) in view.draft_citations().items():
        out.extend(Location(path, span=c.span, text=text) for c in keys if c.key == key)
    if row is not None:
        out.extend(citing_entries(view.canonical(row), view))
    return out


def citing_entries(row, view: LibraryView) -> list[Location]:
    """The reference entries of library papers that cite ``row`` by the citation graph, in the
    order its card lists them (at the paper's first line when its entry cannot be found)."""
    graph = view.graph(wait=True)
    if graph is None:
        return []
    citing = []                                 # (citing paper, its text's row, the entry's label)
    for c in citing_papers(graph, row.id, view.row):
        paper = view.row(c.id)
        if paper is None:
            continue
        text_row = view.row_for_file(paper.fulltext) if paper.fulltext else paper
        citing.append((paper, text_row, graph.cites[c.id].get(row.id, "")))
    lists = iter(view.reference_lists([t for _p, t, _l in citing if t is not None]))
    out = []
    for paper, text_row, label in citing:
        refs = next(lists) if text_row is not None else []
        ref = next((r for r in refs if r.label == label), None)
        source = text_row.source if text_row is not None else paper.source
        out.append(Location(source, ref.line if ref is not None else 0))
    return out


@dataclass(frozen=True)
class Lens:
    title: str
    line: int = 0


def citation_lens(path: str, view: LibraryView) -> Optional[Lens]:
    """On a library paper's text (or its PDF's text view): how the rest of the library cites
    it. Waits for the citation graph (call it off the event loop)."""
    row = view.row_for_file(view.paper_file(path))
    if row is None:
        return None
    row = view.canonical(row)
    graph = view.graph(wait=True)
    if graph is None:                 # never "not cited" from no graph
        return None
    line = graph_line(graph, row.id)
    return Lens(f"{line or NOT_CITED} · {row.key}")
