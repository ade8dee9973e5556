"""textDocument/definition on a citation key -> its .bib entry, or the paper file."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.lsp import convert
from paperlens.lsp.features._doc import doc_context


def definition(ls, params: types.DefinitionParams) -> Optional[list[types.Location]]:
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cite = citations.citation_at(ctx.text, ctx.offset, ctx.language)
    if cite is None:
        return None
    row = ls.session.library.resolve(cite.key, ctx.bib_files())
    if row is None:
        return None
    return [types.Location(uri=Path(row.source).as_uri(), range=convert.line_range(row.source_line))]
