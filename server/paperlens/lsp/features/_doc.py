"""What every feature needs from an open document: its text, language, offset and bib files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.lsp import convert
from paperlens.lsp.session import uri_to_path

MAX_DOCUMENT_CHARS = 20_000_000


@dataclass
class DocContext:
    uri: str
    text: str
    language: Optional[str]
    offset: int
    path: Optional[Path]
    starts: list[int]

    def bib_files(self) -> list[str]:
        """The .bib files this document names, resolved against its folder."""
        if not self.language:
            return []
        base = self.path.parent if self.path else Path.cwd()
        return [str((base / b).resolve()) for b in citations.bibliography_files(self.text, self.language)]

    def range(self, span) -> types.Range:
        return convert.span_to_range(self.text, span, self.starts)


def doc_context(ls, uri: str, position: types.Position) -> Optional[DocContext]:
    """The document at ``uri`` (open in the editor, else read from disk), or None."""
    try:
        doc = ls.workspace.get_text_document(uri)
        text = doc.source
        language_id = getattr(doc, "language_id", None)
    except Exception:
        return None
    if len(text) > MAX_DOCUMENT_CHARS:
        return None
    path = uri_to_path(uri)
    language = citations.language_for(language_id or "") if language_id else None
    if language is None and path is not None:
        language = citations.language_for(path.name)
    starts = convert.line_starts(text)
    offset = convert.position_to_offset(text, position, starts)
    return DocContext(uri, text, language, offset, path, starts)


def citation_under_cursor(ls, params) -> Optional[tuple[DocContext, "citations.CitationKey"]]:
    """The document context and the citation key at the request's position, if any."""
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cite = citations.citation_at(ctx.text, ctx.offset, ctx.language)
    return None if cite is None else (ctx, cite)
