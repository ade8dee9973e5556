"""What the citation modules share: the two results they describe the cursor with
(:class:`CompletionContext`, :class:`Insertion`), how far they read around it, and small
character helpers."""
from __future__ import annotations

import re
from dataclasses import dataclass

from paperlens.core.models import Span

# Longest partial key looked at backwards from the cursor during completion.
MAX_PARTIAL = 256
# How far (in characters) we look back for the opening of a citation around the cursor.
LOOKBACK = 4000
# How far the text around a key can decide whether it is one (see "Windows" in the package's
# docstring).
REACH = 16384


@dataclass(frozen=True)
class CompletionContext:
    """Where a citation key is being typed.

    ``prefix`` is the part of the key before the cursor, ``span`` the range of the whole
    partial key around the cursor (the text a completion replaces; empty at the cursor
    when nothing has been typed yet), ``syntax`` one of ``latex``, ``pandoc``, ``typst``,
    ``org`` and ``command`` the citing command (``\\citep``, ``[@``, ``@``, ``#cite``,
    ``[cite:`` ...).
    """

    prefix: str
    span: Span
    syntax: str
    command: str


@dataclass(frozen=True)
class Insertion:
    """What to write for a citation key at a position: ``text`` replaces ``span`` (an empty
    span: ``text`` is inserted at ``span.start``)."""

    span: Span
    text: str


def is_word(ch: str) -> bool:
    """Same notion of "word character" as ``\\w`` in ``str`` regexes."""
    return ch.isalnum() or ch == "_"


def walk_back(text: str, offset: int, allowed) -> int | None:
    """Start of the run of characters satisfying ``allowed`` that ends at ``offset``.

    Gives up (``None``) on runs longer than ``MAX_PARTIAL`` so a cursor inside a huge
    word costs nothing.
    """
    i = offset
    limit = max(0, offset - MAX_PARTIAL - 1)
    while i > 0 and allowed(text[i - 1]):
        i -= 1
        if i <= limit:
            return None
    return i


BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
# The rest of one item of a bracketed citation (Pandoc ``[@a, p. 3; @b]``, Org ``[cite:@a;@b]``).
_ITEM_REST = re.compile(r"[^;\[\]]*")


def item_end(masked: str, pos: int) -> int:
    """End of the bracketed citation item at ``pos``: the next ``;`` or ``]`` of its bracket
    (``pos`` itself when neither follows in the paragraph)."""
    end = _ITEM_REST.match(masked, pos, min(len(masked), pos + LOOKBACK)).end()
    if end < len(masked) and masked[end] in ";]" and not BLANK_LINE.search(masked, pos, end):
        return end
    return pos


def line_start(text: str, offset: int) -> int:
    """Offset of the start of the line holding ``offset``."""
    return text.rfind("\n", 0, max(0, offset)) + 1
