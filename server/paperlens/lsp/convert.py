"""The one place where LSP positions (line + UTF-16 code units) meet Python string offsets.

Feature modules work on code-point offsets into the document text (``core`` records use them);
everything that crosses the protocol boundary goes through these functions.
"""
from __future__ import annotations

from lsprotocol import types

from paperlens.core.models import Span


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins (``\\n``, ``\\r\\n`` and ``\\r`` end lines, as LSP says)."""
    starts = [0]
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            starts.append(i + 1)
        elif ch == "\r":
            if i + 1 < n and text[i + 1] == "\n":
                i += 1
            starts.append(i + 1)
        i += 1
    return starts


def _line_end(text: str, starts: list[int], line: int) -> int:
    """Offset of the end of ``line``'s content (before its line break)."""
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    while end > starts[line] and text[end - 1] in "\r\n":
        end -= 1
    return end


def position_to_offset(text: str, position: types.Position, starts: list[int] | None = None) -> int:
    """Code-point offset of an LSP position, clamped into the text (never raises)."""
    starts = starts or line_starts(text)
    line = position.line
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    begin, end = starts[line], _line_end(text, starts, line)
    units = max(position.character, 0)
    offset = begin
    while offset < end and units > 0:
        units -= 2 if ord(text[offset]) > 0xFFFF else 1
        if units < 0:  # position points inside a surrogate pair: stay before the character
            break
        offset += 1
    return offset


def offset_to_position(text: str, offset: int, starts: list[int] | None = None) -> types.Position:
    """LSP position of a code-point offset (clamped into the text)."""
    starts = starts or line_starts(text)
    offset = min(max(offset, 0), len(text))
    # binary search for the line
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    line_end = _line_end(text, starts, lo)
    offset = min(offset, max(line_end, starts[lo]))
    return types.Position(line=lo, character=_utf16_len(text[starts[lo]:offset]))


def span_to_range(text: str, span: Span, starts: list[int] | None = None) -> types.Range:
    starts = starts or line_starts(text)
    return types.Range(
        start=offset_to_position(text, span.start, starts),
        end=offset_to_position(text, span.end, starts),
    )


def line_range(line_start: int, line_end: int | None = None) -> types.Range:
    """Range covering whole lines of a file we did not open (0-based lines)."""
    line_end = line_start if line_end is None else line_end
    return types.Range(
        start=types.Position(line=max(line_start, 0), character=0),
        end=types.Position(line=max(line_end, line_start, 0) + 1, character=0),
    )
