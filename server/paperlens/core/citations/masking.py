"""Masking: the regions of a document where citations do not count.

LaTeX ``%`` comments, Markdown code fences, code spans, HTML comments and autolinks, Typst
raw text and comments, Org source blocks and comment lines are overwritten with spaces,
newlines kept (:func:`mask`).  The masked copy has exactly the same length as the original,
so every offset found in it is an offset into the original text, and outside the masked
regions both are identical.

Every mask of a document is made by :func:`mask`, called as ``masking.mask`` (tests count
the passes over a buffer by wrapping this one name).
"""
from __future__ import annotations

import re
from bisect import bisect_left

from .common import BLANK_LINE
from .languages import normalize_language


def _blank(segment: str) -> str:
    """Spaces in place of every character of ``segment`` except newlines."""
    if "\n" not in segment:
        return " " * len(segment)
    return "\n".join(" " * len(part) for part in segment.split("\n"))


def _apply_mask(text: str, ranges: list[tuple[int, int]]) -> str:
    """Copy of ``text`` with the (sorted, disjoint) ``ranges`` blanked out."""
    if not ranges:
        return text
    n = len(text)
    out: list[str] = []
    pos = 0
    for start, end in ranges:
        end = min(end, n)
        if start < pos or start >= end:
            continue
        out.append(text[pos:start])
        out.append(_blank(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def inside(ranges: list[tuple[int, int]], offset: int) -> bool:
    """True when a cursor at ``offset`` sits inside one of the masked ``ranges``.

    Ranges are half-open; line comments include their newline and regions running to
    the end of the buffer end at ``len(text) + 1``, so "strictly inside" is the right
    test in every case (a cursor typing at the end of a comment line is inside it, a
    cursor just after a closing backtick is not).
    """
    for start, end in ranges:
        if start >= offset:
            break
        if offset < end:
            return True
    return False


def _latex_ranges(text: str) -> list[tuple[int, int]]:
    """``%`` comments: from an unescaped ``%`` to the end of its line (newline included)."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    while True:
        i = text.find("%", pos)
        if i < 0:
            break
        j = i
        while j > 0 and text[j - 1] == "\\":
            j -= 1
        if (i - j) % 2:  # odd number of backslashes: "\%" is a literal percent sign
            pos = i + 1
            continue
        nl = text.find("\n", i)
        end = n if nl < 0 else nl
        ranges.append((i, end + 1))
        pos = end + 1
    return ranges


# Markdown regions are found by two scans merged in document order (each pattern starts
# with a literal or a character class, which keeps the regex engine's fast search).
# A fence opens at a line start: up to three spaces, then ``` or ~~~ (3 or more); a
# backtick fence's info string cannot contain a backtick.
_MD_FENCE = re.compile(r"\n([ \t]{0,3}(`{3,}(?=[^`\n]*$)|~{3,}))", re.M)
_MD_FENCE_FIRST = re.compile(r"[ \t]{0,3}(`{3,}(?=[^`\n]*$)|~{3,})", re.M)
# A backtick run (code span delimiter) or a "<" (HTML comment or autolink).
_MD_INLINE = re.compile(r"[`<]`*")
_MD_TICK_RUN = re.compile(r"(?<!`)`+")     # a whole run of backticks
_MD_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*>")
_MD_FENCE_CLOSE: dict[tuple[str, int], re.Pattern] = {}


def _md_fence_close(ch: str, count: int) -> re.Pattern:
    key = (ch, count)
    pat = _MD_FENCE_CLOSE.get(key)
    if pat is None:
        pat = re.compile(r"^[ \t]{0,3}" + re.escape(ch) + "{%d,}[ \t\r]*$" % count, re.M)
        _MD_FENCE_CLOSE[key] = pat
    return pat


def _md_next_fence(text: str, pos: int) -> tuple[int, str] | None:
    """``(line_start, fence_run)`` of the first fence opening at or after ``pos``."""
    if pos == 0:
        m = _MD_FENCE_FIRST.match(text)
        if m is not None:
            return 0, m.group(1)
    m = _MD_FENCE.search(text, max(0, pos - 1))
    return None if m is None else (m.start(1), m.group(2))


def _markdown_ranges(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks, inline code spans, HTML comments and ``<scheme:...>`` links."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    fence = _md_next_fence(text, 0)
    inline = _MD_INLINE.search(text)
    para_from, para_end = -1, -1     # cache: first blank line at or after para_from
    # the paragraph's backtick runs, indexed once: run length -> their starts, in order
    para_runs: dict[int, list[int]] | None = None
    while pos < n:
        # Both lookups are cached and only redone once the scan has moved past them.
        if fence is not None and fence[0] < pos:
            fence = _md_next_fence(text, pos)
        if inline is not None and inline.start() < pos:
            inline = _MD_INLINE.search(text, pos)
        if fence is not None and (inline is None or fence[0] <= inline.start()):
            start, run = fence
            nl = text.find("\n", start)
            close = None if nl < 0 else _md_fence_close(run[0], len(run)).search(text, nl + 1)
            if close is None:  # an unclosed fence runs to the end of the document
                ranges.append((start, n + 1))
                break
            cl = text.find("\n", close.end())
            end = n + 1 if cl < 0 else cl + 1
            ranges.append((start, end))
            pos = end
        elif inline is not None:
            start, tok = inline.start(), inline.group()
            if tok[0] == "`":
                # A code span ends at the next run of exactly as many backticks within
                # the same paragraph; otherwise the run is literal text.  The paragraph's
                # runs are indexed by length once, so that runs of ever new lengths
                # ("` x `` x ``` ...") cost a lookup each, not a search of the paragraph.
                after = inline.end()
                if not para_from <= after <= para_end:
                    blank = BLANK_LINE.search(text, after)
                    para_from, para_end = after, (n if blank is None else blank.start())
                    para_runs = None
                if para_runs is None:
                    para_runs = {}
                    for m in _MD_TICK_RUN.finditer(text, para_from, para_end):
                        para_runs.setdefault(m.end() - m.start(), []).append(m.start())
                count = len(tok)
                starts = para_runs.get(count)
                i = bisect_left(starts, after) if starts else 0
                if not starts or i == len(starts):
                    pos = after
                    continue
                close_end = starts[i] + count
                ranges.append((start, close_end))
                pos = close_end
            elif text.startswith("<!--", start):
                close_at = text.find("-->", start + 4)
                if close_at < 0:
                    ranges.append((start, n + 1))
                    break
                ranges.append((start, close_at + 3))
                pos = close_at + 3
            else:
                auto = _MD_AUTOLINK.match(text, start)
                if auto is not None:
                    ranges.append((start, auto.end()))
                pos = start + 1 if auto is None else auto.end()
        else:
            break
    return ranges


# A backtick run, "//" or "/*".  (Written with a leading character class, which keeps the
# regex engine's fast search; a plain alternation is three times slower.)
_TYPST_SKIP = re.compile(r"[`/](?:(?<=`)`*|(?<=/)[/*])")
_TYPST_URL = re.compile(r"(?<![A-Za-z])(?:http|https)://[^\s<>()\[\]{}\"]*")


def _typst_ranges(text: str) -> list[tuple[int, int]]:
    """Raw text (```` ```...``` ````, `` `...` ``) and ``//`` / ``/* */`` comments."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    while pos < n:
        m = _TYPST_SKIP.search(text, pos)
        if m is None:
            break
        start, tok = m.start(), m.group()
        if tok == "//":
            if start > 0 and text[start - 1] == ":":
                # "scheme://" is no comment; Typst turns http(s) URLs into links, whose
                # text ("https://x.org/@user") must not yield references either.
                link = _TYPST_URL.match(text, max(0, start - 6)) or _TYPST_URL.match(
                    text, max(0, start - 5)
                )
                if link is None or link.end() <= start:
                    pos = m.end()
                    continue
                ranges.append(link.span())
                pos = link.end()
                continue
            nl = text.find("\n", start)
            end = n + 1 if nl < 0 else nl + 1
        elif tok == "/*":
            close = text.find("*/", m.end())
            end = n + 1 if close < 0 else close + 2
        elif len(tok) == 2:  # `` is an empty raw
            end = m.end()
        else:
            # ` ... ` or ``` ... ``` (three or more: closed by the same number of backticks)
            closer = "`" if len(tok) == 1 else tok
            close = text.find(closer, m.end())
            end = n + 1 if close < 0 else close + len(closer)
        ranges.append((start, end))
        pos = end
    return ranges


_ORG_SKIP = re.compile(
    r"^[ \t]*(?:#\+begin_(?P<blk>src|example|export|comment)\b|#(?=[ \t\r]|$))",
    re.M | re.I,
)
_ORG_BLOCK_END: dict[str, re.Pattern] = {}


def _org_ranges(text: str) -> list[tuple[int, int]]:
    """Source/example/export/comment blocks and ``# comment`` lines."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    unclosed: set[str] = set()  # block kinds with no end line after some point
    while pos < n:
        m = _ORG_SKIP.search(text, pos)
        if m is None:
            break
        start = m.start()
        nl = text.find("\n", start)
        line_end = n + 1 if nl < 0 else nl + 1
        block = m.group("blk")
        if block is None:  # comment line
            ranges.append((start, line_end))
            pos = line_end
            continue
        kind = block.lower()
        if kind in unclosed:
            pos = line_end
            continue
        end_pat = _ORG_BLOCK_END.get(kind)
        if end_pat is None:
            end_pat = re.compile(r"^[ \t]*#\+end_" + kind + r"\b", re.M | re.I)
            _ORG_BLOCK_END[kind] = end_pat
        close = end_pat.search(text, min(line_end, n))
        if close is None:  # an unclosed block is not a block: just skip its line
            unclosed.add(kind)
            pos = line_end
            continue
        cl = text.find("\n", close.end())
        end = n + 1 if cl < 0 else cl + 1
        ranges.append((start, end))
        pos = end
    return ranges


_RANGE_FINDERS = {
    "latex": _latex_ranges,
    "markdown": _markdown_ranges,
    "typst": _typst_ranges,
    "org": _org_ranges,
}


def mask(text: str, language: str) -> tuple[str, list[tuple[int, int]]]:
    """Masked copy of ``text`` plus the masked ranges (see the module docstring)."""
    ranges = _RANGE_FINDERS[language](text)
    return _apply_mask(text, ranges), ranges


def masked_text(text: str, language: str) -> str:
    """``text`` with the regions where citations do not count (comments, code) blanked out,
    newlines kept: same length, same offsets.  Unknown languages give ``text`` unchanged."""
    lang = normalize_language(language)
    if lang is None or not isinstance(text, str):
        return text
    return mask(text, lang)[0]
