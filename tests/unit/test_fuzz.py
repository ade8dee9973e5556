"""Property tests (hypothesis): the protocol position conversions and every parser of untrusted
text. Nothing but ``ParseError`` escapes a parser, and every span and line number they return
points inside the text they were given."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from paperlens.core import citations
from paperlens.core.parse import ParseError, parse_file
from paperlens.core.parse.bib import parse_bib
from paperlens.core.parse.common import clean_text
from paperlens.core.parse.csl import parse_csl_json
from paperlens.core.parse.mdtable import parse_md_table
from paperlens.core.parse.repair import decode_text_file, repair_text
from paperlens.core.parse.text import parse_text_paper
from paperlens.core.references import (find_numeric_citations, numeric_citation_at,
                                       parse_references)
from paperlens.lsp import convert

# PAPERLENS_FUZZ_SCALE=20 for a deeper run than the default (which stays within a few seconds)
SCALE = float(os.environ.get("PAPERLENS_FUZZ_SCALE", "1"))
FAST = settings(max_examples=int(300 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=int(120 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pieces_text(pieces: list[str], max_size: int = 60):
    """Text made of the given pieces and any other characters (astral and lone surrogates too)."""
    return st.lists(st.one_of(st.sampled_from(pieces), st.characters(), st.text(max_size=4)),
                    max_size=max_size).map("".join)


@st.composite
def corrupted(draw, base, noise: list[str], max_edits: int = 4):
    """A structured text from ``base``, then a few random edits (insert, delete, duplicate):
    near-valid input, where parsers have the most decisions to get wrong."""
    text = draw(base)
    for _ in range(draw(st.integers(0, max_edits))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        op = draw(st.sampled_from(["insert", "delete", "dup"]))
        if op == "insert":
            text = text[:i] + draw(st.sampled_from(noise) | st.characters()) + text[i:]
        elif op == "delete":
            text = text[:i] + text[j:]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


# --- lsp.convert -----------------------------------------------------------------------------------

LINE_ENDS = ["\n", "\r\n", "\r", "\r\r\n", "\n\r"]
CHARS = ["a", "é", "中", "😀", "𝒜", "\u200d", "\u2028", "\x00", "\ud800", "\udfff", "\t", " "]
lsp_text = pieces_text(LINE_ENDS + CHARS, max_size=40)


def ref_lines(text: str) -> list[str]:
    """Line contents the LSP way (\\n, \\r\\n and \\r end lines; nothing else does)."""
    return re.split(r"\r\n|\r|\n", text)


def u16(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


@FAST
@given(lsp_text, st.data())
@example("a\r\nb", None)
@example("😀\r", None)
def test_offset_position_round_trip(text, data):
    starts = convert.line_starts(text)
    lines = ref_lines(text)
    assert len(starts) == len(lines)
    for offset in range(len(text) + 1):
        pos = convert.offset_to_position(text, offset, starts)
        assert 0 <= pos.line < len(lines)
        line_text = lines[pos.line]
        assert 0 <= pos.character <= u16(line_text)
        back = convert.position_to_offset(text, pos, starts)
        # an offset inside a line break stands for the end of the line's content
        line_end = starts[pos.line] + len(line_text)
        assert back == min(offset, line_end)
        assert u16(text[starts[pos.line]:back]) == pos.character
    if data is not None:
        line = data.draw(st.integers(0, 2**31 - 1) | st.integers(0, len(lines) + 2))
        char = data.draw(st.integers(0, 2**31 - 1) | st.integers(0, 12))
    else:
        line, char = 0, 1
    p = types.Position(line=line, character=char)
    off = convert.position_to_offset(text, p)
    assert 0 <= off <= len(text)
    q = convert.offset_to_position(text, off)
    assert convert.offset_to_position(text, convert.position_to_offset(text, q)) == q   # stable
    assert q.line <= min(line, len(lines) - 1)
    assert q.character <= u16(lines[q.line])
    if line < len(lines):                 # clamped into the requested line
        assert q.line == line and q.character <= char


@FAST
@given(pieces_text(["😀", "𝒜", "a", "\n"], max_size=20))
def test_position_inside_a_surrogate_pair_stays_before_the_character(text):
    for offset, ch in enumerate(text):
        if ord(ch) > 0xFFFF:
            pos = convert.offset_to_position(text, offset)
            inside = types.Position(line=pos.line, character=pos.character + 1)
            assert convert.position_to_offset(text, inside) == offset


@FAST
@given(lsp_text, st.integers(-5, 200), st.integers(-5, 200))
def test_span_to_range_is_ordered_and_inside(text, a, b):
    from paperlens.core.models import Span

    rng = convert.span_to_range(text, Span(min(a, b), max(a, b)))
    lines = ref_lines(text)
    for p in (rng.start, rng.end):
        assert 0 <= p.line < len(lines) and 0 <= p.character <= u16(lines[p.line])
    assert (rng.start.line, rng.start.character) <= (rng.end.line, rng.end.character)


# --- citation scanners of drafts ---------------------------------------------------------------------

CITE_PIECES = ["\\cite{", "\\citep[see][p.~3]{", "\\citet*{", "}", "{", ",", "%", "\n", "\\", "[@", "@",
               "]", ";", "-@", "`", "```\n", "#cite(<", ">)", "[cite:@", "<!--", "-->", "key2020",
               "vaswani2017attention", " ", "$", "\\begin{verbatim}", "\\end{verbatim}", "#", "/*", "*/",
               "\\bibliography{refs}", "---\nbibliography: a.bib\n---\n"]


KEYS = st.sampled_from(["vaswani2017attention", "he2016deep", "a", "key:x-1", "k_2", "Müller2020", "😀"])
CITES = st.one_of(
    st.lists(KEYS, min_size=1, max_size=3).map(lambda ks: "\\cite{" + ",".join(ks) + "}"),
    st.lists(KEYS, min_size=1, max_size=3).map(lambda ks: "\\citep[see][p. 3]{" + ", ".join(ks) + "}"),
    st.lists(KEYS, min_size=1, max_size=3).map(lambda ks: "[" + "; ".join("@" + k for k in ks) + "]"),
    KEYS.map(lambda k: "@" + k), KEYS.map(lambda k: "#cite(<" + k + ">)"),
    st.lists(KEYS, min_size=1, max_size=3).map(lambda ks: "[cite:" + ";".join("@" + k for k in ks) + "]"),
)
drafts = st.one_of(
    pieces_text(CITE_PIECES),
    corrupted(st.lists(st.one_of(CITES, st.sampled_from(CITE_PIECES), st.text(max_size=5)), max_size=20)
              .map(" ".join), CITE_PIECES),
)


@FAST
@given(drafts, st.sampled_from(["latex", "markdown", "typst", "org"]), st.data())
def test_citation_scanners_spans_inside_and_keys_match(text, language, data):
    found = citations.find_citations(text, language)
    for c in found:
        assert 0 <= c.span.start <= c.span.end <= len(text)
        assert text[c.span.start:c.span.end] == c.key
    offset = data.draw(st.integers(-3, len(text) + 3))
    cite = citations.citation_at(text, offset, language)
    if cite is not None:
        assert cite.span.start <= offset <= cite.span.end
    cc = citations.completion_context(text, offset, language)
    if cc is not None:
        assert 0 <= cc.span.start <= offset <= cc.span.end <= len(text)
        assert cc.prefix == text[cc.span.start:offset]
    citations.bibliography_files(text, language)


# --- parsers -----------------------------------------------------------------------------------------

def n_lines(text: str) -> int:
    return text.count("\n") + 1


def parse_checked(parse, path: Path, text: str):
    """``parse(path, text)`` refused with a ParseError (None), or its result after check_result."""
    try:
        res = parse(path, text)
    except ParseError:
        return None
    check_result(res, text)
    return res


def check_result(res, text: str) -> None:
    lines = n_lines(text)
    for p in res.papers:
        assert 0 <= p.source_line < lines, (p.source_line, lines)
        for r in p.references:
            assert 0 <= r.line < lines
    ids = {p.id for p in res.papers}
    for s in res.passages:
        assert s.paper_id in ids
        assert 0 <= s.line_start <= s.line_end < lines, (s.line_start, s.line_end, lines)


BIB_PIECES = ["@article{", "@inproceedings{", "@string{", "@comment{", "@preamble{", "@", "{", "}",
              ",", "=", "\"", "#", "title", "author", " and ", "year", "2020", "abstract", "file",
              "\n", "  ", "\\'e", "{\\\"u}", "\\L", "key1", "key2", "jan", "nips", "%", "$x^2$",
              "\\", "\\url{http://x}", "doi = {10.1/x}", "date", "journaltitle"]


BIB_VALUES = st.one_of(
    st.text(max_size=12).map(lambda t: "{" + t.replace("{", "").replace("}", "") + "}"),
    st.sampled_from(["{Caf{\\'e} {\\L}{\\'o}d{\\'z}}", "\"Quoted {Title}\"", "2020", "nips",
                     "nips # { 2020}", "jan # \"~1\"", "{A} # {B}", "{/etc/passwd}", "{../out/x.pdf}",
                     "{Full Text:files/1/a.pdf:application/pdf}", "{10.1000/xyz}", "{2021-03-01}"]),
)
BIB_ENTRY = st.builds(
    lambda kind, key, fields: f"@{kind}{{{key},\n" + "".join(f"  {k} = {v},\n" for k, v in fields) + "}\n",
    st.sampled_from(["article", "inproceedings", "book", "misc", "online", "STRING"]),
    st.sampled_from(["k1", "k2", "k1", "key:2020", "ü", ""]),
    st.lists(st.tuples(st.sampled_from(["title", "author", "year", "date", "journal", "journaltitle",
                                        "booktitle", "abstract", "file", "doi", "eprint",
                                        "archiveprefix", "editor"]), BIB_VALUES), max_size=6))
bibs = st.one_of(
    pieces_text(BIB_PIECES, max_size=80),
    corrupted(st.lists(BIB_ENTRY | st.just("@string{nips = {Advances in NIPS}}\n"), max_size=5)
              .map("".join), BIB_PIECES),
)


@SLOW
@given(bibs)
@example("@string{a = b # c # {d}}\n@article{k, title = a # b, journal = a # {x}}")
@example("@article{k, title = {" + "{" * 300 + "}")
def test_bib_parser(text):
    parse_checked(parse_bib, Path("/lib/fuzz.bib"), text)


def csl_json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=10))
    return st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                        | st.dictionaries(st.sampled_from(["id", "title", "type", "author", "issued",
                                                           "DOI", "URL", "abstract", "items",
                                                           "family", "given", "literal", "date-parts",
                                                           "citation-key", "note", "container-title",
                                                           "number", "archive"]) | st.text(max_size=5),
                                          kids, max_size=5), max_leaves=20)


def csl_items():
    name = st.fixed_dictionaries({}, optional={"family": st.text(max_size=8), "given": st.text(max_size=8),
                                               "literal": st.text(max_size=8)})
    item = st.fixed_dictionaries(
        {"type": st.sampled_from(["article-journal", "paper-conference", "book", "webpage"])},
        optional={"id": st.one_of(st.text(max_size=8), st.integers()),
                  "title": st.one_of(st.text(max_size=20), st.just("<i>A</i> &amp; B")),
                  "author": st.lists(name | st.text(max_size=5), max_size=3),
                  "issued": st.one_of(st.fixed_dictionaries({"date-parts": st.lists(
                      st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3), max_size=2)}),
                      st.text(max_size=6)),
                  "abstract": st.text(max_size=30), "DOI": st.text(max_size=12),
                  "citation-key": st.text(max_size=8), "note": st.text(max_size=20)})
    return st.lists(item | csl_json_values(), max_size=6)


@SLOW
@given(st.one_of(
    pieces_text(["[", "]", "{", "}", ",", ":", "\"type\"", "\"title\"", "\"id\"", "\"article-journal\"",
                 "\"", "\\", "\n", "null", "1", "\"items\""], max_size=60),
    csl_json_values().map(json.dumps),
    st.tuples(csl_items(), st.sampled_from([None, 0, 1, 2]), st.booleans()).map(
        lambda t: json.dumps({"items": t[0]} if t[2] else t[0], indent=t[1], ensure_ascii=False)),
))
@example("[" * 5000 + "]" * 5000)
def test_csl_json_parser(text):
    res = parse_checked(parse_csl_json, Path("/lib/fuzz.json"), text)
    if res is None:
        return
    src = text.lstrip("\ufeff").split("\n")
    for p in res.papers:
        assert "{" in src[p.source_line]        # the line where the item's object starts


MD_PIECES = ["|", "| Title | Authors | Year |", "|---|---|---|", "| 标题 | 作者 | 年份 | 摘要 |",
             "| :-- | --: |", "\n", "# CVPR 2023\n", "[x](https://arxiv.org/abs/2101.00001)", "<br>",
             "\\|", "**", "`", "10.1000/xyz", "&amp;", "Alice and Bob", "2021", " ", "Paper", "Link"]


HEADERS = ["Title", "Authors", "Year", "Venue", "Link", "Abstract", "标题", "作者", "年份", "摘要",
           "中文摘要", "Paper", "Code", "DOI", "arXiv", "会议"]
CELLS = st.one_of(st.text(max_size=10).map(lambda t: t.replace("|", "\\|").replace("\n", " ")),
                  st.sampled_from(["[PDF](https://arxiv.org/abs/2101.00001)", "Alice<br>Bob", "**T**",
                                   "CVPR 2021", "2019", "10.48550/arXiv.2101.00001", "a \\| b", "",
                                   "<https://doi.org/10.1/x>", "`code`", "&amp;"]))


@st.composite
def md_tables(draw):
    headers = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=4, unique=True))
    if draw(st.integers(0, 4)):                       # mostly with a title column somewhere
        title = draw(st.sampled_from(["Title", "标题", "Paper", "论文名", "Title (中文)"]))
        headers = [h for h in headers if h != title]
        headers.insert(draw(st.integers(0, len(headers))), title)
    headers = headers or ["Title"]
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(headers) + 1), max_size=5))
    head = draw(st.sampled_from(["", "# CVPR 2023 papers\n\n", "## ICLR 2021\n"]))
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return head + "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\ntext after\n"]))


@SLOW
@given(st.one_of(pieces_text(MD_PIECES, max_size=60), corrupted(md_tables(), MD_PIECES)))
@example("| Title | Authors |\n|---|---|\n| A | B |\n| C |\n| | x |")
def test_markdown_table_parser(text):
    parse_checked(parse_md_table, Path("/lib/CVPR2023-papers.md"), text)


REF_ENTRY = st.sampled_from([
    "A. Smith and B. Jones. Probabilistic models of relevance. J. Retrieval, 1999.",
    "Smith, J., & Doe, A. (2020). Learned dense representations. In Proc. CVPR (pp. 1-9).",
    "C. Brown. Dense retrieval. arXiv:2004.04906, 2020.", "D. Green. Title. doi:10.1000/xyz.",
    "Vaswani A, Shazeer N. Attention is all you need. NeurIPS. 2017.", "Lowe DG. Distinctive features.",
    "E. White, “A quoted title here,” in Proc. ICCV, 2019, pp. 1–8.", "12", "",
])


@st.composite
def reference_lists(draw):
    style = draw(st.sampled_from(["[{n}] ", "{n}. ", "{n} ", ""]))
    entries = draw(st.lists(REF_ENTRY, max_size=8))
    numbers = draw(st.permutations(list(range(1, len(entries) + 1)))) if draw(st.booleans()) \
        else list(range(1, len(entries) + 1))
    body = "\n".join(style.format(n=n) + e for n, e in zip(numbers, entries))
    before = draw(st.sampled_from(["", "Intro cites [1], [2, 3] and [1-3].\n\n", "Text [4–2] [0] [2020].\n"]))
    after = draw(st.sampled_from(["", "\n\nAppendix A\nMore [1].\n", "\n12\n"]))
    return before + draw(st.sampled_from(["References\n", "REFERENCES\n", "## Bibliography\n",
                                           "References [1] "])) + body + after


TEXT_PIECES = ["Abstract", "Abstract: ", "1. Introduction", "References", "REFERENCES", "[1] ", "[2] ",
               "1. ", "Alice Martin, Bob Stone", "University of Testing", "\n", "\n\n", "---\n",
               "title: T\n", "key: k\n", "doi: 10.1/x", "arXiv:2101.00001", "# Title\n",
               "**Authors:** A", "Appendix", "Acknowledgments", "re-\ntrieval", "2020. ", "Smith, J. ",
               "In Proc. CVPR", "\x00", "\f"]


@SLOW
@given(st.one_of(pieces_text(TEXT_PIECES, max_size=80),
                 corrupted(st.lists(st.sampled_from(TEXT_PIECES) | reference_lists(), max_size=12)
                           .map("\n".join), TEXT_PIECES)))
@example("---\ntitle: x\n")
@example("References\n[1] A\n[3] B\n[2] C")
def test_text_paper_parser(text):
    res = parse_checked(parse_text_paper, Path("/lib/CVPR_2021_paper.txt"), text)
    if res is None:
        return
    assert len(res.papers) == 1


REF_PIECES = ["References\n", "Bibliography\n", "[1] ", "[2] ", "[12] ", "1. ", "2. ", "3 ", "\n",
              "Smith, J. (2020). A title. ", "A. Author and B. Author. Title of a paper. In CVPR, 2019.",
              "doi:10.1000/abc", "arXiv:1706.03762", "[1, 2]", "[3-7]", "[3–5]", "[0]", "[2020]",
              "[1](http://x)", "[1]: http://x", "\\[2]", "!", "Appendix A\n", "‚Äì", " ", "-\n", "a"]


@FAST
@given(st.one_of(pieces_text(REF_PIECES, max_size=60), corrupted(reference_lists(), REF_PIECES)),
       st.one_of(st.none(), st.integers(-2, 30)), st.data())
def test_reference_lists_and_numeric_citations(text, max_label, data):
    lines = n_lines(text)
    for e in parse_references(text):
        assert 0 <= e.span.start <= e.span.end <= len(text)
        assert 0 <= e.line < lines
        assert e.text and "\n" not in e.text
    bounds = data.draw(st.tuples(st.integers(-5, len(text) + 5), st.integers(-5, len(text) + 5)))
    for e in parse_references(text, bounds):
        assert 0 <= e.span.start <= e.span.end <= len(text)
    limit = 999 if max_label is None else max_label
    for c in find_numeric_citations(text, max_label):
        assert 0 <= c.span.start < c.span.end <= len(text)
        assert text[c.span.start] == "[" and text[c.span.end - 1] == "]"
        assert c.labels and all(1 <= int(label) <= limit for label in c.labels)
        assert len(set(c.labels)) == len(c.labels)
    offset = data.draw(st.integers(-3, len(text) + 3))
    hit = numeric_citation_at(text, offset, max_label)
    if hit is not None:
        assert hit.span.start <= offset <= hit.span.end


MOJIBAKE = ["‚Äì", "‚Äô", "‚àó", "Herv ¬¥e", "Decenci `ere", "MÃ¡rquez", "Ã©", "¨ı", "Emec ¸ Erc", "ﬁ",
            "\n", "\r\n", "\r", "a", " ", "é", "😀", "\x00"]


@FAST
@given(pieces_text(MOJIBAKE, max_size=50))
@example("‚Äì\n‚Äì\r\n\n")
def test_repair_text_keeps_every_line_break(text):
    out = repair_text(text)
    assert out.count("\n") == text.count("\n")
    assert out.count("\r") == text.count("\r")
    assert repair_text(out).count("\n") == text.count("\n")
    if not text.strip("abc \n"):
        assert out == text


@FAST
@given(st.binary(max_size=300) | pieces_text(MOJIBAKE + ["\ufeff"], max_size=40).map(
    lambda t: t.encode("utf-8", "surrogatepass")))
def test_decode_text_file_never_raises(data):
    text = decode_text_file(data)
    assert isinstance(text, str)
    cleaned = clean_text(text)
    assert "\r" not in cleaned and "\x00" not in cleaned


@SLOW
@given(st.sampled_from(["a.txt", "a.md", "a.bib", "a.json", "a.markdown"]),
       st.one_of(st.binary(max_size=400),
                 pieces_text(BIB_PIECES + TEXT_PIECES + MD_PIECES + ["[{\"id\":1,\"type\":\"book\","
                                                                    "\"title\":\"T\"}]"], max_size=50)
                 .map(lambda t: t.encode("utf-8", "surrogatepass")),
                 pieces_text(TEXT_PIECES, max_size=30).map(lambda t: b"\xff\xfe" + t.encode("utf-16-le",
                                                                                          "surrogatepass"))))
def test_parse_file_on_arbitrary_bytes(name, data):
    """Whatever the bytes, a text-like file is parsed or refused with a ParseError."""
    try:
        res = parse_file(Path("/lib") / name, data)
    except ParseError as exc:
        assert str(exc)
        return
    text = clean_text(decode_text_file(data))
    check_result(res, text)
