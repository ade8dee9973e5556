"""Helpers shared by the format parsers: decoding, ids, passage chunking."""
from __future__ import annotations

import codecs
import hashlib
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


def paper_id(source: str, key: str = "") -> str:
    """Stable id of a paper: derived from where it comes from, never from its content."""
    return hashlib.sha1(f"{source}\0{key}".encode("utf-8")).hexdigest()[:16]


def decode_bytes(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_binary(data: bytes) -> bool:
    """Binary data named like text: many NULs or control bytes in the first 8 KiB."""
    head = data[:8192]
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls / len(head) > 0.10


def clean_text(text: str) -> str:
    """Normalise line ends and drop NULs (text extractions carry stray ones)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


_HYPHEN_END = re.compile(r"(\w)-$")


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines into running text, re-joining words hyphenated at a line end."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif _HYPHEN_END.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = out + " " + line
    return out


_SENTENCE_END = re.compile(r"[.!?。！？][\"')\]]?$")


def chunk_lines(lines: list[tuple[int, str]], paper_id_: str, path: str, section: str,
                target_words: int = 120, max_words: int = 220,
                page: Optional[int] = None) -> list[Passage]:
    """Cut numbered lines into paragraph-sized passages.

    A passage ends at a blank line once it has a few words, or at a sentence end once it
    reaches ``target_words``, or at ``max_words`` whatever comes. Line numbers are kept.
    """
    passages: list[Passage] = []
    buf: list[tuple[int, str]] = []
    words = 0

    def flush() -> None:
        nonlocal buf, words
        text = join_lines([t for _, t in buf])
        if text:
            passages.append(Passage(paper_id=paper_id_, text=text, path=path,
                                    line_start=buf[0][0], line_end=buf[-1][0],
                                    section=section, page=page))
        buf, words = [], 0

    for number, line in lines:
        stripped = line.strip()
        if not stripped:
            if words >= 25:
                flush()
            continue
        buf.append((number, stripped))
        words += len(stripped.split()) or 1
        if (words >= target_words and _SENTENCE_END.search(stripped)) or words >= max_words:
            flush()
    if buf:
        flush()
    return passages
