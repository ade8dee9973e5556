"""textDocument/hover on a citation key -> the paper's card."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.core.cards import render_card
from paperlens.lsp.features._doc import citation_under_cursor


def hover(ls, params: types.HoverParams) -> Optional[types.Hover]:
    found = citation_under_cursor(ls, params)
    if found is None:
        return None
    ctx, cite = found
    library = ls.session.library
    row = library.resolve(cite.key, ctx.bib_files())
    if row is None:
        close = library.closest_keys(cite.key)
        value = f"Unknown citation key `{cite.key.replace('`', '')}`: not in the library."
        if close:
            value += " Did you mean " + ", ".join(f"`{k}`" for k in close) + "?"
        if ls.session.indexing:
            value += " (indexing is still running)"
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value),
                           range=ctx.range(cite.span))
    paper = library.paper(row)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=render_card(paper)),
        range=ctx.range(cite.span),
    )
