"""The full text of a Zotero item: its stored PDF (pages kept) or HTML snapshot, parsed by the
ordinary parsers and given to the item's own :class:`Paper` (Zotero's metadata wins over what
the parser guessed from the file; the file's reference list and passages are kept)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Optional

from paperlens.core.parse.common import ParseError, ParseResult, clean_text
from paperlens.core.zotero.reader import HTML, PDF, ZoteroItem, html_to_text

MAX_HTML_BYTES = 20 * 1024 * 1024


def parse_item_text(item: ZoteroItem) -> Optional[ParseResult]:
    """The item's full text as a ParseResult whose one paper is ``item.paper`` (its id, key
    and metadata) with the file's references; None when the item has no readable attachment.
    Raises ParseError (a user-facing reason) for a file that cannot be read."""
    att = item.full_text()
    if att is None:
        return None
    path = Path(att.path)
    if att.content_type == PDF:
        from paperlens.core.parse.pdf import parse_pdf
        result = parse_pdf(path)
    elif att.content_type == HTML:
        if os.path.getsize(path) > MAX_HTML_BYTES:
            raise ParseError(f"{path.name}: snapshot larger than {MAX_HTML_BYTES // (1024 * 1024)} MB")
        from paperlens.core.parse.text import parse_text_paper
        raw = path.read_bytes().decode("utf-8", errors="replace")
        result = parse_text_paper(path, clean_text(html_to_text(raw)))
    else:
        return None
    return as_item_text(item, result, str(path))


def as_item_text(item: ZoteroItem, result: ParseResult, path: str) -> ParseResult:
    """A parse of the item's attachment (``path``) made the item's: its one paper is
    ``item.paper`` (id, key, Zotero's metadata) with the file's reference list (and abstract
    when Zotero has none); passages and heads belong to it. ``result`` is changed."""
    parsed = result.papers[0] if result.papers else None
    paper = replace(item.paper, file=path,
                    references=list(parsed.references) if parsed is not None else [])
    if not paper.abstract and parsed is not None:
        paper.abstract = parsed.abstract
    old_ids = {p.id for p in result.papers}
    for passage in result.passages:
        if passage.paper_id in old_ids:
            passage.paper_id = paper.id
    result.passages = [p for p in result.passages if p.paper_id == paper.id]
    result.heads = {paper.id: head for pid, head in result.heads.items() if pid in old_ids}
    result.papers = [paper]
    return result
