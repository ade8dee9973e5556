"""Metadata from a PDF's layout (title, authors, year), running headers and TeX math symbols.

Each PDF here reproduces a kind of first page that real papers have and that a text-only reading
got wrong (issue 12): a running header with a date glued to the title, journal banners, reprint
and editor lines, author lines under the title, a title over several lines, repository cover
pages, page numbers inside hyphenated words, math symbols of TeX fonts without a Unicode map.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.pdfs import body_lines, make_layout_pdf, make_tex_math_pdf  # noqa: E402

from paperlens.core.keys import base_key  # noqa: E402
from paperlens.core.models import Paper  # noqa: E402
from paperlens.core.parse.layout import Line, garbled, read_header, running_lines  # noqa: E402
from paperlens.core.parse.pdf import extract_pages, parse_pdf  # noqa: E402

BODY = ("Designing a computer system is very different from designing an algorithm. The external "
        "interface is less precisely defined, more complex, and more subject to change. The system "
        "has much more internal structure, and hence many internal interfaces. The measure of "
        "success is much less clear. The designer usually finds himself floundering in a sea of "
        "possibilities, unclear about how one choice will limit his freedom to make other choices. ")


def paper(path: Path):
    return parse_pdf(path).papers[0]


def test_running_header_with_a_date_is_not_part_of_the_title(tmp_path):
    header = ("Hints for Computer System Design", 8, 10)
    pages = []
    for n in range(1, 5):
        items = [header, (f"July 1983 {n}", 8, 10, 170)]
        if n == 1:
            items += [("Hints for Computer System Design", 18, 30, "C", "B"),
                      ("Butler W. Lampson", 12, 42, "C"),
                      ("Computer Science Laboratory, Xerox Palo Alto Research Center", 10, 49, "C")]
            items += body_lines(BODY * 3, 62)
        else:
            items += body_lines(BODY * 4, 25)
        pages.append(items)
    f = tmp_path / "hints.pdf"
    make_layout_pdf(f, pages)
    p = paper(f)
    assert p.title == "Hints for Computer System Design"
    assert p.authors == ["Butler W. Lampson"]
    assert p.year == "1983"
    text = "\n".join(extract_pages(f))
    assert "July 1983" not in text                     # the running header left the passages
    assert "Hints for Computer System Design" in text   # the title itself is kept


def test_journal_banner_reprint_and_editor_lines_are_not_the_title(tmp_path):
    f = tmp_path / "shannon.pdf"
    make_layout_pdf(f, [[
        ("Reprinted with corrections from The Bell System Technical Journal,", 9, 12, "C"),
        ("Vol. 27, pp. 379-423, 623-656, July, October, 1948.", 9, 17, "C"),
        ("A Mathematical Theory of Communication", 17, 32, "C", "B"),
        ("By C. E. SHANNON", 11, 45, "C"),
        ("INTRODUCTION", 11, 60, "C"),
        *body_lines(BODY * 4, 70)]])
    p = paper(f)
    assert p.title == "A Mathematical Theory of Communication"
    assert p.authors == ["C. E. Shannon"]
    assert p.year == "1948"
    assert base_key(p) == "shannon1948mathematical"


def test_banner_and_editor_line(tmp_path):
    f = tmp_path / "jss.pdf"
    make_layout_pdf(f, [[
        ("JSS Journal of Statistical Software", 20, 14, 20, "B"),
        ("August 2014, Volume 59, Issue 10.", 9, 24),
        ("Tidy Data", 17, 40, "C", "B"),
        ("Hadley Wickham", 11, 52, "C"),
        ("RStudio", 10, 58, "C"),
        ("Editor: Jan de Leeuw", 9, 66, "C"),
        ("Abstract", 11, 76, "C", "B"),
        *body_lines(BODY * 3, 84)]])
    p = paper(f)
    assert p.title == "Tidy Data"
    assert p.authors == ["Hadley Wickham"]
    assert p.year == "2014"


def test_a_title_over_several_lines_is_read_whole(tmp_path):
    f = tmp_path / "manual.pdf"
    make_layout_pdf(f, [[
        ("The Little Manual of", 20, 40, "C", "B"),
        ("API Design", 20, 50, "C", "B"),
        ("Jasmin Blanchette", 12, 66, "C"),
        ("Trolltech, a Nokia company", 10, 73, "C"),
        ("June 19, 2008", 10, 80, "C"),
        *body_lines(BODY * 3, 95)]])
    p = paper(f)
    assert p.title == "The Little Manual of API Design"
    assert p.authors == ["Jasmin Blanchette"]
    assert p.year == "2008"


def test_author_line_right_under_the_title_in_the_same_font(tmp_path):
    f = tmp_path / "same.pdf"
    make_layout_pdf(f, [[
        ("Readable Title", 11, 20),
        ("Alice Martin, Bruno Keller", 11, 25),
        ("Abstract", 11, 35),
        *body_lines(BODY * 2, 42, size=11)]])
    p = paper(f)
    assert p.title == "Readable Title"
    assert p.authors == ["Alice Martin", "Bruno Keller"]


def test_first_section_text_is_not_a_title(tmp_path):
    f = tmp_path / "old.pdf"
    make_layout_pdf(f, [[
        ("The UNIX Time-Sharing System", 16, 25, "C", "B"),
        ("DENNIS M. RITCHIE AND KEN THOMPSON", 10, 36, "C"),
        ("Bell Laboratories", 10, 42, "C"),
        ("1. INTRODUCTION", 10, 55, 20, "B"),
        ("AN IMPORTANT class of systems is described here in some detail for the reader.", 10, 62),
        *body_lines(BODY * 2, 68)]])
    p = paper(f)
    assert p.title == "The UNIX Time-Sharing System"
    assert p.authors == ["Dennis M. Ritchie", "Ken Thompson"]
    assert base_key(p).startswith("ritchie")


def test_repository_cover_page_is_skipped(tmp_path):
    cover = [("See discussions, stats, and author profiles for this publication at: "
              "https://www.researchgate.net/publication/1", 8, 15),
             ("Predicting traffic of online advertising", 20, 30),
             ("Conference Paper - December 2016", 9, 45),
             ("4 authors, including:", 9, 60),
             ("Yi-Cheng Chen", 9, 70),
             ("Some of the authors of this publication are also working on these related projects:", 8, 200)]
    page = [("Predicting traffic of online advertising", 18, 25, "C", "B"),
            ("Yi-Cheng Chen, Tien-Tsai Huang", 11, 37, "C"),
            ("Tamkang University", 10, 43, "C"),
            ("Abstract", 11, 55, 20, "B"),
            *body_lines(BODY * 3, 62)]
    f = tmp_path / "rg.pdf"
    make_layout_pdf(f, [cover, page])
    p = paper(f)
    assert p.title == "Predicting traffic of online advertising"
    assert p.authors[0] == "Yi-Cheng Chen"
    assert p.year == "2016"


def test_arxiv_stamp_gives_the_year_and_is_not_the_title(tmp_path):
    f = tmp_path / "arxiv.pdf"
    make_layout_pdf(f, [[
        ("Efficient Estimation of Word Representations in", 17, 30, "C", "B"),
        ("Vector Space", 17, 38, "C", "B"),
        ("Tomas Mikolov", 11, 52, 40), ("Kai Chen", 11, 52, 120),
        ("Google Inc., Mountain View, CA", 10, 58, 40), ("Google Inc., Mountain View, CA", 10, 58, 120),
        ("Abstract", 12, 75, "C", "B"),
        *body_lines(BODY * 3, 85)]],
        rotated=[(0, "arXiv:1301.3781v3 [cs.CL] 7 Sep 2013", 20, 12, 200)])
    p = paper(f)
    assert p.title == "Efficient Estimation of Word Representations in Vector Space"
    assert p.authors == ["Tomas Mikolov", "Kai Chen"]
    assert p.year == "2013"


def test_info_title_is_used_only_when_plausible(tmp_path):
    page = [("Some Words At The Top", 11, 20), *body_lines(BODY * 3, 30, size=11)]
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    make_layout_pdf(good, [page], info_title="Consistent Hashing and Random Trees")
    make_layout_pdf(bad, [page], info_title="Microsoft Word - final_v3.doc")
    assert paper(good).title == "Consistent Hashing and Random Trees"
    assert paper(bad).title != "Microsoft Word - final_v3.doc"


def test_page_numbers_do_not_break_hyphenated_words(tmp_path):
    first = [("A Study of Randomness", 18, 25, "C", "B"), ("Ada Lovelace", 11, 36, "C"),
             *body_lines(BODY * 2, 50, bottom=240),
             ("the sequence shows no trace of random-", 10, 250), ("14", 9, 285, "C")]
    second = [("ness at all, as every test of the generator agrees.", 10, 20),
              *body_lines(BODY * 2, 26, bottom=240), ("15", 9, 285, "C")]
    third = [*body_lines(BODY * 2, 20, bottom=240), ("16", 9, 285, "C")]
    f = tmp_path / "rand.pdf"
    make_layout_pdf(f, [first, second, third])
    pages = extract_pages(f)
    assert pages[0].endswith("random-") and pages[1].startswith("ness at all")
    text = " ".join(s.text for s in parse_pdf(f).passages)
    assert "randomness at all" in text
    assert "random14" not in text and " 15 " not in text


def test_tex_math_symbols_without_unicode_map_are_kept(tmp_path):
    f = tmp_path / "math.pdf"
    make_tex_math_pdf(f, [("text", b"If H "), ("math", b"\x14"), ("text", b" C then H(y) "),
                          ("math", b"\x00"), ("text", b" H(n) and a "), ("math", b"\x02"),
                          ("text", b" b.")])
    assert extract_pages(f) == ["If H \u2264 C then H(y) \u2212 H(n) and a \u00d7 b."]


# -- pure functions over lines ---------------------------------------------------------------------

def _line(text, size=10.0, top=100.0, x0=50.0, order=0, height=800.0):
    return Line(text=text, size=size, x0=x0, x1=x0 + 5 * len(text), top=top, bottom=top + size,
                order=order, page_height=height, page_width=600.0)


def test_running_lines_need_repetition_at_the_same_place():
    pages = []
    for n in range(5):
        pages.append([_line(f"Journal of Things {n + 30}", 8, 20, order=0),
                      _line(["Alpha body text", "Beta words here", "Gamma runs on", "Delta goes",
                             "Epsilon ends"][n], 10, 100, order=1),
                      _line("End for", 10, 300 + 40 * n, order=2),
                      _line(str(n + 1), 9, 770, order=3)])
    drop = running_lines(pages)
    assert all(d == {0, 3} for d in drop)


def test_two_pages_have_no_running_headers():
    pages = [[_line("Same Line", 8, 20, order=0)], [_line("Same Line", 8, 20, order=0)]]
    assert running_lines(pages) == [set(), set()]


@pytest.mark.parametrize("text", ['"!#%$&\'$)(*$+,\'+#-', "h'ijlkCmCnpoq/rEs#tuo#vCs#owx>o#kzy{qpnpjlo#vEn",
                                  "02143/57698;:<3>=?5 @BAC=&DE=?FHGJILKNMDE3/O>=&6/F/M"])
def test_garbled_text_is_recognised(text):
    assert garbled(text)


@pytest.mark.parametrize("text", ["Paxos Made Simple", "ACIDRain: Concurrency-Related Attacks",
                                  "SuRF: Practical Range Query Filtering", "fastFM: A Library",
                                  "大数据下的广告排序技术及实践", "The ϕ Accrual Failure Detector"])
def test_real_titles_are_not_garbled(text):
    assert not garbled(text)


def test_names_side_by_side_are_read_left_to_right():
    lines = [_line("Coordination Avoidance in Database Systems", 17, 60, order=0),
             _line("Markus Weimer", 12, 100.4, x0=300, order=2),
             _line("Martin A. Zinkevich", 12, 100, x0=100, order=1),
             _line("Yahoo! Labs", 11, 114, x0=100, order=3), _line("Yahoo! Labs", 11, 114, x0=300, order=4),
             _line("Sunnyvale, CA 94089", 11, 126, x0=100, order=5),
             _line("Abstract", 12, 160, order=6)]
    h = read_header([lines], ["x"])
    assert h.title == "Coordination Avoidance in Database Systems"
    assert h.authors == ["Martin A. Zinkevich", "Markus Weimer"]


def test_generated_key_is_never_a_common_word():
    for p in (Paper(id="1", key="", title="Introduction"), Paper(id="2", key="", title="Paper"),
              Paper(id="3", key="", title="1974365"), Paper(id="4", key="", title="")):
        key = base_key(p)
        assert key[:1].isalpha() and key not in {"introduction", "paper", "for", "the"}, key


def test_slide_title_in_a_large_font_that_most_of_the_page_has():
    # a keynote's first slide: the title's 42pt font is also the page's most common size
    def centred(text, size, top, x0, x1, order):
        return Line(text=text, size=size, x0=x0, x1=x1, top=top, bottom=top + size, order=order,
                    page_height=768.0, page_width=1024.0)

    lines = [centred("Designs, Lessons and Advice from Building Large", 42.5, 296.6, 94, 930, 0),
             centred("Distributed Systems", 42.5, 335.6, 343, 681, 1),
             centred("Jeff Dean", 38.0, 459.0, 440, 586, 2),
             centred("Google Fellow", 38.0, 499.0, 404, 622, 3)]
    h = read_header([lines], ["x"], "Slide 1")
    assert h.title == "Designs, Lessons and Advice from Building Large Distributed Systems"
    assert h.authors == ["Jeff Dean"]
