"""textDocument/definition on a citation key -> its .bib entry, or the paper file."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.lsp import convert
from paperlens.lsp.features._doc import citation_under_cursor, doc_context
from paperlens.lsp.features.reading import numeric_definition


def definition(ls, params: types.DefinitionParams) -> Optional[list[types.Location]]:
    found = citation_under_cursor(ls, params)
    if found is None:
        ctx = doc_context(ls, params.text_document.uri, params.position)
        return numeric_definition(ls, ctx) if ctx is not None else None
    ctx, cite = found
    row = ls.session.library.resolve(cite.key, ctx.bib_files())
    if row is None:
        return None
    return [types.Location(uri=Path(row.source).as_uri(), range=convert.line_range(row.source_line))]
