"""Helpers shared by the format parsers: decoding, ids, passage chunking."""
from __future__ import annotations

import codecs
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Optional

from paperlens.core.models import Paper, Passage


class ParseError(Exception):
    """A file that cannot be used; the message says why, for the user."""


@dataclass
class ParseResult:
    papers: list[Paper] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    draft: bool = False              # the user's own writing (cites papers), not a paper
    # paper id -> the start of a full text's first pages, for joining it to its .bib entry
    heads: dict[str, str] = field(default_factory=dict)
    # made by an index worker once the documents are written (whoosh store._segment_job), so
    # that the process collecting every worker's results does not: paper id -> its line of
    # references.jsonl (the papers' references then go), and paper id -> the base of the key
    # generated for a paper without one
    reference_lines: dict[str, str] = field(default_factory=dict)
    base_keys: dict[str, str] = field(default_factory=dict)


def paper_id(source: str, key: str = "") -> str:
    """Stable id of a paper: derived from where it comes from, never from its content."""
    return hashlib.sha1(f"{source}\0{key}".encode("utf-8")).hexdigest()[:16]


def looks_binary(data: bytes) -> bool:
    """Binary data named like text: many NULs or control bytes in the first 8 KiB."""
    head = data[:8192]
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.10


_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


def clean_text(text: str) -> str:
    """Normalise line ends and drop NULs (text extractions carry stray ones)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


_WORD_CHAR = re.compile(r"\w")


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines into running text, re-joining words hyphenated at a line end."""
    # parts joined by spaces; a hyphenated line end merges the next line into the last part.
    # Only the end of the text so far is looked at (a word character and "-"), never all of it.
    parts: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if parts:
            last = parts[-1]
            if (last[-1] == "-" and len(last) > 1 and _WORD_CHAR.match(last, len(last) - 2)
                    and line[:1].islower()):
                parts[-1] = last[:-1] + line
                continue
        parts.append(line)
    return " ".join(parts)


_SENTENCE_END = re.compile(r"[.!?。！？][\"')\]]?$")


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_token_counter = None


def _counter():
    """The function counting a text's tokens (loaded once, see count_tokens)."""
    global _token_counter
    if _token_counter is None:
        try:
            from paperlens.core.tokens import encoding_for

            _token_counter = encoding_for(None).count
        except Exception as exc:   # tokenizer data missing or broken: size passages roughly
            logging.getLogger(__name__).warning("token counts are estimated: %s", exc)
            _token_counter = lambda t: len(t.split()) + len(_CJK.findall(t))  # noqa: E731
    return _token_counter


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in the o200k encoding (core/tokens.py: tiktoken's ids, offline, in
    about 10 MB). If the encoding files cannot be had, an estimate: words plus CJK characters
    (each about one token)."""
    return _counter()(text)


def chunk_lines(lines: list[tuple[int, str]], paper_id_: str, path: str, section: str,
                target_tokens: int = 160, max_tokens: int = 300,
                page: Optional[int] = None) -> list[Passage]:
    """Cut numbered lines into paragraph-sized passages, sized in tokens.

    A passage ends at a blank line once it has a few dozen tokens, or at a sentence end once
    it reaches ``target_tokens``, or at ``max_tokens`` whatever comes. Line numbers are kept.
    """
    passages: list[Passage] = []
    buf: list[tuple[int, str]] = []
    size = 0
    count = _counter()

    def flush() -> None:
        nonlocal buf, size
        text = join_lines([t for _, t in buf])
        if text:
            passages.append(Passage(paper_id=paper_id_, text=text, path=path,
                                    line_start=buf[0][0], line_end=buf[-1][0],
                                    section=section, page=page))
        buf, size = [], 0

    for number, line in lines:
        stripped = line.strip()
        if not stripped:
            if size >= 32:
                flush()
            continue
        buf.append((number, stripped))
        size += count(stripped) or 1
        if (size >= target_tokens and _SENTENCE_END.search(stripped)) or size >= max_tokens:
            flush()
    if buf:
        flush()
    return passages
