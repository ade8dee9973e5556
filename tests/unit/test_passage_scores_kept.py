"""A word searched again has its lists kept as Python objects, their parts weighted
(SearchCache.passage_scores, BOXED_POSTINGS): the scores, their order and the words' masks
must be those of a search that keeps nothing, however often the words come back, with other
boosts, and when the kept postings reach their bound. Likewise a query's snippet pattern,
kept for its terms (SNIPPET_RES)."""
import random

import pytest

from fixtures.small_topk import WORDS, small_library
from paperlens.core.index.whoosh import fast
from paperlens.core.lru import LRU

BOOSTS = {"body": 1.0, "abstract": 2.0}


@pytest.fixture()
def library(tmp_path, monkeypatch):
    rnd = random.Random(11)
    texts = {}
    for i in range(24):
        paras = "\n\n".join(f"{p + 1}. Part {p + 1}\n" + " ".join(rnd.choice(WORDS) for _ in range(50)) + "."
                            for p in range(3))
        texts[f"k{i:02d}.txt"] = (f"Paper {i} on {' '.join(rnd.sample(WORDS, 3))}\nAda Writer{i}\nAbstract\n"
                                  f"We study {' '.join(rnd.sample(WORDS, 4))}.\n\n{paras}\n")
    lib, _ = small_library(monkeypatch, tmp_path, texts)
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
        elif bound < 1 << 16:   # words kept up to the bound, a word's lists over it never
            assert made and all(sum(len(g) for g, _ in m) <= bound for m in made)
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

    monkeypatch.setattr(fast, "_SNIPPET_RES", LRU(2))
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


@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_words_kept_before_an_update_score_as_a_fresh_search_after_it(library, monkeypatch, how):
    """The lists kept (as objects, and the short lists read) are those of the segments as they
    were: after an update, a paper changed (its documents deleted where they were, the new ones
    in a new segment) or deleted (from a small segment without a side file, which keeps its id:
    its lists are read again without the paper's documents), a search scores as a cache made
    after it. (Every word's weight is kept the same across the update, so that the
    lists kept are looked up again, not passed over for another weight.)"""
    monkeypatch.setattr(fast, "_idf", lambda n, df: 1.0)
    rnd = random.Random(5)
    own = ["zebra", "quokka"]          # a word of each added paper's only
    queries = [rnd.sample(WORDS, k) for k in (1, 2, 3)] + [[w, "camera"] for w in own]
    folder = library.stores[0].folder
    added = [folder / f"new{i}.txt" for i in range(2)]
    for p, w in zip(added, own):      # a small segment of their own (no side file)
        p.write_text(f"Paper on {w}\nAda Writer\nAbstract\nWe study {w} {' '.join(WORDS[:6])}.\n\n"
                     f"1. Part 1\n{w} {' '.join(WORDS * 2)}.\n", encoding="utf-8")
    library.update()
    with library.stores[0].reading() as r:
        for _ in range(2):
            for q in queries:
                words = fast.query_words(r.schema, q)
                r.cache.passage_scores(r.searcher, words, BOOSTS)
        assert _kept(r)[1] > 0
    papers = sorted(folder.glob("k*.txt"))
    for p in papers[:3] if how == "changed" else added[:1]:
        if how == "deleted":
            p.unlink()
        else:
            p.write_text(p.read_text(encoding="utf-8").replace("Part 2", "Part 2 " + " ".join(WORDS[:6])),
                         encoding="utf-8")
    library.update()
    with library.stores[0].reading() as r:
        for q in queries:
            words = fast.query_words(r.schema, q)
            want = _fresh(r, words, BOOSTS)
            scores, masks = r.cache.passage_scores(r.searcher, words, BOOSTS)
            top = masks.best(scores, 10)
            assert (list(scores.items()), [(d, masks[d]) for d in top]) == want, q
