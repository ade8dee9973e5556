"""textDocument/documentLink: DOIs, arXiv ids and URLs (see core/features/links.py)."""
from __future__ import annotations

from lsprotocol import types

from paperlens.core.features import links as feature
from paperlens.core.features.document import MAX_DOCUMENT_CHARS
from paperlens.lsp import convert
from paperlens.lsp.features._view import text_document


def document_links(ls, params: types.DocumentLinkParams) -> list[types.DocumentLink]:
    doc = text_document(ls, params.text_document.uri)
    if doc is None or len(doc.source) > MAX_DOCUMENT_CHARS:
        return []
    positions = convert.positions(ls)
    return [types.DocumentLink(range=positions.range(doc.source, link.span), target=link.target)
            for link in feature.links(doc.source)]
