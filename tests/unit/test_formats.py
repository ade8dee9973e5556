"""Mojibake repair, byte decoding, CSL-JSON libraries and Markdown paper tables.

Fixtures are small and inline; the mojibake strings are copied from real extractions
(``shared/seeds``): UTF-8 read as Mac Roman, PDF spacing accents, UTF-8 read as Latin-1.
"""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from paperlens.core.parse import repair
from paperlens.core.parse.common import ParseError, paper_id
from paperlens.core.parse.csl import is_csl_json, parse_csl_json
from paperlens.core.parse.mdtable import (find_paper_tables, is_paper_table_file, parse_md_table,
                                          split_table_authors)
from paperlens.core.parse.repair import decode_text_file, looks_mojibake, repair_text

# --- repair_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("broken, fixed", [
    # UTF-8 read as Mac Roman
    ("1Imperial College London,2Queen‚Äôs University Belfast", "1Imperial College London,2Queen’s University Belfast"),
    ("as text [21, 26, 27, 35, 40, 61, 78, 79, 97‚Äì99], music", "as text [21, 26, 27, 35, 40, 61, 78, 79, 97–99], music"),
    ("The symbol‚àóindicates whether", "The symbol∗indicates whether"),   # ftfy alone leaves this
    ("Matteo Bastico1‚á§, Etienne", "Matteo Bastico1⇤, Etienne"),
    ("ùúìùúì", "𝜓𝜓"),
    ("‚Ä¢ We introduce the task", "• We introduce the task"),
    ("using task-speciÔ¨Åc probes", "using task-specific probes"),
    ("360¬∞ mechanical scanning", "360° mechanical scanning"),
    ("1:F|‚àöŒ±tpt‚àí1", "1:F|√αtpt−1"),
    # spacing accents from PDF extraction (after the Mac Roman repair: ¬¥ -> ´)
    ("Guillaume Bono, Herv ¬¥e Poirier, Leonid Antsfeld", "Guillaume Bono, Hervé Poirier, Leonid Antsfeld"),
    ("Laurent Cort ¬¥e1, Yannick Tillier3", "Laurent Corté1, Yannick Tillier3"),
    ("Matteo Bastico1‚á§, Etienne Decenci `ere2, Laurent Cort ¬¥e1",
     "Matteo Bastico1⇤, Etienne Decencière2, Laurent Corté1"),
    ("Mines Paris, Universit ¬¥e PSL", "Mines Paris, Université PSL"),
    ("Flora Badin, and Nad `ege Devos.", "Flora Badin, and Nadège Devos."),
    ("Bolot, Emilie Ch ¬¥etelat-Pelletier, J ¬¥er¬¥emie", "Bolot, Emilie Chételat-Pelletier, Jérémie"),
    ("H¬¥el`ene Pillet", "Hélène Pillet"),
    ("Elliott, Lo ¬®ƒ±c Barrau", "Elliott, Loïc Barrau"),
    ("Maragos, and Franc ¬∏ois Goude-", "Maragos, and François Goude-"),
    ("Maria Dreher, Emec ¬∏ Erc ¬∏elik, Timo B ¬®anzig", "Maria Dreher, Emeç Erçelik, Timo Bänzig"),
    ("Herv ´e J ´egou", "Hervé Jégou"),                 # already decoded accents
    ("at ´Ecole Polytechnique", "at École Polytechnique"),  # capital: a word start, space kept
    ("´e,", "é,"),
    # UTF-8 read as Latin-1 / cp1252
    ("Pablo MÃ¡rquez-Neila", "Pablo Márquez-Neila"),
    ("Christoph GroÃbrÃ¶hmer", "Christoph GroÃbröhmer"),  # the lost byte of ß cannot come back
    ("â€œquotedâ€\x9d and itâ€™s", "“quoted” and it’s"),
])
def test_repair_text_fixes_real_mojibake(broken, fixed):
    assert repair_text(broken) == fixed


@pytest.mark.parametrize("clean", [
    "run `yarn` and `npm test` first",           # code spans are not grave accents
    "use `a phrase` here",
    "x ^2, x^2, e^x and ~5 samples, of ~n tokens",
    "l’école d’être « Ça va » et le café’s",    # ’é is not mojibake
    "自监督学习（SSL）最近在3D医学图像分析中取得了可喜的成绩。",
    "Plain ASCII text with no problems at all.",
    "Ångström, Øresund, naïve, Müller — fine “quotes” stay curly",
    "&amp; &lt;b&gt; stays as written",
])
def test_repair_text_leaves_clean_text_alone(clean):
    assert repair_text(clean) == clean


