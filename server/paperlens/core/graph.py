"""The library's citation graph: which library papers each paper's reference list names.

:func:`build` reads every stored reference list once and matches each entry with the library's
:class:`~paperlens.core.references.matcher.ReferenceMatcher` (DOI, arXiv id, then title with
surnames and year as evidence), the rule hovers use too. :class:`~paperlens.core.library.Library`
keeps the graph for the library's state and builds it again when that changes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from paperlens.core.models import Reference

if TYPE_CHECKING:
    from paperlens.core.library import Library

MEMO_MAX = 200_000       # title-only entries remembered during a build (popular titles repeat)


class CitationGraph:
    """Edges between library papers (ids of canonical rows: a merged text counts as its entry)."""

    def __init__(self) -> None:
        self.cites: dict[str, dict[str, str]] = {}      # citing id -> {cited id: label}
        self.cited_by: dict[str, set[str]] = {}
        self.cited_by_label: dict[str, dict[str, str]] = {}   # citing id -> {label: cited id}
        self.read: set[str] = set()                    # the papers whose reference lists it read

    def add(self, citing: str, cited: str, label: str) -> None:
        self.cites.setdefault(citing, {})[cited] = label
        self.cited_by.setdefault(cited, set()).add(citing)
        self.cited_by_label.setdefault(citing, {})[label] = cited


def build(library: "Library") -> CitationGraph:
    """The graph of ``library`` as it is now (background work: 10k papers with 28 references
    each take a second or two). Most entries cite papers outside the library and cost a
    dictionary lookup (their title field's candidates, computed once per distinct field: the
    matcher compares strings only for library titles whose rare words the field holds).

    An entry is kept in the index without its text, with the evidence the matcher reads in it
    (the author list and years, :func:`~paperlens.core.references.matcher.stored_evidence`).
    An entry of an index written before that evidence was kept is read again with its text
    when a library title came close and the surnames or year would decide."""
    matcher = library.matcher()
    match, both = matcher.match_reference, matcher.match_and_candidates
    hits_of, decide = matcher.field_hits, matcher.match_field
    known = matcher.field_memo          # title field -> its hits (field_hits' memo, read inline)
    memo: dict[tuple, tuple] = {}
    graph = CitationGraph()
    for store in library.stores:
        for pid, refs in store.reference_lines():
            row = store.table.get(pid)
            if row is None:
                continue
            citing = library.canonical(row)
            graph.read.add(citing.id)
            whole: Optional[dict[str, Reference]] = None
            for ref in refs:
                retry = False
                if ref.text:
                    m = match(ref)
                elif ref.authors is not None:     # kept with its evidence: decided here
                    if ref.doi or ref.arxiv:
                        m = match(ref)
                    else:
                        hits = known.get(ref.title)
                        if hits is None:
                            hits = hits_of(ref.title)
                        if not hits:
                            continue              # no library title comes close (most entries)
                        m = decide(ref, hits)
                else:     # a title field alone: popular papers' titles repeat across the library
                    key = (ref.title, ref.doi, ref.arxiv, ref.year)
                    got = memo.get(key)
                    if got is None:
                        if len(memo) > MEMO_MAX:
                            memo.clear()
                        m, maybe = both(ref)
                        got = memo[key] = (m, m is None and maybe)
                    m, retry = got
                if retry:
                    # kept without its text: the entry as parsed has the surnames and year
                    if whole is None:
                        whole = {r.label: r for r in store.references(pid)}
                    full = whole.get(ref.label)
                    m = match(full) if full is not None and full.text else None
                target = m[0] if m is not None else None
                if target and target not in (citing.id, row.id):
                    graph.add(citing.id, target, ref.label)
    return graph
