"""Document links for DOIs, arXiv ids and URLs in drafts and papers."""
from __future__ import annotations

import re
from urllib.parse import quote

from lsprotocol import types

from paperlens.core.models import Span
from paperlens.lsp import convert
from paperlens.lsp.features._doc import MAX_DOCUMENT_CHARS, text_document

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+[^\s<>\"'`{}|\\^\[\].,;:!?)]")
_DOI = re.compile(r"(?<![\w/.])(?:doi:\s*)?(10\.\d{4,9}/[^\s\"<>{}]+[^\s\"<>{}.,;:)\]])", re.IGNORECASE)
_ARXIV = re.compile(r"(?<![\w/.])arXiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE)
MAX_LINKS = 5000


def document_links(ls, params: types.DocumentLinkParams) -> list[types.DocumentLink]:
    doc = text_document(ls, params.text_document.uri)
    if doc is None or len(doc.source) > MAX_DOCUMENT_CHARS:
        return []
    text = doc.source
    starts = convert.line_starts(text)
    encoding = convert.encoding_of(ls)
    taken: list[tuple[int, int]] = []
    out = []

    def add(start: int, end: int, target: str) -> None:
        if any(s < end and start < e for s, e in taken) or len(out) >= MAX_LINKS:
            return
        taken.append((start, end))
        out.append(types.DocumentLink(
            range=convert.span_to_range(text, Span(start, end), starts, encoding),
            target=target))

    for m in _URL.finditer(text):
        add(m.start(), m.end(), m.group(0))
    for m in _DOI.finditer(text):
        add(m.start(1), m.end(1), "https://doi.org/" + quote(m.group(1), safe="/:;._-()"))
    for m in _ARXIV.finditer(text):
        add(m.start(), m.end(), "https://arxiv.org/abs/" + m.group(1))
    return out
