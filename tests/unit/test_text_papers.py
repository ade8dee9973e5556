
from paperlens.core.keys import base_key, unique_key
from paperlens.core.models import Paper
from paperlens.core.parse import parse_file
from paperlens.core.parse.text import split_authors

SEED_LIKE = """From Feature to Gaze: A Generalizable Replacement
of Linear Layer for Gaze Estimation
Yiwei Bao Feng Lu*
State Key Laboratory of VR Technology and Systems, School of CSE, Beihang University
{baoyiwei, lufeng }@buaa.edu.cn
Abstract
Deep-learning-based gaze estimation approaches often
suffer from notable performance degradation in unseen tar-
get domains. We propose a framework.1
1Project page: https://example.org/1. Introduction
Eye gaze reveals where human attention lands [3, 15].
2. Method
We project features analytically.
References
[1] A. Author. Some paper. 2020.
"""


def test_seed_style_extraction(tmp_path):
    f = tmp_path / "Bao_From_Feature_to_Gaze_CVPR_2024_paper.txt"
    f.write_text(SEED_LIKE.replace("\n", "\r\n") + "\x00", encoding="utf-8")
    result = parse_file(f)
    (paper,) = result.papers
    assert paper.title == "From Feature to Gaze: A Generalizable Replacement of Linear Layer for Gaze Estimation"
    assert paper.authors == ["Yiwei Bao", "Feng Lu"]
    assert paper.year == "2024" and paper.venue == "CVPR"       # from the file name
    assert paper.abstract.startswith("Deep-learning-based gaze estimation")
    assert "target domains" in paper.abstract                    # re-joined hyphenation
    assert "Eye gaze" not in paper.abstract                      # glued "1. Introduction" ends it
    sections = [p.section for p in result.passages]
    assert sections[0] == "abstract"
    assert not any("Some paper" in p.text for p in result.passages)  # references are not body text
    intro = next(p for p in result.passages if "Eye gaze" in p.text)
    assert intro.line_start == 10                                # 0-based line of "Eye gaze ..."


def test_markdown_paper_fields(tmp_path):
    f = tmp_path / "p.md"
    f.write_text("# Conditional Diffusion for Tiles\n\n**Authors:** Sofia Marchetti, Daniel Osei\n"
                 "**Year:** 2025\n**Venue:** MICCAI Workshop\n\n## Abstract\n\nWe synthesise tiles.\n\n"
                 "## 1 Introduction\n\nPathology is hard [1].\n\n## References\n\n1. Ho et al. 2020.\n",
                 encoding="utf-8")
    (paper,) = parse_file(f).papers
    assert paper.title == "Conditional Diffusion for Tiles"
    assert paper.authors == ["Sofia Marchetti", "Daniel Osei"]
    assert (paper.year, paper.venue, paper.abstract) == ("2025", "MICCAI Workshop", "We synthesise tiles.")


def test_markdown_draft_is_not_a_paper(tmp_path):
    f = tmp_path / "draft.md"
    f.write_text("---\ntitle: Notes\nbibliography: refs.bib\n---\nAs shown [@doe2020].\n", encoding="utf-8")
    result = parse_file(f)
    assert result.draft and result.papers == []


def test_split_authors_variants():
    assert split_authors("Oded Bialer*and Yuval Haitman*") == ["Oded Bialer", "Yuval Haitman"]
    assert split_authors("Mohamed El Banani1Amit Raj2Kevis-Kokitsi Maninis2") == \
        ["Mohamed El Banani", "Amit Raj", "Kevis-Kokitsi Maninis"]
    assert split_authors("Kyle Buettner1, Sina Malakouti2, Xiang Lorraine Li1,2") == \
        ["Kyle Buettner", "Sina Malakouti", "Xiang Lorraine Li"]


def test_generated_keys_are_better_bibtex_style_and_unique():
    p = Paper(id="x", key="", title="Attention Is All You Need", authors=["Vaswani, Ashish"], year="2017")
    assert base_key(p) == "vaswani2017attention"
    q = Paper(id="y", key="", title="The Élan of Über-Models", authors=["José Núñez"], year="2020")
    assert base_key(q) == "nunez2020elan"
    assert unique_key("vaswani2017attention", {"vaswani2017attention"}) == "vaswani2017attentiona"
    taken = {"k"} | {f"k{c}" for c in "abcdefghijklmnopqrstuvwxyz"}
    assert unique_key("k", taken) == "kaa"


def test_arxiv_abstract_page(tmp_path):
    f = tmp_path / "arxiv-page.txt"
    f.write_text("Computer Science > Computer Vision\n[Submitted on 3 Mar 2025]\n"
                 "Title:Tumour Synthesis at Scale\nView PDF HTML (experimental)Abstract:" + "We synthesise tumours. " * 20
                 + "\nCurrent browse context:\ncs.CV\nReferences & Citations\n", encoding="utf-8")
    result = parse_file(f)
    (paper,) = result.papers
    assert paper.title == "Tumour Synthesis at Scale" and paper.year == "2025"
    assert paper.abstract.startswith("We synthesise tumours.") and "browse" not in paper.abstract
    assert result.passages[0].section == "abstract" and result.passages[0].line_start == 3


def test_heading_names_as_the_patterns_say():
    """_heading_name tries each pattern only where it can match (by the line's last and first
    characters): it names the same headings as trying both patterns on every line."""
    import random

    from paperlens.core.parse import text as T

    def by_patterns(line):
        s = T._MARKDOWN_MARKS.sub("", line).strip()
        m = T.HEADING.match(s)
        if m:
            return m.group(1).lower()
        if T.NUMBERED_HEADING.match(s) and len(s.split()) <= 10:
            return "section"
        return None

    named = {"Methodſ": "methodſ", "RELATED WOR\u212a": "related work", "Results:": "results",
             "## 3. Method": "method", "*References*": "references", "II. Background.": "background",
             "1 Introduction  ": "introduction", "4.2 Ablation Study": "section", "Abstract": "abstract",
             "\u0661 Results of the Study": "section", "Results are shown": None, "": None, "  ": None,
             "__Conclusions__": "conclusions", "APPENDIX\u00a0": "appendix", "`Evaluation`": "evaluation"}
    for line, name in named.items():
        assert T._heading_name(line) == name == by_patterns(line), line
    rnd = random.Random(7)
    alphabet = list("abstract REFERENCES 1.2 IVX #*_` .:\u017f\u212a\u0130\u0131\t\u00a0\u2028Kk\u0661") + [
        "Introduction", "Methods", "Related work", "Acknowledgements", "Bibliography", "Appendix"]
    for _ in range(20000):
        line = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert T._heading_name(line) == by_patterns(line), line
