"""The one place where LSP positions (line + character) meet Python string offsets.

An LSP ``character`` counts units of the position encoding the server negotiated with its client
(pygls picks the client's first choice among UTF-8, UTF-16 and UTF-32, else UTF-16, and keeps it
in ``ls.workspace.position_encoding``): UTF-8 counts the bytes of each character, UTF-16 two units
for a character above U+FFFF and one for any other, UTF-32 one per character.  The encoding
belongs to one server (one client), so callers pass it: ``encoding_of(ls)`` reads it.

Feature modules work on code-point offsets into the document text (``core`` records use them);
everything that crosses the protocol boundary goes through these functions.  Lines are found
once per request and text (``line_starts``, :class:`Positions`); an ASCII line converts without
counting.  A feature's location becomes a URI here too (paths from URIs: ``lsp/uris.py``).

lsprotocol is imported when a position is first made as one of its types: the start-up front
(``lsp/front.py``) converts positions, as JSON, before pygls and lsprotocol are loaded.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path
from typing import TYPE_CHECKING

from paperlens.core.features.document import Location
from paperlens.core.models import Span

if TYPE_CHECKING:
    from lsprotocol import types

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)

_BREAK = re.compile(r"\r\n?|\n")


def encoding_of(ls) -> str:
    """The position encoding ``ls`` negotiated with its client ("utf-8", "utf-16" or "utf-32");
    UTF-16, the protocol's default, before initialization or for anything unknown."""
    try:
        negotiated = ls.workspace.position_encoding
    except Exception:                 # not initialized (yet): the protocol's default
        return UTF16
    value = str(getattr(negotiated, "value", negotiated) or "").lower()
    return value if value in ENCODINGS else UTF16


def units(s: str, encoding: str = UTF16) -> int:
    """Length of ``s`` in code units of ``encoding`` (a lone surrogate counts as one UTF-16 unit)."""
    if encoding == UTF32 or s.isascii():
        return len(s)
    if encoding == UTF8:
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins (``\\n``, ``\\r\\n`` and ``\\r`` end lines, as LSP says)."""
    starts = [0]
    if "\r" in text:
        starts.extend(m.end() for m in _BREAK.finditer(text))
        return starts
    find, i = text.find, text.find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def _line_end(text: str, starts: list[int], line: int) -> int:
    """Offset of the end of ``line``'s content (before its line break)."""
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    while end > starts[line] and text[end - 1] in "\r\n":
        end -= 1
    return end


def _chars_within(segment: str, budget: int, encoding: str) -> int:
    """The most leading characters of ``segment`` that take at most ``budget`` units (a position
    inside a character, as in the middle of a surrogate pair, stays before it)."""
    lo, hi = 0, len(segment)          # units(segment[:lo]) <= budget; answer in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if units(segment[:mid], encoding) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def position_to_offset(text: str, position: types.Position, starts: list[int] | None = None,
                       encoding: str = UTF16) -> int:
    """Code-point offset of an LSP position in ``encoding``, clamped into the text (never raises)."""
    starts = starts or line_starts(text)
    line = position.line
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    begin, end = starts[line], _line_end(text, starts, line)
    budget = max(position.character, 0)
    # every character takes at least one unit: the answer is within the first ``budget`` ones
    segment = text[begin:min(end, begin + budget)]
    if encoding == UTF32 or segment.isascii():
        return begin + len(segment)
    return begin + _chars_within(segment, budget, encoding)


def _lsp():
    """lsprotocol's types (imported on first use: see the module's docstring)."""
    from lsprotocol import types

    return types


def line_and_character(text: str, offset: int, starts: list[int] | None = None,
                       encoding: str = UTF16) -> tuple[int, int]:
    """The LSP line and character in ``encoding`` of a code-point offset (clamped into the text)."""
    starts = starts or line_starts(text)
    offset = min(max(offset, 0), len(text))
    line = bisect_right(starts, offset) - 1
    offset = min(offset, max(_line_end(text, starts, line), starts[line]))
    return line, units(text[starts[line]:offset], encoding)


