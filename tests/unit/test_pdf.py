"""PDF papers: page text normalisation, parsing with pages, and the files we refuse."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from fixtures.pdfs import (ABSTRACT, AUTHORS, REFERENCES, TITLE, make_broken_pdf,  # noqa: E402
                           make_encrypted_pdf, make_image_only_pdf, make_lines_pdf,
                           make_paper_pdf)

from paperlens.core.parse.common import ParseError  # noqa: E402
from paperlens.core.parse.pdf import extract_pages, normalise_page_text, parse_pdf  # noqa: E402


# --- normalisation ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("dense re\x02\ntrieval", "dense retrieval"),
    ("dense re\x02\r\ntrieval", "dense retrieval"),
    ("dense re\x02  \r\n  trieval", "dense retrieval"),
    ("dense re\ufffe\r\ntrieval", "dense retrieval"),
    ("dense re\ufffetrieval works", "dense retrieval works"),      # what pdfium emits today
    ("dense re\x02trieval works", "dense retrieval works"),
    ("in\u00adfor\u00admation", "information"),
    ("last word of the page is re\ufffe", "last word of the page is re-"),
    ("lessons learned from Delta\ufffe4", "lessons learned from Delta-4"),     # a hyphen before a digit is real
    ("lessons learned from Delta\ufffe\r\n4", "lessons learned from Delta-\n4"),
    ("last word of the page is re\x02\r\n", "last word of the page is re-"),
])
def test_soft_hyphens_rejoin_words(raw, expected):
    assert normalise_page_text(raw) == expected


def test_ligatures_are_expanded():
    raw = "\ufb00ort \ufb01nd \ufb02ow e\ufb03cient ba\ufb04e \ufb05op \ufb06ep"
    assert normalise_page_text(raw) == "ffort find flow efficient baffle stop step"


def test_line_ends_controls_and_trailing_space():
    raw = "Title  \r\nfirst\x00 line\t\r\x01second\x07 line \x0c\r\n\r\n  \r\n"
    assert normalise_page_text(raw) == "Title\nfirst line\nsecond line"
    assert normalise_page_text("a\tb\n\nc") == "a\tb\n\nc"          # tabs and inner blank lines stay
    assert normalise_page_text("") == ""


def test_extract_pages_rejoins_hyphenated_words(tmp_path):
    f = tmp_path / "lines.pdf"
    make_lines_pdf(f, [["We study dense re-", "trieval for efficient search."],
                       ["Second page text."]])
    pages = extract_pages(f)
    assert len(pages) == 2
    assert "dense retrieval for efficient search." in pages[0]
    assert not any(c in pages[0] for c in "\x02\ufffe\r")
    assert pages[1] == "Second page text."


def test_hyphen_at_page_end_is_rejoined_in_passages(tmp_path):
    f = tmp_path / "pages.pdf"
    body = "Readers search their own libraries with questions and the method finds"
    make_lines_pdf(f, [["A Study of Page Breaks", "Alice Martin, Bruno Keller", "Abstract",
                        "We look at words split over two pages.", "1. Introduction",
                        body + " dense re-"],
                       ["trieval results quickly."]])
    result = parse_pdf(f)
    intro = next(p for p in result.passages if p.section == "1. Introduction")
    assert "dense retrieval results quickly." in intro.text
    assert intro.page == 1


# --- papers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("hyphenate", [False, True])
def test_paper_pdf(tmp_path, columns, hyphenate):
    f = tmp_path / f"paper_{columns}col.pdf"
    placed = make_paper_pdf(f, TITLE, AUTHORS, ABSTRACT, sections=None, references=REFERENCES,
                            columns=columns, hyphenate=hyphenate)
    n_pages = len(extract_pages(f))
    assert n_pages >= 3

    result = parse_pdf(f)
    (paper,) = result.papers
    assert paper.title == TITLE
    assert paper.authors == AUTHORS
    assert paper.abstract == ABSTRACT
    assert paper.source_kind == "pdf"
    assert paper.file == str(f) and paper.source == str(f)
    assert result.passages[0].section == "abstract"

    pages = [p.page for p in result.passages]
    assert all(isinstance(p, int) and 1 <= p <= n_pages for p in pages)
    assert pages == sorted(pages)
    assert set(placed.values()) >= {1, 2, 3}
    for sentence, page in placed.items():
        holders = [p for p in result.passages if sentence in p.text]
        assert holders, sentence
        assert holders[0].page == page, sentence

    assert not any(c in p.text for p in result.passages for c in "\x02\ufffe\ufb01")
    assert not any(ref[:30] in p.text for p in result.passages for ref in REFERENCES)
    assert not any(p.text.startswith("[1]") or "[2] C. Brown" in p.text for p in result.passages)


def test_paper_sections_and_lines(tmp_path):
    f = tmp_path / "paper.pdf"
    make_paper_pdf(f, columns=2)
    result = parse_pdf(f)
    sections = {p.section for p in result.passages}
    assert {"abstract", "1. Introduction", "6. Conclusion"} <= sections
    assert "References" not in sections and "references" not in sections
    for p in result.passages:
        assert 0 <= p.line_start <= p.line_end and p.path == str(f)


# --- files we refuse ----------------------------------------------------------------------------

def _reason(path: Path) -> str:
    with pytest.raises(ParseError) as info:
        parse_pdf(path)
    return str(info.value)


def test_encrypted_pdf(tmp_path):
    f = tmp_path / "locked.pdf"
    make_encrypted_pdf(f)
    assert _reason(f) == "encrypted PDF (password required)"


def test_owner_password_only_is_readable(tmp_path):
    from fpdf import FPDF

    f = tmp_path / "owner.pdf"
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-only")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Readable Title\nAlice Martin, Bruno Keller\nAbstract\n"
                   "Opening needs no password because only an owner password is set.")
    pdf.output(str(f))
    assert parse_pdf(f).papers[0].title == "Readable Title"


def test_truncated_pdf(tmp_path):
    f = tmp_path / "truncated.pdf"
    make_broken_pdf(f, "truncated")
    assert _reason(f).startswith("broken PDF: ")


def test_garbage_with_pdf_header(tmp_path):
    f = tmp_path / "garbage.pdf"
    make_broken_pdf(f, "garbage")
    assert _reason(f).startswith("broken PDF: ")


def test_zero_byte_pdf(tmp_path):
    f = tmp_path / "empty.pdf"
    f.write_bytes(b"")
    assert _reason(f) == "broken PDF: empty file"


def test_not_a_pdf(tmp_path):
    f = tmp_path / "fake.pdf"
    f.write_text("just some text named like a PDF\n" * 20)
    assert _reason(f).startswith("broken PDF: ")


def test_missing_file(tmp_path):
    assert _reason(tmp_path / "nowhere.pdf").startswith("cannot read")


def test_image_only_pdf(tmp_path):
    f = tmp_path / "scan.pdf"
    make_image_only_pdf(f)
    assert extract_pages(f) == ["", ""]
    assert _reason(f) == "no text layer (image-only or scanned PDF)"


def test_extract_pages_raises_parse_error(tmp_path):
    f = tmp_path / "locked.pdf"
    make_encrypted_pdf(f)
    with pytest.raises(ParseError, match="password required"):
        extract_pages(f)


def test_import_is_cheap():
    import subprocess

    code = ("import sys; import paperlens.core.parse.pdf; "
            "print('pypdfium2' in sys.modules, 'fpdf' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
