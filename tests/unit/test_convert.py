"""lsp/convert.py in the three position encodings a client may negotiate (UTF-8, UTF-16, UTF-32),
on text with accented letters, CJK and characters above U+FFFF: both directions, positions
inside a character, clamping, and the encoding read per server (pygls Workspace)."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import Workspace

from paperlens.core.models import Span
from paperlens.lsp import convert

ENCODINGS = ["utf-8", "utf-16", "utf-32"]
CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


def ref_units(s: str, encoding: str) -> int:
    """Code units of ``s`` counted by Python's own codecs (the reference)."""
    codec, size = CODECS[encoding]
    return len(s.encode(codec, "surrogatepass")) // size


# one line: \cite after é (2 bytes in UTF-8), 中文 (3 bytes each), 😀 (4 bytes, 2 UTF-16 units)
LINE = "é中文😀 \\cite{key}"
TEXT = "first line\r\n" + LINE + "\nlast 😀"
# character of each code-point offset of LINE, per encoding
COLUMNS = {
    "utf-8": [0, 2, 5, 8, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
    "utf-16": [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
    "utf-32": list(range(len(LINE) + 1)),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_offsets_to_positions_and_back_on_a_line_with_cjk_and_an_emoji(encoding):
    starts = convert.line_starts(TEXT)
    begin = TEXT.index(LINE)
    assert len(COLUMNS[encoding]) == len(LINE) + 1
    for n, column in enumerate(COLUMNS[encoding]):
        assert column == ref_units(LINE[:n], encoding)       # the table is right
        pos = convert.offset_to_position(TEXT, begin + n, starts, encoding)
        assert pos == types.Position(line=1, character=column), (encoding, n)
        assert convert.position_to_offset(TEXT, pos, starts, encoding) == begin + n
        # without precomputed line starts too
        assert convert.offset_to_position(TEXT, begin + n, encoding=encoding) == pos
        assert convert.position_to_offset(TEXT, pos, encoding=encoding) == begin + n
    key = TEXT.index("key")
    assert convert.span_to_range(TEXT, Span(key, key + 3), starts, encoding) == types.Range(
        start=types.Position(line=1, character=COLUMNS[encoding][LINE.index("key")]),
        end=types.Position(line=1, character=COLUMNS[encoding][LINE.index("key") + 3]))
    # the last line: "last " then the emoji, then the end of the text
    end = convert.offset_to_position(TEXT, len(TEXT), starts, encoding)
    assert end == types.Position(line=2, character=5 + {"utf-8": 4, "utf-16": 2, "utf-32": 1}[encoding])
    assert convert.position_to_offset(TEXT, end, starts, encoding) == len(TEXT)


def test_the_encodings_differ_after_non_ascii_text():
    """The same offset is three different characters: converting in the wrong encoding is wrong."""
    key = TEXT.index("key")
    got = {e: convert.offset_to_position(TEXT, key, encoding=e).character for e in ENCODINGS}
    assert got == {"utf-8": 19, "utf-16": 12, "utf-32": 11}
    # and a UTF-8 client's position of the key read as UTF-16 would land past it
    assert convert.position_to_offset(TEXT, types.Position(line=1, character=19), encoding="utf-16") != key


@pytest.mark.parametrize("encoding, inside, before", [
    ("utf-8", 1, 0),          # inside é
    ("utf-8", 3, 1),          # inside 中
    ("utf-8", 4, 1),
    ("utf-8", 9, 3),          # inside 😀
    ("utf-8", 11, 3),
    ("utf-16", 4, 3),         # between the surrogates of 😀
])
def test_a_position_inside_a_character_stays_before_it(encoding, inside, before):
    begin = TEXT.index(LINE)
    pos = types.Position(line=1, character=inside)
    assert convert.position_to_offset(TEXT, pos, encoding=encoding) == begin + before


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_positions_out_of_the_text_are_clamped(encoding):
    line1_end = TEXT.index(LINE) + len(LINE)
    far = types.Position(line=1, character=10_000)
    assert convert.position_to_offset(TEXT, far, encoding=encoding) == line1_end     # not into the next line
    assert convert.position_to_offset(TEXT, types.Position(line=0, character=11), encoding=encoding) == 10  # not into \r\n
    assert convert.position_to_offset(TEXT, types.Position(line=9, character=0), encoding=encoding) == len(TEXT)
    assert convert.offset_to_position(TEXT, 10**6, encoding=encoding) == convert.offset_to_position(
        TEXT, len(TEXT), encoding=encoding)
    assert convert.offset_to_position(TEXT, 11, encoding=encoding) == types.Position(line=0, character=10)  # in \r\n


@pytest.mark.parametrize("text", ["", "\n", "a\r\nb\rc\n\nd\r", "\r\r\n\n", "x\u2028y\n", "é\n😀\r\n中"])
def test_line_starts_end_lines_at_lf_crlf_and_cr_only(text):
    want = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    assert convert.line_starts(text) == want


# --- property: every encoding agrees with Python's codecs -----------------------------------------

CHARS = ["a", "é", "中", "😀", "𝒜", "\u200d", "\x00", "\ud800", "\udfff", "\n", "\r\n", "\r", " "]
texts = st.lists(st.one_of(st.sampled_from(CHARS), st.characters()), max_size=40).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(ENCODINGS))
@example("é中😀\r\n😀a", "utf-8")
@example("\ud800😀", "utf-16")
def test_round_trip_in_every_encoding(text, encoding):
    starts = convert.line_starts(text)
    lines = re.split(r"\r\n|\r|\n", text)
    for offset in range(len(text) + 1):
        pos = convert.offset_to_position(text, offset, starts, encoding)
        line_text = lines[pos.line]
        begin = starts[pos.line]
        back = convert.position_to_offset(text, pos, starts, encoding)
        assert back == min(offset, begin + len(line_text))           # in a line break: its end
        assert pos.character == ref_units(text[begin:back], encoding)
        # one unit further is the next character or still this one, never past the next
        nxt = convert.position_to_offset(text, types.Position(line=pos.line, character=pos.character + 1),
                                         starts, encoding)
        assert back <= nxt <= min(back + 1, begin + len(line_text))


# --- the encoding belongs to one server -----------------------------------------------------------

class _Server:
    def __init__(self, workspace=None):
        if workspace is not None:
            self.workspace = workspace


class _Uninitialized:
    @property
    def workspace(self):
        raise RuntimeError("The workspace is not available - has the server been initialized?")


@pytest.mark.parametrize("negotiated, want", [
    (types.PositionEncodingKind.Utf8, "utf-8"), (types.PositionEncodingKind.Utf16, "utf-16"),
    (types.PositionEncodingKind.Utf32, "utf-32"), ("utf-8", "utf-8"), ("utf-32", "utf-32"),
    (None, "utf-16"), ("utf-7", "utf-16")])
def test_encoding_of_reads_the_servers_workspace(negotiated, want):
    assert convert.encoding_of(_Server(Workspace(None, position_encoding=negotiated))) == want


def test_encoding_of_a_server_not_initialized_is_utf16():
    assert convert.encoding_of(_Uninitialized()) == "utf-16"
    assert convert.encoding_of(_Server()) == "utf-16"


def test_two_servers_in_one_process_keep_their_own_encoding():
    a = _Server(Workspace(None, position_encoding=types.PositionEncodingKind.Utf8))
    b = _Server(Workspace(None, position_encoding=types.PositionEncodingKind.Utf32))
    key = TEXT.index("key")
    pa = convert.offset_to_position(TEXT, key, encoding=convert.encoding_of(a))
    pb = convert.offset_to_position(TEXT, key, encoding=convert.encoding_of(b))
    assert (pa.character, pb.character) == (19, 11)
    assert convert.encoding_of(a) == "utf-8"          # b's encoding did not replace a's
