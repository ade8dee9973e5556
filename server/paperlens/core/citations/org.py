"""Org citations (org-cite): ``[cite/style:prefix @key suffix; @other]``; keys are read
as Pandoc's."""
from __future__ import annotations

import re

from paperlens.core.models import CitationKey, Span

from .common import LOOKBACK, CompletionContext, is_word, item_end, walk_back
from .markdown import KEY_AT, KEY_TAIL, partial_key_char

_ORG_OPEN = re.compile(r"\[cite(?:/[\w\-]+)*:")
_ORG_CITE = re.compile(r"\[cite(?:/[\w\-]+)*:([^\[\]]*)\]")


def find_keys(text: str, masked: str) -> list[CitationKey]:
    """The keys of the ``[cite:...]`` citations of ``masked``, sliced from ``text``."""
    found: list[CitationKey] = []
    for m in _ORG_CITE.finditer(masked):
        command = text[m.start():m.start(1)]
        for km in KEY_AT.finditer(masked, m.start(1), m.end(1)):
            if km.start() > 0 and is_word(masked[km.start() - 1]):
                continue
            start, end = km.span(1)
            found.append(CitationKey(text[start:end], Span(start, end), "org", command))
    return found


def completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    """The key being typed after an ``@`` inside ``[cite:...`` at ``offset``, or None."""
    start = walk_back(masked, offset, partial_key_char)
    if start is None or start == 0:
        return None
    at = start - 1
    if masked[at] != "@" or (at > 0 and is_word(masked[at - 1])):
        return None
    if start < offset and not is_word(masked[start]):
        return None
    m = _org_open(masked, at)
    if m is None:
        return None
    end = KEY_TAIL.match(masked, offset).end()
    return CompletionContext(
        text[start:offset], Span(start, end), "org", text[m.start():m.end()]
    )


def _org_open(masked: str, at: int):
    """The match of the ``[cite...:`` still open at ``at`` (within ``LOOKBACK``), or None."""
    head = masked.rfind("[cite", max(0, at - LOOKBACK), at)
    if head < 0:
        return None
    m = _ORG_OPEN.match(masked, head)
    if m is None or m.end() > at:
        return None
    between = masked[m.end():at]
    return None if "[" in between or "]" in between else m


def insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` at ``offset`` (as :func:`.latex.insertion`): another
    item inside ``[cite:...]``, else a new citation."""
    if context is not None:
        return item_end(masked, context.span.end), ";@" + key
    m = _org_open(masked, offset)
    if m is not None:
        inner = masked[m.end():offset].rstrip()
        return offset, ("@" if not inner or inner.endswith(";") else ";@") + key
    if offset > 0 and masked[offset - 1] == "@" and (offset == 1 or masked[offset - 2].isspace()):
        return offset, key
    return offset, "[cite:@" + key + "]"
