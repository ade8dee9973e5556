"""The framing of the connection's messages (LSP's base protocol): one rule for both readers of
the connection, the start-up front's (lsp/front.py) and the server's (lsp/protocol.py's
MessageReader, under pygls's read loop). Each reads in its own way and hands the lines of a
header to :class:`Header`, which says where the message's body is, or why it is skipped.

A message is a header (lines ``name: value``, then an empty line) and a body of as many bytes
as its ``Content-Length`` says. The specification ends every header line with ``\\r\\n``; its
``Content-Type`` is optional (``application/vscode-jsonrpc; charset=utf-8``: UTF-8 is LSP's only
charset, "utf8" is read as it). Read here:

* a line may end in ``\\n`` alone; a header's name is read in any case, spaces and tabs around
  its value are not part of it (as HTTP's fields are read); a line of spaces ends the header;
* ``Content-Type`` and other headers are not read (pygls does not read them either: the body
  is read as UTF-8, with a warning when the header names another charset);
* empty lines before a header are passed over (nothing is a message without a header);
* a line that is not ``name: value`` is passed over, with a warning;
* what comes before ``Content-Length`` on its line is dropped, with a warning (what was left
  of a body whose length was given short);
* two Content-Length headers that say the same number are one.

A message is skipped, with a warning, when its header

* has no Content-Length, one that is not a number (decimal digits: ``-5``, ``0x10``, ``1.0``
  and ``12 34`` are not), two that disagree, or is longer than :data:`HEADER_MOST`: where its
  body ends cannot be known, so everything up to the next line that ends in a Content-Length
  header with a number is skipped (a JSON body has no line break inside its strings: its text
  naming the header is followed by more on its line);
* says 0 (no JSON text is empty): nothing more is skipped;
* says more than :data:`BODY_MOST`: the body is read past, not kept (a document is <= 20 MB).

The stream ending inside a message ends the connection, with a warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

HEADER_MOST = 8 << 10      # bytes of a header, its lines together (readers read a line up to this)
BODY_MOST = 64 << 20       # a longer body is read past
_DIGITS_MOST = 15          # a longer number is no length (int() of 5000 digits raises)

# a header line's Content-Length (not the end of a longer name: X-Content-Length is another)
_LENGTH = re.compile(rb"(?<![-!#$%&'*+.^_`|~0-9A-Za-z])content-length[ \t]*:", re.IGNORECASE)
_CHARSET = re.compile(rb"content-type[ \t]*:.*?;[ \t]*charset[ \t]*=[ \t]*\"?([^\";\s]*)", re.IGNORECASE)
# where passing over ends: a line that ends in a Content-Length header with a number (a body's
# text "Content-Length: 5 ..." inside a JSON string is followed by more on its line)
_RESYNC = re.compile(_LENGTH.pattern + rb"[ \t]*[0-9]{1,%d}[ \t]*\r?\n\Z" % _DIGITS_MOST, re.IGNORECASE)
_CARRY = 64                # bytes of a cut line kept while looking for a Content-Length header


def _last_length(line: bytes) -> Optional[re.Match]:
    found = None
    for found in _LENGTH.finditer(line):
        pass
    return found


@dataclass(frozen=True)
class Frame:
    """A header read: ``length`` bytes of body follow it; ``skip`` (None: the message is read)
    says why the message is skipped (its ``length`` bytes are read past); ``notes`` are what
    was passed over in it (warnings)."""
    length: int
    skip: Optional[str] = None
    notes: tuple[str, ...] = ()


class Header:
    """The header of the connection's next message, read a line at a time (:meth:`line`).

    A reader hands it each line as ``readline(HEADER_MOST)`` gives it (ending in ``\\n``, or
    cut at HEADER_MOST bytes, or the stream's last bytes) until it returns a :class:`Frame`;
    then the body, and the next header from the next line. One object reads a connection's
    headers: after a header without a usable length it passes over lines up to the next
    Content-Length header."""

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._size = 0
        self._lost = False         # passing over lines up to the next Content-Length header
        self._passed = 0           # bytes passed over meanwhile
        self._carry = b""          # the end of a cut line passed over (a header may span the cut)
        self._notes: list[str] = []

    def line(self, line: bytes) -> Optional[Frame]:
        """Read one line; the frame once the header is whole, else None."""
        if self._lost:
            text, cut = self._carry + line, not line.endswith(b"\n")
            found = None if cut else _RESYNC.search(text)
            if found is None:                    # (a cut line: its end, perhaps a header's start, kept)
                self._passed += len(line)
                self._carry = text[-_CARRY:] if cut else b""
                return None
            passed = self._passed - len(self._carry) + found.start()
            self._lost, self._passed, self._carry = False, 0, b""
            self._notes.append(f"{passed} bytes passed over up to the next Content-Length header")
            line = text[found.start():]
        if not line.strip():
            return self._frame() if self._lines else None     # (before a header: passed over)
        self._size += len(line)
        if self._size > HEADER_MOST or (len(line) >= HEADER_MOST and not line.endswith(b"\n")):
            frame = self._lose(f"a header over {HEADER_MOST >> 10} KB", [])
            if not line.endswith(b"\n"):          # the rest of this line is passed over
                self._passed, self._carry = len(line), line[-_CARRY:]
            return frame
        self._lines.append(line)
        return None

    def ended(self) -> Optional[str]:
        """What to say when the stream ends here (None: between messages)."""
        if self._lines or self._lost:
            return "the connection ended inside a message's header"
        return None

    def _frame(self) -> Frame:
        notes, self._notes = self._notes, []
        lengths = set()
        for line in self._lines:
            found = _last_length(line)
            if found is not None:
                if found.start():
                    notes.append(f"{found.start()} bytes before a Content-Length header dropped")
                value = line[found.end():].strip(b" \t\r\n")
                lengths.add(int(value) if value.isdigit() and len(value) <= _DIGITS_MOST else None)
            elif b":" not in line:
                notes.append("a header line that is not 'name: value' passed over")
            else:
                charset = _CHARSET.match(line.strip())
                if charset and charset.group(1).lower() not in (b"utf-8", b"utf8"):
                    notes.append(f"the body is read as UTF-8 (LSP's only charset), not as the "
                                 f"{charset.group(1)[:40].decode('ascii', 'replace')!r} its header names")
        self._lines, self._size = [], 0
        if not lengths:
            return self._lose("a header without a Content-Length", notes)
        if None in lengths:
            return self._lose("a Content-Length that is not a number of bytes", notes)
        if len(lengths) > 1:
            return self._lose("Content-Length headers that disagree", notes)
        (length,) = lengths
        if length == 0:
            return Frame(0, "an empty body (Content-Length: 0)", tuple(notes))
        if length > BODY_MOST:
            return Frame(length, f"a body of {length} bytes (at most {BODY_MOST >> 20} MB)", tuple(notes))
        return Frame(length, None, tuple(notes))

    def _lose(self, why: str, notes: list[str]) -> Frame:
        """The header cannot say where its body ends: lines are passed over up to the next
        Content-Length header."""
        self._lines, self._size = [], 0
        self._lost, self._passed, self._carry = True, 0, b""
        return Frame(0, why + " (passed over up to the next Content-Length header)", tuple(notes))
