"""Completion of citation keys after ``\\cite{``, ``[@``, ``@``, ``[cite:@`` and after ``,`` or ``;``
in a citation, and after the user's own LaTeX citation commands (``\\longcite{`` defined in the
project's preamble); resolving an item adds the paper's card."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from paperlens.core import citations
from paperlens.core.features.document import Snapshot
from paperlens.core.features.hover import card
from paperlens.core.features.view import LibraryView
from paperlens.core.models import Span

TRIGGER_CHARACTERS = ["{", "@", ",", ";", "<"]
SPARE_ROWS = 10          # asked beyond the limit, so that keys defined twice still fill it


@dataclass(frozen=True)
class Item:
    """One key offered: ``span`` is the partial key it replaces, ``filter_text`` the words a
    user may type to find the paper, ``data`` what :func:`resolve` needs."""
    key: str
    detail: str
    sort_text: str
    filter_text: str
    span: Span
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Completions:
    items: list[Item]
    incomplete: bool            # more papers match than are offered: ask again as the user types


def detail(row) -> str:
    """"Vaswani et al. · 2017 · Attention Is All You Need"."""
    who = row.surnames[0] + (" et al." if len(row.surnames) > 1 else "") if row.surnames else ""
    return " · ".join(x for x in (who, row.year, row.title) if x)


def _one_row_per_key(rows: list, total: int, doc: Snapshot) -> tuple[list, int]:
    """A key that several .bib files define is offered once: with the entry of the first
    .bib file the document (its LaTeX project) names, else the first ranked."""
    seen: dict[str, int] = {}
    for n, row in enumerate(rows):
        seen.setdefault(row.key, n)
    if len(seen) == len(rows):
        return rows, total
    order = {str(Path(b).resolve()): n for n, b in enumerate(doc.bib_files)}
    best: dict[str, Any] = {}
    for row in rows:
        held = best.get(row.key)
        if held is None or order.get(row.source, len(order)) < order.get(held.source, len(order)):
            best[row.key] = row
    kept = [best[key] for key in sorted(seen, key=seen.get)]
    return kept, total - (len(rows) - len(kept))


def complete(doc: Snapshot, offset: int, view: LibraryView, limit: int) -> Optional[Completions]:
    """The keys to offer at ``offset`` (at most ``limit``), or None when no key is being typed."""
    if doc.language is None:
        return None
    cc = citations.completion_context(doc.text, offset, doc.language, doc.macros)
    if cc is None:
        return None
    rows, total = view.complete(cc.prefix, limit + SPARE_ROWS)
    rows, total = _one_row_per_key(rows, total, doc)
    rows = rows[:limit]
    items = [Item(key=row.key, detail=detail(row), sort_text=f"{rank:04d}",
                  filter_text=" ".join([row.key, *row.surnames, row.year, row.title]) if cc.prefix else row.key,
                  span=cc.span, data={"id": row.id, "source": row.source})
             for rank, row in enumerate(rows)]
    return Completions(items, incomplete=total > len(items))


def resolve(data: Any, view: LibraryView) -> Optional[str]:
    """The card of a completion item's paper (its ``data``), or None when the data is not one
    of ours (or mangled) or the paper is gone."""
    data = data if isinstance(data, dict) else {}
    source, row_id = data.get("source"), data.get("id")
    if not (isinstance(source, str) and source and isinstance(row_id, str)):
        return None
    row = view.entry(source, row_id)
    return card(view, row) if row is not None else None
