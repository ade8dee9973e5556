"""textDocument/hover: the card of the paper a citation key names (see core/features/hover.py)."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.core.features import hover as feature
from paperlens.lsp.features._view import request


def markdown(value: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=value)


def hover(ls, params: types.HoverParams) -> Optional[types.Hover]:
    req = request(ls, params.text_document.uri, params.position)
    if req is None:
        return None
    found = feature.hover(req.doc, req.offset, req.view)
    if found is None:
        return None
    return types.Hover(contents=markdown(found.markdown), range=req.positions.range(req.doc.text, found.span))
