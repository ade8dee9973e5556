"""Go to definition: from a citation key to its .bib entry (or the paper file that defines it);
inside a library paper, see :mod:`.reading`."""
from __future__ import annotations

from typing import Optional

from paperlens.core.features import reading
from paperlens.core.features.document import Location, Snapshot
from paperlens.core.features.view import LibraryView


def definition(doc: Snapshot, offset: int, view: LibraryView) -> Optional[list[Location]]:
    cite = doc.citation_at(offset)
    if cite is None:
        return reading.definition(doc, offset, view)
    row = view.resolve(cite.key, doc.bib_files)
    if row is None:
        return None
    link = getattr(view, "item_link", None)
    link = link(row) if link is not None else ""
    # a Zotero item without a PDF opens in Zotero, not in its database file
    return [Location(row.source, row.source_line, uri=link or None)]