def test_repair_keeps_every_line_break():
    text = ("Title line\r\n"
            "Guillaume Bono, Herv ¬¥e Poirier\r\n"
            "\n"
            "ùúìùúì\n"
            "tic‚Äù and ‚ÄúCategory-level‚Äù) share\n"
            "Morales-\u00c3\n"                   # a lone lead byte at the end of a line
            "\u00c3\u00a9\u2028x\n"               # U+2028 is not a "\n": left where it is
            "last line without newline ¬±")
    out = repair_text(text)
    assert out.count("\n") == text.count("\n")
    assert out.count("\r") == text.count("\r")
    lines = out.split("\n")
    assert lines[1] == "Guillaume Bono, Hervé Poirier\r"
    assert lines[3] == "𝜓𝜓"
    assert lines[4] == "tic” and “Category-level”) share"
    assert lines[7] == "last line without newline ±"


def test_clean_text_takes_the_fast_path(monkeypatch):
    clean = ("We propose a method for 3D medical image analysis (see Sec. 3.1).\n"
             "自监督学习在医学图像分析中取得了进展。Résumé: naïve café.\n") * 20
    assert not looks_mojibake(clean)
    assert looks_mojibake("Queen‚Äôs") and looks_mojibake("Herv ¬¥e") and looks_mojibake("Decenci `ere")

    def boom(line):
        raise AssertionError("ftfy must not run on clean text")

    monkeypatch.setattr(repair, "_ftfy_fix", boom)
    assert repair_text(clean) is clean


class _Spy:
    """Stands in for a compiled pattern of repair.py and records each call (method, start, end)."""

    def __init__(self, pattern, calls):
        self._p, self.calls = pattern, calls

    def search(self, string, pos=0, endpos=None):
        self.calls.append(("search", pos, len(string) if endpos is None else endpos))
        return self._p.search(string, pos, len(string) if endpos is None else endpos)

    def finditer(self, string, pos=0, endpos=None):
        self.calls.append(("finditer", pos, len(string) if endpos is None else endpos))
        return self._p.finditer(string, pos, len(string) if endpos is None else endpos)


PARA = ("Self-supervised learning (SSL) has recently achieved promising performance for 3D "
        "medical image analysis tasks. Most current methods follow existing SSL paradigms. "
        "自监督学习最近在3D医学图像分析任务中取得了可喜的成绩。 Hélène, Jürgen, Ørsted.\n")


