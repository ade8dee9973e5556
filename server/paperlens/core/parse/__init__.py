"""One module per input format; ``parse_file`` picks the right one by the file's suffix."""
from __future__ import annotations

import re
from pathlib import Path

from paperlens.core.parse.common import ParseError, ParseResult, clean_text, looks_binary

PAPER_SUFFIXES = {".bib": "bib", ".txt": "text", ".md": "text", ".markdown": "text", ".pdf": "pdf",
                  ".json": "csl"}
MAX_TEXT_BYTES = 20 * 1024 * 1024

_PANDOC_CITE = re.compile(r"\[[^\]\n]*-?@[\w{]")
_BIB_FRONT_MATTER = re.compile(r"\A---\s*\n(?:.*\n){0,80}?bibliography\s*:", re.MULTILINE)


def is_draft(text: str) -> bool:
    """A Markdown file that cites (Pandoc ``[@key]`` or ``bibliography:``) is the user's draft."""
    return bool(_BIB_FRONT_MATTER.match(text) or _PANDOC_CITE.search(text))


def parse_file(path: Path, data: bytes | None = None) -> ParseResult:
    """Parse one file of a paper folder. Raises ParseError with a user-facing reason."""
    kind = PAPER_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ParseError(f"unsupported file type {path.suffix!r}")
    if kind == "pdf":
        from paperlens.core.parse.pdf import parse_pdf
        return parse_pdf(path)
    if data is None:
        try:
            size = path.stat().st_size
            if size > MAX_TEXT_BYTES:
                raise ParseError(f"too large for a text file ({size / 1e6:.0f} MB > "
                                 f"{MAX_TEXT_BYTES / 1e6:.0f} MB)")
            data = path.read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ParseError("empty file")
    from paperlens.core.parse.repair import decode_text_file, sniff_utf16

    if sniff_utf16(data) is None and looks_binary(data):
        raise ParseError("binary data, not text")
    text = clean_text(decode_text_file(data))   # UTF-8/UTF-16/Latin-1, mojibake repaired
    if kind == "bib":
        from paperlens.core.parse.bib import parse_bib
        return parse_bib(path, text)
    if kind == "csl":
        from paperlens.core.parse.csl import is_csl_json, parse_csl_json
        if not is_csl_json(text):
            return ParseResult()           # some other JSON file: not ours, nothing to say
        return parse_csl_json(path, text)
    if path.suffix.lower() in (".md", ".markdown"):
        from paperlens.core.parse.mdtable import is_paper_table_file, parse_md_table
        if is_paper_table_file(text):
            return parse_md_table(path, text)
        if is_draft(text):
            return ParseResult(draft=True)
    from paperlens.core.parse.text import parse_text_paper
    return parse_text_paper(path, text)


__all__ = ["ParseError", "ParseResult", "parse_file", "is_draft", "PAPER_SUFFIXES"]
