"""textDocument/hover on a citation key -> the paper's card."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.lsp.features._doc import citation_under_cursor, doc_context
from paperlens.lsp.features.reading import numeric_hover


def hover(ls, params: types.HoverParams) -> Optional[types.Hover]:
    found = citation_under_cursor(ls, params)
    if found is None:
        ctx = doc_context(ls, params.text_document.uri, params.position)
        return numeric_hover(ls, ctx) if ctx is not None else None
    ctx, cite = found
    library = ls.session.library
    row = library.resolve(cite.key, ctx.bib_files())
    if row is None:
        close = library.closest_keys(cite.key)
        value = f"Unknown citation key `{cite.key.replace('`', '')}`: not in the library."
        if close:
            value += " Did you mean " + ", ".join(f"`{k.replace('`', '')}`" for k in close) + "?"
        if ls.session.indexing:
            value += " (indexing is still running)"
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value),
                           range=ctx.range(cite.span))
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=ls.session.card(row)),
        range=ctx.range(cite.span),
    )