def test_a_megabyte_of_clean_text_is_one_regex_pass(monkeypatch):
    """Clean text costs one search of the suspect pattern over the whole text and no work per
    line (timings: bench/parse_speed.py)."""
    text = PARA * (1_000_000 // len(PARA) + 1)
    calls, repaired = [], []
    monkeypatch.setattr(repair, "_SUSPECT", _Spy(repair._SUSPECT, calls))
    monkeypatch.setattr(repair, "_repair_line", lambda line: repaired.append(line) or line)
    assert repair_text(text) is text
    assert calls == [("search", 0, len(text))] and repaired == []


def test_only_the_suspect_lines_of_a_megabyte_are_repaired(monkeypatch):
    """Work beyond the one pass is per suspect line: 3 broken lines among 4,610 cost 3 repairs."""
    lines = (PARA * (1_000_000 // len(PARA) + 1)).split("\n")
    broken = {10: "Queen‚Äôs University", 4000: "Herv ¬¥e Poirier", len(lines) - 2: "360¬∞ scanning"}
    for at, line in broken.items():
        lines[at] = line
    text = "\n".join(lines)
    calls, repaired = [], []
    monkeypatch.setattr(repair, "_SUSPECT", _Spy(repair._SUSPECT, calls))
    real_repair_line = repair._repair_line
    monkeypatch.setattr(repair, "_repair_line", lambda line: repaired.append(line) or real_repair_line(line))
    out = repair_text(text)
    assert repaired == list(broken.values())
    assert calls == [("search", 0, len(text)), ("finditer", 0, len(text))]
    fixed = out.split("\n")
    assert [fixed[at] for at in broken] == ["Queen’s University", "Hervé Poirier", "360° scanning"]
    assert len(fixed) == len(lines) and fixed[:10] == lines[:10]


# --- decode_text_file ----------------------------------------------------------------------------

SAMPLE = "Hervé Jégou – Product Quantization\nline two ∗\n"


@pytest.mark.parametrize("encoding, bom", [
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""), ("utf-16-be", b""),
    ("utf-8", codecs.BOM_UTF8), ("utf-8", b""),
    ("utf-32-le", codecs.BOM_UTF32_LE),
])
def test_decode_text_file_unicode_encodings(encoding, bom):
    assert decode_text_file(bom + SAMPLE.encode(encoding)) == SAMPLE


def test_decode_text_file_latin1_and_cp1252():
    assert decode_text_file("Hervé Jégou, Müller\n".encode("latin-1")) == "Hervé Jégou, Müller\n"
    assert decode_text_file("Hervé – “quoted”\n".encode("cp1252")) == "Hervé – “quoted”\n"


def test_decode_text_file_one_bad_line_does_not_spoil_the_rest():
    data = "Jégou ∗\n".encode("utf-8") + "Müller\n".encode("latin-1") + "Ørsted\n".encode("utf-8")
    assert decode_text_file(data) == "Jégou ∗\nMüller\nØrsted\n"


def test_decode_text_file_repairs_and_keeps_stray_nuls_and_crlf():
    data = "Queen‚Äôs Univ\x00ersity\r\nHerv ¬¥e\r\n".encode("utf-8")
    out = decode_text_file(data)
    assert out.count("\n") == 2 and out.count("\r") == 2
    assert out.replace("\x00", "") == "Queen’s University\r\nHervé\r\n"
    assert repair.sniff_utf16(b"ab\x00cdefgh" * 50) is None       # a few NULs: still UTF-8


# --- CSL-JSON ------------------------------------------------------------------------------------

CSL = """[
  {
    "id": "mildenhall2020nerf",
    "type": "paper-conference",
    "title": "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis",
    "author": [{"family": "Mildenhall", "given": "Ben"}, {"family": "Srinivasan", "given": "Pratul P."}],
    "issued": {"date-parts": [[2020, 8, 23]]},
    "container-title": "Computer Vision – ECCV 2020",
    "publisher": "Springer",
    "DOI": "https://doi.org/10.1007/978-3-030-58452-8_24",
    "abstract": "We present a method that achieves state-of-the-art results\\nfor synthesizing novel views."
  },
  {
    "id": "wu2024freetumor",
    "type": "article",
    "title": "FreeTumor: Advance Tumor Segmentation via Large-Scale Tumor Synthesis",
    "author": [{"literal": "FreeTumor Consortium"}, {"family": "Wu", "given": "Linshan"}],
    "issued": {"raw": "2024-06"},
    "archive": "arXiv",
    "number": "arXiv:2406.01264",
    "URL": "https://arxiv.org/abs/2406.01264v2",
    "publisher": "arXiv"
  },
  {"id": "untitled2021", "type": "article-journal", "author": [{"family": "Doe", "given": "J."}]},
  {
    "id": "http://zotero.org/users/1/items/ABCD1234",
    "citation-key": "jegou2011pq",
    "type": "article-journal",
    "title": "Product Quantization for <i>Nearest Neighbor</i> Search",
    "author": [{"family": "Jégou", "given": "Hervé"},
               {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"}],
    "issued": {"literal": "January 2011"},
    "container-title": "IEEE TPAMI",
    "DOI": "10.1109/TPAMI.2010.57"
  },
  {"id": "mildenhall2020nerf", "type": "article", "title": "A duplicate {braces} [and] \\"quotes\\""},
  42
]
"""


def test_csl_json_items_become_papers(tmp_path):
    path = tmp_path / "library.json"
    result = parse_csl_json(path, CSL)
    assert [p.key for p in result.papers] == ["mildenhall2020nerf", "wu2024freetumor", "jegou2011pq"]
    nerf, tumor, pq = result.papers

    assert nerf.id == paper_id(str(path), "mildenhall2020nerf")
    assert nerf.title == "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis"
    assert nerf.authors == ["Mildenhall, Ben", "Srinivasan, Pratul P."]
    assert (nerf.year, nerf.venue, nerf.doi, nerf.arxiv) == (
        "2020", "Computer Vision – ECCV 2020", "10.1007/978-3-030-58452-8_24", "")
    assert nerf.abstract == "We present a method that achieves state-of-the-art results for synthesizing novel views."
    assert (nerf.entry_type, nerf.source, nerf.source_line, nerf.source_kind) == (
        "inproceedings", str(path), 1, "csl")

    assert tumor.authors == ["FreeTumor Consortium", "Wu, Linshan"]
    assert (tumor.year, tumor.arxiv, tumor.url, tumor.venue) == (
        "2024", "2406.01264", "https://arxiv.org/abs/2406.01264v2", "arXiv")
    assert tumor.source_line == 12 and tumor.abstract == ""

    assert pq.title == "Product Quantization for Nearest Neighbor Search"
    assert pq.authors == ["Jégou, Hervé", "van Beethoven, Ludwig"]
    assert pq.surnames() == ["Jégou", "van Beethoven"]
    assert (pq.year, pq.venue, pq.doi, pq.entry_type, pq.source_line) == (
        "2011", "IEEE TPAMI", "10.1109/TPAMI.2010.57", "article", 24)

    # the abstract passage spans the item's lines
    assert [(x.paper_id, x.section, x.line_start, x.line_end) for x in result.passages] == [
        (nerf.id, "abstract", 1, 11)]


def test_csl_json_bad_items_are_reported_and_skipped(tmp_path):
    result = parse_csl_json(tmp_path / "library.json", CSL)
    assert result.warnings == [
        "library.json:24: skipped item: 'untitled2021' has no title",
        "library.json:36: skipped item: duplicate id 'mildenhall2020nerf'; the first one (line 2) is kept",
        "library.json:36: skipped item: item 6 is int, not an object",
    ]


def test_csl_json_items_object_and_compact_layout(tmp_path):
    text = ('{"config": {"items": [{"type": "x"}]}, "items": [{"id": "a", "type": "book", '
            '"title": "A"},\n{"id": "b", "type": "book", "title": "B", "issued": {"date-parts": [["1999"]]}}]}')
    result = parse_csl_json(tmp_path / "lib.json", text)
    assert [(p.key, p.source_line, p.year) for p in result.papers] == [("a", 0, ""), ("b", 1, "1999")]
    assert is_csl_json(text)


def test_csl_json_invalid_json_names_the_line(tmp_path):
    text = '[\n  {"id": "a",\n   "title": "x"\n   "type": "book"}\n]\n'
    with pytest.raises(ParseError) as err:
        parse_csl_json(tmp_path / "lib.json", text)
    assert str(err.value).startswith("invalid JSON at line 4, column 4:")
    with pytest.raises(ParseError, match="not a CSL-JSON library"):
        parse_csl_json(tmp_path / "lib.json", '{"name": "x"}')


def test_is_csl_json():
    assert is_csl_json(CSL)
    assert is_csl_json('\ufeff[{"id": "x", "type": "book", "title": "T"}]')
    assert not is_csl_json('{"name": "paperlens", "version": "1.0.0", "type": "module", '
                           '"author": "me", "scripts": {"test": "pytest"}}')
    assert not is_csl_json('{"compilerOptions": {"target": "es2020"}, "include": ["src"]}')
    assert not is_csl_json('[{"id": 1, "type": "user", "title": "Admin"}]')
    assert not is_csl_json('title: "type" id')


# --- Markdown paper tables -----------------------------------------------------------------------

TABLE = """# ICCV 2023 医学图像论文

Some notes before the table.

| 年份 | 题目 | 作者 | 摘要 | 中文摘要 | 链接 |
| --- | --- | --- |--------| :--- | --- |
| 2023 | Skeletons \\| Gradients: A Test | Martin J. Menten, Johannes C. Paetzold and Veronika A. Zimmer | We show<br>a skeleton \\| algorithm. | 我们提出了一种骨架化算法。 | [link](https://arxiv.org/abs/2309.02527v2) |
|  | **CuNeRF**: Cube-Based NeRF | Zixuan Chen; Lingxiao Yang | Abstract two. |  | <https://doi.org/10.1109/ICCV51070.2023.01234> |
| 2023 |   | Nobody | no title | | |
| 2022 | Probabilistic Modeling | Pablo MÃ¡rquez, Laurent Cort ¬¥e | Third &amp; last. | 第三。 | https://openaccess.thecvf.com/x.pdf |

After the table.
"""


def test_markdown_table_rows_become_papers(tmp_path):
    path = tmp_path / "reading-list.md"
    result = parse_md_table(path, TABLE)
    assert [p.source_line for p in result.papers] == [6, 7, 9]
    first, second, third = result.papers

    assert first.id == paper_id(str(path), "row6")
    assert first.key == ""
    assert first.title == "Skeletons | Gradients: A Test"
    assert first.authors == ["Martin J. Menten", "Johannes C. Paetzold", "Veronika A. Zimmer"]
    assert (first.year, first.venue, first.arxiv, first.doi) == ("2023", "ICCV", "2309.02527", "")
    assert first.url == "https://arxiv.org/abs/2309.02527v2"
    assert first.abstract == "We show a skeleton | algorithm."
    assert (first.source, first.source_kind) == (str(path), "table")

    assert second.title == "CuNeRF: Cube-Based NeRF"
    assert second.authors == ["Zixuan Chen", "Lingxiao Yang"]
    assert second.year == "2023"                       # from the "ICCV 2023" heading
    assert second.doi == "10.1109/ICCV51070.2023.01234"
    assert second.url == "https://doi.org/10.1109/ICCV51070.2023.01234"

    assert third.authors == ["Pablo Márquez", "Laurent Corté"]     # mojibake repaired
    assert (third.year, third.abstract, third.url) == ("2022", "Third & last.", "https://openaccess.thecvf.com/x.pdf")

    assert [(x.paper_id, x.section, x.line_start, x.line_end, x.text) for x in result.passages] == [
        (first.id, "abstract", 6, 6, "We show a skeleton | algorithm."),
        (first.id, "abstract-zh", 6, 6, "我们提出了一种骨架化算法。"),
        (second.id, "abstract", 7, 7, "Abstract two."),
        (third.id, "abstract", 9, 9, "Third & last."),
        (third.id, "abstract-zh", 9, 9, "第三。"),
    ]
    assert result.warnings == ["reading-list.md:9: skipped row: empty title"]


def test_markdown_table_in_english_with_venue_column(tmp_path):
    text = ("| Year | Title | Authors | Venue | Abstract | Link |\n"
            "|------|-------|---------|-------|----------|------|\n"
            "| 2021 | One | A. Author & B. Author | NeurIPS 2021 | First abstract. | [pdf](https://arxiv.org/pdf/2101.00001v3.pdf) |\n"
            "| 2020 | Two | Doe, Jane; Roe, Richard | ICML | Second. | https://doi.org/10.5555/12345 |\n")
    result = parse_md_table(Path("/lib/cvpr2024_list.md"), text)
    one, two = result.papers
    assert (one.venue, one.year, one.arxiv, one.authors) == ("NeurIPS 2021", "2021", "2101.00001",
                                                             ["A. Author", "B. Author"])
    assert (two.venue, two.doi, two.authors) == ("ICML", "10.5555/12345", ["Jane Doe", "Richard Roe"])
    assert [x.section for x in result.passages] == ["abstract", "abstract"]
    assert result.warnings == []


def test_unescaped_pipe_in_an_abstract_does_not_shift_the_link(tmp_path):
    text = ("| Title | Abstract | Link |\n| --- | --- | --- |\n"
            "| T1 | maximise p(x|y) here | https://arxiv.org/abs/2001.00001 |\n"
            "| T2 | fine | https://arxiv.org/abs/2001.00002 |\n")
    result = parse_md_table(tmp_path / "t.md", text)
    assert [(p.abstract, p.arxiv) for p in result.papers] == [
        ("maximise p(x | y) here", "2001.00001"), ("fine", "2001.00002")]
    assert result.warnings == ["t.md:3: row has 4 cells for 3 columns (unescaped '|'?)"]


def test_paper_table_detection():
    assert is_paper_table_file(TABLE)
    tables = find_paper_tables(TABLE)
    assert len(tables) == 1 and tables[0].header_line == 4
    assert tables[0].columns == {"year": 0, "title": 1, "authors": 2, "abstract": 3,
                                 "abstract_zh": 4, "link": 5}
    results = "| Method | mAP | FPS |\n|---|---|---|\n| Ours | 50.1 | 30 |\n| Base | 45.0 | 31 |\n"
    assert not is_paper_table_file(results)                        # no title column
    one_row = "| Title | Authors |\n|---|---|\n| Only | Me |\n"
    assert not is_paper_table_file(one_row)                        # a single row
    assert len(find_paper_tables(one_row)) == 1
    assert not is_paper_table_file("Title\n---\n\nA setext heading, not a table.\n")
    assert not is_paper_table_file("# Notes\n\nNo tables | here.\n")
    two_rows = "| Title | Authors |\n|---|---|\n| A | B |\n| C | D |\n"
    assert is_paper_table_file(two_rows)
    assert not is_paper_table_file("```markdown\n" + two_rows + "```\n")   # an example in a code block


def test_split_table_authors():
    assert split_table_authors("A. One, B. Two, and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert split_table_authors("张三、李四，王五") == ["张三", "李四", "王五"]
    assert split_table_authors("Yankai Jiang\nMingze Sun et al.") == ["Yankai Jiang", "Mingze Sun"]
    assert split_table_authors("Smith, John; van Dam, Anna") == ["John Smith", "Anna van Dam"]
