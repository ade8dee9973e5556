"""What bounds a plain query's work in fast.py keeps exact: paper-level words scored rarest first
(a common word refines, yet every paper asked for gets its library-wide score), and one bound
on the short lists kept in memory however many segments the index has."""
import random

import pytest

from paperlens.core.index.table import PaperTable, Row
from paperlens.core.index.whoosh import fast
from paperlens.core.index.whoosh.schema import FIELD_BOOSTS, make_schema
from paperlens.core.library import Library

COMMON = ["learning", "image", "model", "deep", "network"]
RARE = ["tubular", "quokka", "zeppelin"]


def _table(n: int = 300) -> PaperTable:
    rnd = random.Random(7)
    rows = []
    for i in range(n):
        words = rnd.sample(COMMON, rnd.randint(1, 4))
        if i % 37 == 0:
            words.append(RARE[i % len(RARE)])
        rows.append(Row(id=f"p{i}", key=f"k{i}", title=" ".join(words), surnames=[f"Writer{i % 13}"],
                        year=str(2000 + i % 20), venue="Proceedings of Things" if i % 2 else "Journal",
                        source=f"/lib/p{i}.txt", source_line=0, source_kind="txt", file=f"/lib/p{i}.txt"))
    return PaperTable(rows)


def _fields(table):
    schema = make_schema()
    pf = fast.PaperFields({f: an for f in fast.PAPER_FIELDS if (an := fast._analyzer(schema, f)) is not None})
    pf.sync(table)
    return pf, schema


@pytest.mark.parametrize("exact", [1000, 1])
@pytest.mark.parametrize("query", ["tubular learning image model", "deep network learning",
                                   "quokka zeppelin deep proceedings", "proceedings things",
                                   "k0 tubular quokka deep"])
def test_common_paper_words_refine_yet_every_paper_gets_its_whole_score(monkeypatch, query, exact):
    table = _table()
    pf, schema = _fields(table)
    words = fast.query_words(schema, query.split())
    monkeypatch.setattr(fast, "COMMON_PAPERS", 10 ** 9)          # every word finds papers
    whole, whole_mask = pf.scores(words, FIELD_BOOSTS)
    monkeypatch.setattr(fast, "COMMON_PAPERS", 20)               # the test's common words refine
    monkeypatch.setattr(fast, "EXACT_PAPERS", exact)             # 1: the best one found is kept
    score, mask = pf.scores(words, FIELD_BOOSTS)
    if exact == 1 and query.startswith("k0"):      # p0 (its key, a rare title word) is far ahead
        assert "p0" in score and len(score) < len([p for p in whole if whole_mask[p] & 7])
    assert set(score) <= set(whole) and set(score) == set(mask)
    if query.startswith("tubular"):
        assert len(score) < len(whole)          # the common words found no paper of their own
        assert {r.id for r in table.rows if "tubular" in r.title} <= set(score)
    for r in table.rows:
        assert score.get(r.id, 0.0) == pytest.approx(whole.get(r.id, 0.0))
        assert mask.get(r.id, 0) == whole_mask.get(r.id, 0)
        if r.id in whole:
            assert score[r.id] == pytest.approx(whole[r.id]) and mask[r.id] == whole_mask[r.id]
        else:
            with pytest.raises(KeyError):
                score[r.id]
    # the best papers found are the best of all
    n = min(3, exact)
    best = sorted(whole, key=lambda p: (-whole[p], p))[:n]
    assert sorted(score, key=lambda p: (-score[p], p))[:n] == best


def test_a_venue_word_alone_still_finds_papers(monkeypatch):
    pf, schema = _fields(_table())
    monkeypatch.setattr(fast, "VENUE_CAP", 10)
    score, _ = pf.scores(fast.query_words(schema, ["proceedings"]), FIELD_BOOSTS)
    assert len(score) == 150
    # with a title word, the venue word only adds to the papers the title word found
    score, _ = pf.scores(fast.query_words(schema, ["tubular", "proceedings"]), FIELD_BOOSTS)
    assert set(score) == {f"p{i}" for i in range(0, 300, 37) if i % 3 == 0}
    assert score.get("p1", 0.0) == 0.0          # a venue word alone does not count


def _paper(i: int) -> str:
    return (f"Paper {i} on things\nAda Writer{i}\nAbstract\nWe study word{i} and shared words.\n\n"
            f"1. Body\nThe body says word{i} again, and common words, many of them.\n")


def test_short_lists_are_bounded_for_all_segments_together(tmp_path, monkeypatch):
    """Each edit adds a small segment: the short lists kept stay within one bound, not one
    per segment."""
    monkeypatch.setattr(fast, "SHORT_LISTS", 6)
    folder = tmp_path / "lib"
    folder.mkdir()
    lib = Library([folder], str(tmp_path / "ix"), workers=1)
    for i in range(4):                            # four commits: four segments
        (folder / f"p{i}.txt").write_text(_paper(i), encoding="utf-8")
        lib.update_paths([folder / f"p{i}.txt"])
    store = lib.stores[0]
    assert len(store.searcher().reader().leaf_readers()) >= 3
    for i in range(4):
        assert lib.search(f"word{i} shared study")[0].path.endswith(f"p{i}.txt")
    with store.reading() as reading:
        cache = reading.cache
    assert 0 < len(cache.short) <= 6
    assert lib.search("word3")[0].path.endswith("p3.txt")   # evicted lists are read again
    lib.close()


def test_snippets_find_the_words_a_plain_alternation_finds():
    """The snippet regex checks a word's first letter before trying the terms: the same
    matches as trying every term at every word start (the regex it replaced)."""
    import re

    from paperlens.core.index.whoosh.analysis import mixed_analyzer

    an = mixed_analyzer()
    terms = {"semi-supervised", "semi", "segment", "3d", "imag", "医学", "图像", "ünet", "x.y"}
    old = re.compile("|".join(re.escape(t) if re.search(r"[\u3400-\u9fff]", t) else r"\b" + re.escape(t) + r"\w*"
                              for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    snip = fast.Snippets(terms, an)
    texts = ["Semi-Supervised 3D Image Segmentation with ÜNet and X.Y — Semiotics, 3Dness",
             "医学图像分割 and images, SEGMENTS; semi supervised; imaging 3d-printing",
             "nothing at all", "ß İmage Ünet-like xay x.yz"]
    for text in texts:
        assert [m.span() for m in snip._re.finditer(text)] == [m.span() for m in old.finditer(text)]
