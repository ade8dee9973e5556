"""Citation insertion: what to write for a library key with the cursor at an offset, in the
document's own citation syntax (``\\cite{key}``, ``,key`` inside one, ``[@key]``, ``; @key``,
``@key``, ``[cite:@key]`` ...): the editor's "insert citation" asks the server instead of
repeating its rules (core/citations.py's ``insertion``)."""
from __future__ import annotations

from typing import Optional

from paperlens.core import citations
from paperlens.core.features.document import Snapshot


def insertion(doc: Snapshot, offset: int, key: str) -> Optional["citations.Insertion"]:
    """``text`` to write over ``span`` (empty: at the cursor) for ``key``, or None when the key
    or the offset cannot be (an empty key, an offset outside the text)."""
    return citations.insertion(doc.text, offset, doc.language, key, doc.macros)
