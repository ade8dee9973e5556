"""Tests for paperlens.core.references: reference lists, numeric citations, matching."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.core.models import Reference, Span
from paperlens.core.references import (
    LibraryEntry,
    NumericCite,
    ReferenceMatcher,
    extract_ids,
    extract_title,
    extract_years,
    find_numeric_citations,
    find_reference_section,
    normalize_title,
    numeric_citation_at,
    parse_references,
)

# A two-column PDF extraction in the style of CVPR papers: wrapped entries, hyphenation,
# back-reference page numbers (also on their own line), a page number inside an entry,
# a label without a space, labels glued after a column break, Mac Roman mojibake.
CVPR = (
    "1. Introduction\n"
    "Diffusion models [2, 3] and transformers [1] are popular [1–3].\n"
    "References\n"
    "[1] Ashish Vaswani, Noam Shazeer, and Niki Parmar. Atten-\n"
    "tion is all you need. In NeurIPS , 2017. 1, 2\n"
    "[2]Jonathan Ho, Ajay Jain, and Pieter Abbeel. Denoising dif-\n"
    "fusion probabilistic models. As shown in [3], it works.\n"
    "1993\n"
    "Advances in NeurIPS, 33:6840‚Äì\n"
    "6851, 2020. 2,\n"
    "5\n"
    "[3] Jiaming Song, Chenlin Meng, and Stefano\n"
    "Ermon. Denoising diffusion implicit models. In ICLR , 2021. 4[4] G ¬®ul Varol and Y . A.\n"
    "Sheikh. Self-supervised end-to-\n"
    "end learning. arXiv preprint arXiv:2106.12790v2 , 2021. 7\n"
)


def by_label(entries):
    return {e.label: e for e in entries}


# ---------------------------------------------------------------------------------------
# the reference section
# ---------------------------------------------------------------------------------------

def test_section_of_a_cvpr_text():
    start, end = find_reference_section(CVPR)
    assert CVPR[start:].startswith("[1] Ashish")
    assert end == len(CVPR)


@pytest.mark.parametrize("heading", [
    "References", "REFERENCES", "Bibliography", "## References", "# Bibliography",
    "7. References", "VII. REFERENCES", "**References**", "References:", "Works Cited",
])
def test_section_headings(heading):
    text = f"Body text [1].\n{heading}\n[1] A. Author. A title. 2020.\n"
    start, end = find_reference_section(text)
    assert text[start:end] == "[1] A. Author. A title. 2020.\n"


@pytest.mark.parametrize("ending", [
    "Appendix", "Appendix A. Proofs", "A. Appendix", "Supplementary Material",
    "## Appendix", "Acknowledgements",
])
def test_section_ends_at_appendix(ending):
    text = f"Intro.\nReferences\n[1] A. Author. A title. 2020.\n{ending}\nMore text [1].\n"
    start, end = find_reference_section(text)
    assert text[start:end] == "[1] A. Author. A title. 2020.\n"


def test_markdown_section_ends_at_next_heading_of_same_level():
    text = "# T\n\n## References\n\n1. A. Author. A title. 2020.\n\n## Notes\n\nx\n"
    start, end = find_reference_section(text)
    assert text[start:end].strip() == "1. A. Author. A title. 2020."


def test_section_heading_glued_to_the_first_entry():
    text = "Body.\nReferences [1] A. Author. A title. 2020.\n[2] B. Author. Another. 2021.\n"
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2"]


def test_no_section():
    assert find_reference_section("No list here.\nJust text that mentions references.\n") is None
    assert find_reference_section("") is None
    assert parse_references("Plain text [1] without a list.") == []


# ---------------------------------------------------------------------------------------
# parsing entries
# ---------------------------------------------------------------------------------------

def test_cvpr_entries():
    entries = parse_references(CVPR)
    assert [e.label for e in entries] == ["1", "2", "3", "4"]
    assert all(type(e) is Reference and e.span is not None for e in entries)
    e = by_label(entries)
    # hyphenation re-joined, space before the comma removed, back-references stripped
    assert e["1"].text == ("Ashish Vaswani, Noam Shazeer, and Niki Parmar. Attention is all you "
                           "need. In NeurIPS, 2017.")
    # "[3]" inside entry 2 is a citation, not an entry; the page number line "1993" and the
    # back-references on two lines are gone; the mojibake en dash is repaired and re-joined
    assert e["2"].text == ("Jonathan Ho, Ajay Jain, and Pieter Abbeel. Denoising diffusion "
                           "probabilistic models. As shown in [3], it works. Advances in NeurIPS, "
                           "33:6840–6851, 2020.")
    # glued after a column break: "2021. 4[4] G..." ends entry 3 and starts entry 4
    assert e["3"].text.endswith("In ICLR, 2021.")
    assert e["4"].text == ("Gül Varol and Y. A. Sheikh. Self-supervised end-to-end learning. "
                           "arXiv preprint arXiv:2106.12790v2, 2021.")


def test_entry_lines_spans_and_fields():
    entries = by_label(parse_references(CVPR))
    lines = CVPR.split("\n")
    assert entries["1"].line == 3 and lines[3].startswith("[1] Ashish")
    assert entries["2"].line == 5 and lines[5].startswith("[2]Jonathan")
    assert entries["4"].line == 12 and "4[4] G" in lines[12]
    for e in entries.values():
        assert CVPR[e.span.start:e.span.start + 1] == "["
        assert CVPR[e.span.start:].startswith(f"[{e.label}]")
    assert CVPR[entries["3"].span.start:entries["3"].span.end].endswith("2021. 4")
    assert entries["1"].title == "Attention is all you need"
    assert entries["1"].year == "2017"
    assert entries["4"].arxiv == "2106.12790"
    assert entries["4"].title == "Self-supervised end-to-end learning"


def test_crlf_and_nul_bytes_do_not_change_the_result():
    dirty = CVPR.replace("\n", "\r\n").replace("Ashish", "Ash\x00ish")
    clean = parse_references(CVPR)
    got = parse_references(dirty)
    assert [e.label for e in got] == [e.label for e in clean]
    assert [e.text for e in got] == [e.text for e in clean]
    assert [e.line for e in got] == [e.line for e in clean]


def test_labels_must_increase():
    text = ("References\n"
            "[1] A. Author. Title one. 2020.\n"
            "[2] B. Author. Title two, see\n"
            "[7] for details, and\n"
            "[4] is not next either. 2021.\n"
            "[3] C. Author. Title three. 2022.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2", "3"]
    assert by_label(entries)["2"].text == ("B. Author. Title two, see [7] for details, and [4] is "
                                          "not next either. 2021.")


def test_a_missing_label_is_skipped():
    text = "References\n[1] A. One. 2020.\n[2] B. Two. 2020.\n[4] D. Four. 2020.\n[5] E. Five. 2020.\n"
    assert [e.label for e in parse_references(text)] == ["1", "2", "4", "5"]


def test_markdown_numbered_list():
    text = ("# Paper\n\nWe build on [1] and [2].\n\n## References\n\n"
            "1. Jonathan Ho, Ajay Jain, and Pieter Abbeel. Denoising diffusion probabilistic models. "
            "In *Advances in Neural Information Processing Systems*, 2020.\n"
            "2. Kaiming He, Xiangyu Zhang, Shaoqing Ren, and Jian Sun. Deep residual learning for "
            "image recognition. In *CVPR*, 2016.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2"]
    assert entries[0].text.endswith("In Advances in Neural Information Processing Systems, 2020.")
    assert entries[1].title == "Deep residual learning for image recognition"
    assert entries[0].line == 6 and entries[1].line == 7
    assert text[entries[0].span.start:].startswith("1. Jonathan")


def test_numbered_list_without_periods_and_wrapped():
    text = ("References\n"
            "1 Ho J, Jain A, Abbeel P. Denoising diffusion probabilistic\n"
            "models. Adv Neural Inf Process Syst. 2020;33:6840-51.\n"
            "2 Lowe DG. Distinctive image features from scale-invariant keypoints.\n"
            "Int J Comput Vis. 2004;60:91-110.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2"]
    assert entries[0].title == "Denoising diffusion probabilistic models"
    assert entries[1].title == "Distinctive image features from scale-invariant keypoints"


def test_bullet_labels():
    text = "## References\n\n- [1] A. One. First title. 2020.\n- [2] B. Two. Second title. 2021.\n"
    entries = parse_references(text)
    assert [e.text for e in entries] == ["A. One. First title. 2020.", "B. Two. Second title. 2021."]


def test_author_year_list():
    text = ("Text (Ho et al., 2020).\n\nReferences\n\n"
            "Ho, J., Jain, A., & Abbeel, P. (2020). Denoising diffusion probabilistic\n"
            "models. Advances in Neural Information Processing Systems, 33, 6840–6851.\n"
            "He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for\n"
            "image recognition. In CVPR (pp. 770–778).\n"
            "Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization.\n"
            "In ICLR.\n")
    entries = parse_references(text)
    assert [e.label for e in entries] == ["1", "2", "3"]
    assert [e.line for e in entries] == [4, 6, 8]
    assert [e.title for e in entries] == [
        "Denoising diffusion probabilistic models",
        "Deep residual learning for image recognition",
        "Adam: A method for stochastic optimization",
    ]
    assert entries[2].text == "Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization. In ICLR."


def test_author_year_bullets_and_blank_lines():
    bullets = ("## References\n\n- Vaswani, A. et al. Attention is all you need. NeurIPS 2017.\n"
               "- He, K. et al. Deep residual learning for image recognition. CVPR 2016.\n")
    assert [e.text for e in parse_references(bullets)] == [
        "Vaswani, A. et al. Attention is all you need. NeurIPS 2017.",
        "He, K. et al. Deep residual learning for image recognition. CVPR 2016.",
    ]
    blocks = ("References\n\nJacob Devlin, Ming-Wei Chang, Kenton Lee, and Kristina Toutanova. 2019.\n"
              "BERT: Pre-training of deep bidirectional transformers for language understanding.\n\n"
              "Ashish Vaswani and Noam Shazeer. 2017. Attention is all you need. In NeurIPS.\n")
    entries = parse_references(blocks)
    assert [e.title for e in entries] == [
        "BERT: Pre-training of deep bidirectional transformers for language understanding",
        "Attention is all you need",
    ]


def test_explicit_section():
    bare = "[1] A. One. First title. 2020.\n[2] B. Two. Second title. 2021.\n"
    assert parse_references(bare) == []
    assert [e.label for e in parse_references(bare, section=(0, len(bare)))] == ["1", "2"]


# ---------------------------------------------------------------------------------------
# titles and identifiers
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, title", [
    ("Z. Cao, G. Hidalgo Martinez, T. Simon, S. Wei, and Y. A. Sheikh. Openpose: Realtime "
     "multi-person 2d pose estimation. IEEE TPAMI, 2019.", "Openpose: Realtime multi-person 2d pose estimation"),
    ("Tessa Verhoef, et al. Sign language recognition: An interdisciplinary perspective. In ASSETS, 2019.",
     "Sign language recognition: An interdisciplinary perspective"),
    ("P.J. Besl and Neil D. McKay. A method for registration of 3-D shapes. IEEE TPAMI, 1992.",
     "A method for registration of 3-D shapes"),
    ("Michael C. Corballis. Bilaterally Symmetrical: To Be or Not to Be? Symmetry, 12(3):326, 2020.",
     "Bilaterally Symmetrical: To Be or Not to Be?"),
    ("Joao Carreira and Andrew Zisserman. Quo vadis, action recognition? a new model and the kinetics "
     "dataset. In CVPR, 2017.", "Quo vadis, action recognition? a new model and the kinetics dataset"),
    ("Haowen Deng and Slobodan Ilic. PPFNet: Global Context Aware Local Features, 2018. arXiv:1802.02669 [cs].",
     "PPFNet: Global Context Aware Local Features"),
    ('A. Vaswani, N. Shazeer, and N. Parmar, "Attention is all you need," in Proc. NeurIPS, 2017.',
     "Attention is all you need"),
    ("K. He et al., “Deep residual learning for image recognition,” in CVPR, 2016.",
     "Deep residual learning for image recognition"),
    ("Ho, J., Jain, A., & Abbeel, P. (2020). Denoising diffusion probabilistic models. NeurIPS.",
     "Denoising diffusion probabilistic models"),
    ("Vaswani A, Shazeer N (2017) Attention is all you need. In: NIPS", "Attention is all you need"),
    ("Jacob Devlin and Kristina Toutanova. 2019. BERT: Pre-training of deep transformers. In NAACL.",
     "BERT: Pre-training of deep transformers"),
    ("Ho J, Jain A, Abbeel P. Denoising diffusion probabilistic models. Adv Neural Inf Process Syst. 2020.",
     "Denoising diffusion probabilistic models"),
    ("David G. Lowe. Distinctive image features from scale-invariant keypoints. IJCV, 2004.",
     "Distinctive image features from scale-invariant keypoints"),
    ("Zhuang Liu and Saining Xie. A convnet for the 2020s. In CVPR, 2022.", "A convnet for the 2020s"),
    ("Gyeongnyeon Kim. Dag: Depth-aware guidance with diffusion models.arXiv preprint arXiv:2212.08861, 2022.",
     "Dag: Depth-aware guidance with diffusion models"),
    ("[12] Kaiming He. Deep residual learning. In CVPR, 2016.", "Deep residual learning"),
    ("Common Crawl, 2023. https://commoncrawl.org/.", ""),
    ("", ""),
])
def test_extract_title(entry, title):
    assert extract_title(entry) == title


@pytest.mark.parametrize("entry, doi, arxiv", [
    ("A. B. Title. Journal, 2019. doi:10.1111/cgf.13536.", "10.1111/cgf.13536", ""),
    ("A. B. Title. https://doi.org/10.1145/358669.358692", "10.1145/358669.358692", ""),
    ("A. B. Title. arXiv preprint arXiv:1706.03762v5, 2017.", "", "1706.03762"),
    ("A. B. Title. arXiv:hep-th/9901001, 1999.", "", "hep-th/9901001"),
    ("A. B. Title. CoRR, abs/1810.01367, 2018.", "", "1810.01367"),
    ("A. B. Title. https://arxiv.org/abs/2304.02643.", "", "2304.02643"),
    ("A. B. Title. doi: 10.48550/arXiv.2106.12790.", "10.48550/arxiv.2106.12790", "2106.12790"),
    ("A. B. Title. In CVPR, pages 1-8, 2020.", "", ""),
])
def test_extract_ids(entry, doi, arxiv):
    assert extract_ids(entry) == (doi, arxiv)


def test_extract_years_skips_arxiv_ids_and_pages():
    assert extract_years("A. Title. arXiv:2006.11239, 2020. pages 2001-2010.") == ["2020"]
    assert extract_years("A. Title. In CVPR, 2019a.") == ["2019a"]


def test_normalize_title():
    assert normalize_title("Über-Resolution: Naïve  Bayes — Meets ﬁne “Deep” Nets!") == \
        "uberresolution naive bayes meets fine deep nets"
    assert normalize_title("Spatio-temporal") == normalize_title("Spatio-\ntemporal".replace("-\n", "")) \
        == "spatiotemporal"


# ---------------------------------------------------------------------------------------
# numeric citations
# ---------------------------------------------------------------------------------------

def cites(text, max_label=None):
    found = find_numeric_citations(text, max_label)
    for c in found:
        assert text[c.span.start] == "[" and text[c.span.end - 1] == "]"
    return [(text[c.span.start:c.span.end], c.labels) for c in found]


@pytest.mark.parametrize("written, labels", [
    ("[12]", ["12"]),
    ("[3, 15]", ["3", "15"]),
    ("[3,15,22]", ["3", "15", "22"]),
    ("[ 3,15 ]", ["3", "15"]),
    ("[3-7]", ["3", "4", "5", "6", "7"]),
    ("[3–7]", ["3", "4", "5", "6", "7"]),
    ("[3—7]", ["3", "4", "5", "6", "7"]),
    ("[3‚Äì5]", ["3", "4", "5"]),
    ("[1, 4-6]", ["1", "4", "5", "6"]),
    ("[2; 9]", ["2", "9"]),
    ("[3, 3-4]", ["3", "4"]),
    ("[4,\n31, 33]", ["4", "31", "33"]),
])
def test_numeric_citation_forms(written, labels):
    text = f"as shown in {written} before"
    start = len("as shown in ")
    found = find_numeric_citations(text)
    assert found == [NumericCite(Span(start, start + len(written)), labels)]


@pytest.mark.parametrize("written", [
    "[a]", "[0, 1]", "[0]", "[7-3]", "[0.5, 1]", "[1-500]", "[2020]", "[]", "[1,]", "[-1]", "[1, a]",
    "[i]", "[x_1]",
])
def test_not_numeric_citations(written):
    assert cites(f"x {written} y") == []


def test_max_label():
    text = "Years [2020] and [3] and [1, 60] and [5-9] here."
    five_to_nine = ("[5-9]", ["5", "6", "7", "8", "9"])
    assert cites(text, max_label=50) == [("[3]", ["3"]), five_to_nine]
    assert cites(text, max_label=60) == [("[3]", ["3"]), ("[1, 60]", ["1", "60"]), five_to_nine]
    assert cites(text, max_label=5) == [("[3]", ["3"])]
    assert cites(text, max_label=0) == []
    assert ("[2020]", ["2020"]) not in cites(text)          # default: labels stop at 999
    assert cites(text, max_label=3000)[0] == ("[2020]", ["2020"])


def test_markdown_links_and_the_list_itself_are_not_citations():
    text = ("See [1](http://x.org) and [2].\n[3]: http://example.org\n![4](img.png)\n"
            "References\n[1] A. One. Title. 2020.\n[2] B. Two. Title, cf. [1]. 2021.\n")
    assert cites(text) == [("[2]", ["2"])]


def test_cvpr_citations():
    assert cites(CVPR) == [("[2, 3]", ["2", "3"]), ("[1]", ["1"]), ("[1–3]", ["1", "2", "3"])]


def test_numeric_citation_at_edges():
    text = "ab [3, 15] cd [1][2] ef"
    s = text.index("[3")
    e = s + len("[3, 15]")
    for offset in (s, s + 1, s + 4, e - 1, e):       # from "[" to just after "]"
        assert numeric_citation_at(text, offset).labels == ["3", "15"]
    assert numeric_citation_at(text, s - 1) is None
    assert numeric_citation_at(text, e + 1) is None
    one = text.index("[1]")
    assert numeric_citation_at(text, one + 3).labels == ["2"]    # "][": the one starting here
    assert numeric_citation_at(text, one + 2).labels == ["1"]
    assert numeric_citation_at(text, len(text) - 1) is None
    assert numeric_citation_at(text, -1) is None
    assert numeric_citation_at(text, len(text) + 5) is None
    assert numeric_citation_at(text, s + 1, max_label=10) is None


# ---------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------

LIBRARY = [
    LibraryEntry("ddpm", "Denoising Diffusion Probabilistic Models", "", "2006.11239", "2020", ["Ho", "Jain"]),
    LibraryEntry("resnet", "Deep Residual Learning for Image Recognition", "10.1109/CVPR.2016.90", "",
                 "2016", ["He", "Zhang"]),
    LibraryEntry("attn", "Attention Is All You Need", "", "", "2017", ["Vaswani"]),
    LibraryEntry("uber", "Über-Resolution: Naïve Bayes Meets Deep Nets", "", "", "2020", ["Müller"]),
    LibraryEntry("pt", "Point Transformer", "", "", "2021", ["Zhao", "Jiang"]),
    LibraryEntry("old", "Shape Matching and Object Recognition Using Shape Contexts", "", "", "2002",
                 ["Belongie"]),
    LibraryEntry("noauth", "Sparse Passage Retrieval for Scientific Reading Assistants", "", "", "", []),
]


@pytest.fixture(scope="module")
def matcher():
    return ReferenceMatcher(LIBRARY)


def test_match_by_doi(matcher):
    entry = "K. He et al. Some other title. In CVPR, 2016. https://doi.org/10.1109/cvpr.2016.90."
    assert matcher.match(entry) == ("resnet", 100.0)


def test_match_by_arxiv(matcher):
    assert matcher.match("J. Ho. Whatever. arXiv preprint arXiv:2006.11239v2, 2020.") == ("ddpm", 100.0)


def test_match_by_title_ignores_case_punctuation_accents_and_hyphenation(matcher):
    got = matcher.match("[4] Hans Muller and Ana Lima. Uber resolution: naive bayes meets deep-\n"
                        "nets. In CVPR , 2020. 2, 5")
    assert got is not None and got[0] == "uber" and got[1] >= 97
    got = matcher.match("Kaiming He, Xiangyu Zhang. DEEP RESIDUAL LEARNING FOR IMAGE RECOGNITION. CVPR 2016.")
    assert got is not None and got[0] == "resnet"
    assert matcher.match("Jonathan Ho. Denoising dif-\nfusion probabilistic models. NeurIPS, 2020.")[0] == "ddpm"


def test_near_miss_titles_do_not_match(matcher):
    assert matcher.match("Jiaming Song, Chenlin Meng, and Stefano Ermon. Denoising diffusion implicit "
                         "models. In ICLR, 2021.") is None
    assert matcher.match("Alex Nichol and Prafulla Dhariwal. Improved denoising diffusion probabilistic "
                         "models. In ICML, 2021.") is None
    assert matcher.match("Kaiming He, Xiangyu Zhang. Identity mappings in deep residual networks. ECCV, 2016.") is None
    assert matcher.match("Yi Luo. Attention is all you need in speech separation. In ICASSP, 2021.") is None
    assert matcher.match("Gyeongnyeon Kim. Dag: Depth-aware guidance with denoising diffusion probabilistic "
                         "models. arXiv preprint, 2022.") is None


def test_year_must_agree(matcher):
    entry = "Serge Belongie. Shape matching and object recognition using shape contexts. TPAMI, {}."
    assert matcher.match(entry.format(2002))[0] == "old"
    assert matcher.match(entry.format(2003))[0] == "old"
    assert matcher.match(entry.format(2019)) is None
    assert ReferenceMatcher(LIBRARY, year_tolerance=None).match(entry.format(2019))[0] == "old"


def test_different_arxiv_ids_are_different_papers(matcher):
    assert matcher.match("J. Ho. Denoising diffusion probabilistic models. arXiv:2101.00001, 2020.") is None


def test_short_titles_need_an_author(matcher):
    assert matcher.match("Hengshuang Zhao, Li Jiang, and Vladlen Koltun. Point transformer. In ICCV, 2021.")[0] == "pt"
    assert matcher.match("Nico Engel and Klaus Dietmayer. Point transformer. IEEE Access, 2021.") is None


def test_library_paper_without_authors(matcher):
    got = matcher.match("M. Okafor. Sparse passage retrieval for scientific reading assistants. Preprint, 2024.")
    assert got is not None and got[0] == "noauth"


def test_title_found_when_the_author_list_is_not_recognised(matcher):
    # no period after the authors: the title is still a sentence of its own
    got = matcher.match("OpenAI team et al 2017 Attention is all you need. In NeurIPS, 2017.")
    assert got is not None and got[0] == "attn"


def test_nonsense_and_empty(matcher):
    assert matcher.match("") is None
    assert matcher.match("   ") is None
    assert matcher.match("[1] x. y. 2020.") is None
    assert ReferenceMatcher([]).match("Attention is all you need. 2017.") is None


def test_match_all(matcher):
    got = matcher.match_all(parse_references(CVPR))
    assert got["1"][0] == "attn"
    assert got["2"][0] == "ddpm"
    assert "3" not in got and "4" not in got


SIMILARITIES = ("ratio", "partial_ratio", "partial_ratio_alignment", "token_ratio", "token_set_ratio",
                "token_sort_ratio", "partial_token_ratio", "partial_token_set_ratio",
                "partial_token_sort_ratio", "QRatio", "WRatio")


def _random_library(n: int, seed: int = 5) -> list[LibraryEntry]:
    rng = random.Random(seed)
    words = ("deep learning neural network image video point cloud diffusion model transformer graph "
             "segmentation detection estimation pose depth scene shape generative adversarial sparse "
             "retrieval language vision robust efficient self supervised contrastive").split()
    return [LibraryEntry(f"s{i}", " ".join(rng.choice(words) for _ in range(rng.randint(3, 10))),
                         year=str(rng.randint(1995, 2024))) for i in range(n)] + LIBRARY


def test_matching_work_does_not_grow_with_the_library(monkeypatch):
    """Candidates come from the index of rare title words: building the matcher compares no
    titles, and one match compares a bounded number of pairs, for 1,000 papers as for 20,000
    (brute force would compare the entry with every title; timings: bench/parse_speed.py)."""
    from rapidfuzz import fuzz

    calls: list[str] = []
    for name in SIMILARITIES:
        real = getattr(fuzz, name)
        monkeypatch.setattr(fuzz, name, lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw))
    for n in (1_000, 20_000):
        m = ReferenceMatcher(_random_library(n))
        assert calls == [], "building the matcher compared titles"
        # a title found by its rare words: two similarities per candidate, no fallback
        assert m.match("Jonathan Ho, Ajay Jain. Denoising diffusion probabilistic models. NeurIPS, 2020.")[0] == "ddpm"
        assert 2 <= len(calls) <= 2 * m.candidates and set(calls) == {"ratio", "token_sort_ratio"}, calls
        calls.clear()
        # a title of common words that is no paper: at most the title pass and the sentence
        # fallback (each candidate against each sentence and pair of sentences: 3 here); the
        # matcher of issue 15 may compare none, its candidates needing a pair of rare words
        assert m.match("Nobody. Diffusion model transformer graph. 2019.") is None
        assert len(calls) <= 5 * m.candidates, calls
        calls.clear()


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

_alphabet = st.sampled_from(list("[]0123456789,;-–—. \n\r\x00abcXY:()*#‚Äì") + ["References\n", "[1] ",
                                                                              "2020. 2", "et al. "])
_texts = st.one_of(st.text(max_size=300), st.lists(_alphabet, max_size=120).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.one_of(st.none(), st.integers(min_value=0, max_value=50)))
def test_find_numeric_citations_never_raises(text, max_label):
    for c in find_numeric_citations(text, max_label):
        assert 0 <= c.span.start < c.span.end <= len(text)
        assert text[c.span.start] == "[" and text[c.span.end - 1] == "]"
        assert c.labels and all(lab.isdigit() and int(lab) >= 1 for lab in c.labels)
        if max_label is not None:
            assert all(int(lab) <= max_label for lab in c.labels)
    for offset in (0, len(text) // 2, len(text)):
        numeric_citation_at(text, offset, max_label)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts)
def test_parse_references_never_raises(text):
    n_lines = text.count("\n") + 1
    for e in parse_references(text):
        assert 0 <= e.span.start <= e.span.end <= len(text)
        assert 0 <= e.line < n_lines
        assert e.text and "\n" not in e.text
        extract_title(e.text)
    section = find_reference_section(text)
    if section is not None:
        assert 0 <= section[0] <= section[1] <= len(text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_matcher_never_raises(text):
    m = ReferenceMatcher(LIBRARY[:3])
    got = m.match(text)
    assert got is None or got[0] in {"ddpm", "resnet", "attn"}
