"""A word searched again has its lists kept as Python objects, their parts weighted
(SearchCache.passage_scores, BOXED_POSTINGS): the scores, their order and the words' masks
must be those of a search that keeps nothing, however often the words come back, with other
boosts, and when the kept postings reach their bound. Likewise a query's snippet pattern,
kept for its terms (SNIPPET_RES)."""
import random

import pytest

from fixtures.small_topk import WORDS, indexed_library, use_small_topk
from paperlens.core.index.whoosh import fast

BOOSTS = {"body": 1.0, "abstract": 2.0}


@pytest.fixture()
def library(tmp_path, monkeypatch):
    use_small_topk(monkeypatch)
    folder = tmp_path / "lib"
    folder.mkdir()
    rnd = random.Random(11)
    for i in range(24):
        paras = "\n\n".join(f"{p + 1}. Part {p + 1}\n" + " ".join(rnd.choice(WORDS) for _ in range(50)) + "."
                            for p in range(3))
        (folder / f"k{i:02d}.txt").write_text(
            f"Paper {i} on {' '.join(rnd.sample(WORDS, 3))}\nAda Writer{i}\nAbstract\n"
            f"We study {' '.join(rnd.sample(WORDS, 4))}.\n\n{paras}\n", encoding="utf-8")
    lib = indexed_library(folder, tmp_path / "ix")
    yield lib
    lib.close()


def _fresh(r, words, boosts):
    """The scores and best passages' masks of a search cache that has kept nothing."""
    cache = fast.SearchCache(r.cache.side_dir)
    try:
        scores, masks = cache.passage_scores(r.searcher, words, boosts)
        top = masks.best(scores, 10)
        return list(scores.items()), [(d, masks[d]) for d in top]
    finally:
        cache.close()


def _kept(r):
    return r.cache._lists[2], r.cache._lists[3][0]


@pytest.mark.parametrize("bound", [1 << 16, 60, 0])
def test_words_searched_again_score_as_a_search_that_keeps_nothing(library, monkeypatch, bound):
    monkeypatch.setattr(fast, "BOXED_POSTINGS", bound)
    rnd = random.Random(2)
    queries = [rnd.sample(WORDS, k) for k in (1, 2, 3, 4, 6)]
    with library.stores[0].reading() as r:
        for round_ in range(3):
            for q in queries + [q[::-1] for q in queries]:        # the same words in another order
                words = fast.query_words(r.schema, q)
                for boosts in (BOOSTS, {"body": 1.5}):            # other weights: made again
                    want = _fresh(r, words, boosts)
                    scores, masks = r.cache.passage_scores(r.searcher, words, boosts)
                    top = masks.best(scores, 10)
                    assert (list(scores.items()), [(d, masks[d]) for d in top]) == want, (round_, q)
        kept, size = _kept(r)
        made = [m for m in kept.values() if m is not None]
        assert size == sum(len(g) for m in made for g, _ in m)
        assert size <= bound
        if bound == 0:
            assert not made
        elif bound < 1 << 16:   # more than the bound: let go of
            assert sum(len(g) for m in made for g, _ in m) <= bound
        else:                   # every word searched again is kept, as ints and weighted parts
            assert made and all(type(d) is int and type(c) is float for m in made for g, cs in m
                                for d, c in zip(g, cs))


def test_a_word_searched_once_is_not_made_into_objects(library):
    with library.stores[0].reading() as r:
        words = fast.query_words(r.schema, ["camera"])
        r.cache.passage_scores(r.searcher, words, BOOSTS)
        kept, size = _kept(r)
        assert size == 0 and kept and all(m is None for m in kept.values())
        r.cache.passage_scores(r.searcher, words, BOOSTS)
        kept, size = _kept(r)
        assert size > 0 and all(m is not None for m in kept.values())


def test_snippets_of_the_same_terms_share_their_pattern_within_its_bound(monkeypatch):
    from whoosh.analysis import StemmingAnalyzer

    monkeypatch.setattr(fast, "_SNIPPET_RES", {})
    monkeypatch.setattr(fast, "SNIPPET_RES", 2)
    an = StemmingAnalyzer()
    text = "Depth cameras and a depth camera: point clouds from robots, cloud point."
    terms = ["depth", "camera", "cloud", "point", "robot"]
    first = fast.Snippets(terms, an)
    want = (first.whole(text), first(text))
    assert "**Depth**" in want[0] and "**clouds**" in want[0]
    again = fast.Snippets(reversed(terms), an)         # the same terms in another order
    assert again._re is first._re and (again.whole(text), again(text)) == want
    for other in (["cloud"], ["robot", "depth"], ["camera"]):
        fast.Snippets(other, an)
        assert len(fast._SNIPPET_RES) <= 2
    assert (fast.Snippets(terms, an).whole(text), fast.Snippets(terms, an)(text)) == want   # made again
