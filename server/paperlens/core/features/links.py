"""Document links: DOIs, arXiv ids and URLs in drafts and papers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from paperlens.core.models import Span

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+[^\s<>\"'`{}|\\^\[\].,;:!?)]")
_DOI = re.compile(r"(?<![\w/.])(?:doi:\s*)?(10\.\d{4,9}/[^\s\"<>{}]+[^\s\"<>{}.,;:)\]])", re.IGNORECASE)
_ARXIV = re.compile(r"(?<![\w/.])arXiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE)
MAX_LINKS = 5000


@dataclass(frozen=True)
class Link:
    span: Span
    target: str


def links(text: str) -> list[Link]:
    """The links of ``text``: URLs first, then DOIs and arXiv ids that no URL covers; at most
    :data:`MAX_LINKS`."""
    taken: list[tuple[int, int]] = []
    out: list[Link] = []

    def add(start: int, end: int, target: str) -> None:
        if any(s < end and start < e for s, e in taken) or len(out) >= MAX_LINKS:
            return
        taken.append((start, end))
        out.append(Link(Span(start, end), target))

    for m in _URL.finditer(text):
        add(m.start(), m.end(), m.group(0))
    for m in _DOI.finditer(text):
        add(m.start(1), m.end(1), "https://doi.org/" + quote(m.group(1), safe="/:;._-()"))
    for m in _ARXIV.finditer(text):
        add(m.start(), m.end(), "https://arxiv.org/abs/" + m.group(1))
    return out
