"""Inside a library paper (its text file, or the text view of its PDF): hover and definition on
numeric citations ``[12]``, ``[3, 15]``, ``[3-7]`` (the paper's own reference entries, and the
library paper each one is), and from a reference entry to the library paper it cites."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from paperlens.core.cards import escape_md
from paperlens.core.features.document import Location, Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.models import Reference

if TYPE_CHECKING:
    from paperlens.core.features.hover import Hover
    from paperlens.core.index.table import Row

MAX_LABELS = 12            # entries a hover shows
ENTRY_REACH = 6            # lines below the last entry that still belong to it


def paper_of(doc: Snapshot, view: LibraryView):
    """The library paper this document is the text of, or None."""
    return view.row_for_file(view.paper_file(str(doc.path))) if doc.path is not None else None


def reference_links(view: LibraryView, row) -> list[tuple[Reference, Optional["Row"]]]:
    """The reference list of the library paper ``row`` (a bibliography entry's: its full
    text's), each entry with the library paper it cites or None, linked as the hovers and
    definitions on ``[n]`` link them."""
    text_row = view.row_for_file(row.fulltext) if row.fulltext else row
    if text_row is None:
        return []
    return [(ref, view.match_reference(ref, citing=text_row)) for ref in view.references_of(text_row)]


def _paper_and_cite(doc: Snapshot, offset: int, view: LibraryView):
    """(library paper of this document, its reference list, numeric citation at ``offset`` or
    None), or None when the document is not a library paper with a reference list."""
    row = paper_of(doc, view)
    if row is None:
        return None
    refs = view.references_of(row)
    if not refs:
        return None
    from paperlens.core.references import numeric_citation_at   # not needed to start the server

    return row, refs, numeric_citation_at(doc.text, offset, max_label=len(refs))


def hover(doc: Snapshot, offset: int, view: LibraryView) -> Optional["Hover"]:
    """The entries a numeric citation names, each with the library paper it is; with the card
    of that paper when the citation names one entry that the library has."""
    from paperlens.core.features.hover import Hover, card

    found = _paper_and_cite(doc, offset, view)
    if found is None or found[2] is None:
        return None
    row, refs, cite = found
    by_label = {r.label: r for r in refs}
    parts, matched = [], []
    for label in cite.labels[:MAX_LABELS]:
        ref = by_label.get(label)
        if ref is None:
            parts.append(f"**[{escape_md(label)}]** not in this paper's reference list")
            continue
        target = view.match_reference(ref, citing=row)
        line = f"**[{escape_md(label)}]** {escape_md(ref.text)}"
        if target is not None:
            line += f"  \n→ in your library: **{escape_md(target.title)}** `{target.key.replace('`', '')}`"
            matched.append(target)
        parts.append(line)
    if len(cite.labels) > MAX_LABELS:
        parts.append(f"… and {len(cite.labels) - MAX_LABELS} more")
    value = "\n\n".join(parts)
    if len(matched) == 1 and len(cite.labels) == 1:
        target = matched[0]
        value += "\n\n---\n\n" + card(view, target, summary=False)
    return Hover(value, cite.span)


def definition(doc: Snapshot, offset: int, view: LibraryView) -> Optional[list[Location]]:
    """On a numeric citation: its entries in this document; on a reference entry: the library
    paper it cites."""
    found = _paper_and_cite(doc, offset, view)
    if found is None:
        return None
    row, refs, cite = found
    path = str(doc.path)
    if cite is not None:
        by_label = {r.label: r for r in refs}
        return [Location(path, view.view_line(path, by_label[label].line), uri=doc.uri)
                for label in cite.labels if label in by_label] or None
    line = doc.line_of(offset)
    entry = None
    for ref in sorted(refs, key=lambda r: r.line):
        if view.view_line(path, ref.line) <= line:
            entry = ref
        else:
            break
    last = refs[-1]
    if entry is None or (entry is last and line > view.view_line(path, last.line) + ENTRY_REACH):
        return None
    target = view.match_reference(entry, citing=row)
    if target is None:
        return None
    return [Location(target.source, target.source_line)]
