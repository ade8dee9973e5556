"""One rule for "the same paper" (core/identity.py): DOI, arXiv id, title."""
from __future__ import annotations

from types import SimpleNamespace

from paperlens.core.identity import (
    TITLE_MIN_WORDS,
    PaperKeys,
    arxiv_of_doi,
    norm_arxiv,
    norm_doi,
    norm_title,
    norm_words,
    same_paper,
    title_key,
)


def rec(title="", doi="", arxiv=""):
    return SimpleNamespace(title=title, doi=doi, arxiv=arxiv)


def test_doi_forms_agree():
    forms = ["10.1145/3368089.3409742", "https://doi.org/10.1145/3368089.3409742",
             "http://dx.doi.org/10.1145/3368089.3409742", "doi: 10.1145/3368089.3409742.",
             " DOI:10.1145/3368089.3409742 ", "10.1145/3368089.3409742".upper()]
    assert {norm_doi(f) for f in forms} == {"10.1145/3368089.3409742"}
    assert norm_doi("") == norm_doi(None) == ""


def test_arxiv_forms_agree_and_the_version_goes():
    forms = ["1706.03762", "1706.03762v5", "arXiv:1706.03762v2", "arxiv: 1706.03762",
             "https://arxiv.org/abs/1706.03762v1", "http://arxiv.org/pdf/1706.03762"]
    assert {norm_arxiv(f) for f in forms} == {"1706.03762"}
    assert norm_arxiv("cs/0112017v1") == "cs/0112017"
    assert arxiv_of_doi("https://doi.org/10.48550/arXiv.2106.12790") == "2106.12790"
    assert arxiv_of_doi("10.1145/3368089") == ""


def test_titles_agree_across_case_accents_hyphens_and_punctuation():
    assert norm_title("Über-Resolution: Naïve  Bayes — Meets ﬁne “Deep” Nets!") == \
        "uberresolution naive bayes meets fine deep nets"
    assert norm_title("Spatio-temporal Graphs") == norm_title("Spatiotemporal graphs")
    assert norm_title("Rock & Roll's Nets") == "rock and rolls nets"
    # finding a title in running text splits at hyphens (a word broken at a line end)
    assert norm_words("Spatio-\ntemporal Graphs") == "spatio temporal graphs"


def test_accents_are_dropped_as_every_character_looked_at_drops_them():
    """Titles and names with accents lose their combining marks (NFKD has split them off) as
    when every character is checked, though only the characters that are not ASCII are."""
    import random
    import unicodedata

    from paperlens.core import identity
    from paperlens.core.identity import fold

    def norm_title_each(t):
        s = "".join(ch for ch in unicodedata.normalize("NFKD", t) if not unicodedata.combining(ch)).casefold()
        s = s.replace("&", " and ").translate(identity._APOSTROPHES).translate(identity._HYPHENS)
        return " ".join(identity._NON_WORD.sub(" ", s).split())

    def fold_each(t):
        return "".join(ch for ch in unicodedata.normalize("NFKD", t.lower()) if not unicodedata.combining(ch))

    rng = random.Random(7)
    pool = list("aZ9 -'&_.") + ["é", "e\u0301", "Å", "ﬁ", "ß", "İ", "Σ", "ς", "–", "Ａ", "ǅ", "の", "中",
                                 "\u0327", "\u0308", "\u20dd", "ŉ", "ῷ", "\u0e49", "ก", "\U0001d400", "ö"]
    for _ in range(5000):
        t = "".join(rng.choice(pool) for _ in range(rng.randint(1, 25)))
        assert norm_title(t) == norm_title_each(t), t
        assert fold(t) == fold_each(t), t
        assert norm_words(t) == " ".join(identity._WORD.findall(fold_each(t).replace("’", "'").replace("'", ""))), t
    assert norm_title("Åberg, J. and Gödel, K.") == "aberg j and godel k"


def test_a_short_title_is_no_evidence_on_its_own():
    assert TITLE_MIN_WORDS == 4
    assert title_key("Point Transformer") == title_key("Graph Attention Networks") == ""
    assert title_key("Squeeze-and-Excitation Networks Again") == ""     # hyphens join words
    assert title_key("Attention Is All You Need") == "attention is all you need"


def test_same_paper():
    assert same_paper(rec("A", doi="10.1/X"), rec("B", doi="https://doi.org/10.1/x"))
    assert same_paper(rec(arxiv="1706.03762v1"), rec(arxiv="arXiv:1706.03762v5"))
    assert same_paper(rec(doi="10.48550/arXiv.1706.03762"), rec(arxiv="1706.03762"))
    assert same_paper(rec(arxiv="1706.03762"), rec(doi="10.48550/ARXIV.1706.03762"))
    assert same_paper(rec("Attention Is All You Need"), rec("Attention is all you need."))
    assert not same_paper(rec("Point Transformer"), rec("Point Transformer"))
    assert not same_paper(rec("Attention Is All You Need"), rec("Attention Is All You Need in Speech"))
    assert not same_paper(rec(doi="10.1/a"), rec(doi="10.1/b"))


def test_paper_keys_first_added_keeps_a_key_and_lookups_go_doi_arxiv_title():
    keys = PaperKeys()
    keys.add("p1", doi="10.1/A", title="Deep Residual Learning for Image Recognition")
    keys.add("p2", doi="10.1/a", arxiv="1512.03385v1")
    keys.add("p3", doi="10.48550/arXiv.1706.03762")
    assert keys.find(doi="https://doi.org/10.1/a") == "p1"
    assert keys.find(arxiv="1512.03385") == "p2"
    assert keys.find(arxiv="1706.03762v3") == "p3"
    assert keys.find(doi="10.48550/arxiv.1512.03385") == "p2"     # an arXiv DOI names the id
    assert keys.find(doi="10.9/none", title="Deep residual learning for image recognition.") == "p1"
    assert keys.find_by_id(doi="10.9/none") is None
    assert keys.find_by_title("Deep Residual Learning for Image Recognition") == "p1"
    assert keys.find(title="Image Recognition") is None
    assert keys.find() is None