def offset_to_position(text: str, offset: int, starts: list[int] | None = None,
                       encoding: str = UTF16) -> types.Position:
    """LSP position in ``encoding`` of a code-point offset (clamped into the text)."""
    line, character = line_and_character(text, offset, starts, encoding)
    return _lsp().Position(line=line, character=character)


def span_to_range(text: str, span: Span, starts: list[int] | None = None,
                  encoding: str = UTF16) -> types.Range:
    starts = starts or line_starts(text)
    return _lsp().Range(
        start=offset_to_position(text, span.start, starts, encoding),
        end=offset_to_position(text, span.end, starts, encoding),
    )


def span_to_range_json(text: str, span: Span, starts: list[int] | None = None,
                       encoding: str = UTF16) -> dict:
    """:func:`span_to_range` as the protocol's JSON (made without lsprotocol)."""
    starts = starts or line_starts(text)
    (l1, c1), (l2, c2) = (line_and_character(text, span.start, starts, encoding),
                          line_and_character(text, span.end, starts, encoding))
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def line_range(line_start: int, line_end: int | None = None) -> types.Range:
    """Range covering whole lines of a file we did not open (0-based lines; character 0 is the
    same in every encoding)."""
    lsp = _lsp()
    first, after = line_bounds(line_start, line_start if line_end is None else line_end)
    return lsp.Range(start=lsp.Position(line=first, character=0), end=lsp.Position(line=after, character=0))


def line_bounds(line_start: int, line_end: int) -> tuple[int, int]:
    """The first line and the line after the last of whole lines ``line_start``..``line_end``
    (0-based, inclusive; a negative or reversed span is made whole)."""
    return max(line_start, 0), max(line_end, line_start, 0) + 1


class JsonObject(dict):
    """An answer made as the protocol's JSON (an object): the server's converter sends it as
    it is (lsp/protocol.py), where it walks a plain dict or list, and lsprotocol's objects,
    field by field (~0.35 ms for 50 workspace symbols)."""


class JsonText(str):
    """An answer written as the protocol's JSON text, as ``json.dumps`` writes it (ASCII, the
    other characters escaped): the protocol puts it in the response as it is (lsp/protocol.py),
    where it encodes a JsonObject (~0.1 ms for 50 workspace symbols)."""


def path_to_uri(path: str) -> str:
    return Path(path).as_uri()


class Positions:
    """The conversions of one request, in the encoding negotiated with the client: each text's
    line starts are found once (a request may convert many spans of a few texts)."""

    def __init__(self, encoding: str = UTF16) -> None:
        self.encoding = encoding
        self._starts: dict[int, tuple[str, list[int]]] = {}

    def starts(self, text: str) -> list[int]:
        held = self._starts.get(id(text))
        if held is None or held[0] is not text:
            held = self._starts[id(text)] = (text, line_starts(text))
        return held[1]

    def offset(self, text: str, position: types.Position) -> int:
        return position_to_offset(text, position, self.starts(text), self.encoding)

    def position(self, text: str, offset: int) -> types.Position:
        return offset_to_position(text, offset, self.starts(text), self.encoding)

    def range(self, text: str, span: Span) -> types.Range:
        return span_to_range(text, span, self.starts(text), self.encoding)

    def range_json(self, text: str, span: Span) -> dict:
        return span_to_range_json(text, span, self.starts(text), self.encoding)

    def location(self, loc: Location) -> types.Location:
        """A feature's location: a span of a text it read, else whole lines of a file."""
        if loc.span is not None and loc.text is not None:
            where = self.range(loc.text, loc.span)
        else:
            where = line_range(loc.line, loc.end_line)
        return _lsp().Location(uri=loc.uri or path_to_uri(loc.path), range=where)


def positions(ls) -> Positions:
    """The conversions of a request to the server ``ls`` (in its negotiated encoding)."""
    return Positions(encoding_of(ls))
