"""Plain-query search reads less than the index holds: a paper text's record hit is made from
its table row (not its stored document), and which query words a candidate passage has is
found from the words' lists when asked. Both must say what the index says."""
import random

import pytest

from fixtures.small_topk import WORDS, indexed_library, use_small_topk
from paperlens.core.index.whoosh import fast, queries


@pytest.fixture()
def library(tmp_path, monkeypatch):
    use_small_topk(monkeypatch)
    folder = tmp_path / "lib"
    (folder / "sub").mkdir(parents=True)
    rnd = random.Random(5)
    for i in range(24):
        paras = "\n\n".join(f"{p + 1}. Part {p + 1}\n" + " ".join(rnd.choice(WORDS) for _ in range(60)) + "."
                            for p in range(3))
        where = folder / ("sub" if i % 3 == 0 else "") / f"q{i:02d}.txt"
        where.write_text(f"Study {i} of {' '.join(rnd.sample(WORDS, 3))}\nAda Writer{i}\nAbstract\n"
                         f"We look at {' '.join(rnd.sample(WORDS, 4))}.\n\n{paras}\n", encoding="utf-8")
    # a bibliography entry with an abstract: its record ends where the abstract does
    (folder / "refs.bib").write_text(
        "@article{lone2020,\n  title = {A Lone Entry About Camera Depth},\n  author = {Writer, Ada},\n"
        "  year = {2020},\n  abstract = {Depth from one camera,\n    over several lines.}\n}\n",
        encoding="utf-8")
    lib = indexed_library(folder, tmp_path / "ix")
    yield lib
    lib.close()


def test_a_record_made_from_the_row_is_the_stored_record(library):
    store = library.stores[0]
    with store.reading() as r:
        docs = r.cache.paper_docs(r.searcher)
        made = 0
        for row in r.table.rows:
            d = docs.record(row.id)
            if d is None:
                continue
            stored = r.searcher.stored_fields(d)
            mine = queries._row_record(r, row.id)
            if row.source_kind in ("bib", "csl", "table"):
                assert mine is None          # only the index knows where its abstract ends
                assert stored["line_end"] > stored["line_start"]
                continue
            made += 1
            got_row, rel, text, plain, page = mine
            assert stored["kind"] == "record" and stored["section"] == "record"
            assert (got_row.id, got_row.source_line, got_row.source_line, page) == \
                (stored["paper_id"], stored["line_start"], stored["line_end"], stored.get("page"))
            assert queries._path(r, rel) == queries._path(r, stored["path"])
            assert text == queries._text(r, stored) and plain == " ".join(text.split())
        assert made == 24


def _hits(library, q):
    return [(h.paper_id, h.key, h.title, h.path, h.line_start, h.line_end, h.page, h.section, h.score,
             h.snippet, h.text) for h in library.search(q, limit=20, per_paper=3)]


def test_the_hits_of_record_candidates_are_those_of_their_stored_records(library, monkeypatch):
    queries_ = ["camera depth", "Study 3", "Study 7 camera", "point cloud robot", "lone entry"]
    got = {q: _hits(library, q) for q in queries_}
    # records of paper texts among the hits (made from their rows)
    assert any(h[7] == "record" and h[3].endswith(".txt") for hits in got.values() for h in hits)
    monkeypatch.setattr(queries, "_row_record", lambda r, pid: None)     # every record read
    monkeypatch.setattr(fast.SearchCache, "made_records", lambda self, table: {})   # none kept
    for q in queries_:
        assert got[q], q
        assert got[q] == _hits(library, q)


def test_word_masks_are_the_words_each_passage_has(library):
    store = library.stores[0]
    rnd = random.Random(1)
    with store.reading() as r:
        searcher = r.searcher
        for _ in range(5):
            words = fast.query_words(r.schema, rnd.sample(WORDS, 3))
            scores, masks = r.cache.passage_scores(searcher, words, {"body": 1.0, "abstract": 2.0})
            # what each word's lists hold, passage by passage (global docnums)
            want = {}
            for wi, pairs in enumerate(words):
                for field, text in pairs:
                    if field not in fast.PASSAGE_FIELDS:
                        continue
                    for seg, leaf, offset in r.cache.segments(searcher):
                        for d in seg.postings(leaf, field, text)[1]:
                            want[d + offset] = want.get(d + offset, 0) | (1 << wi)
            assert set(want) == set(scores)
            docs = list(scores)
            rnd.shuffle(docs)
            half = docs[:len(docs) // 2]
            masks.prefetch(half)
            assert all(masks[d] == want[d] for d in docs)         # prefetched and one by one
            assert masks.get(max(want) + 10_000) is None


def test_the_best_passages_masks_are_those_their_lists_give(library):
    """PassageMasks.best: the passages _largest ranks best, with the words each has as its
    words' lists say (found as the scores were summed, not from the lists again)."""
    store = library.stores[0]
    rnd = random.Random(3)
    with store.reading() as r:
        searcher = r.searcher
        for k in (1, 2, 3, 5):
            words = fast.query_words(r.schema, rnd.sample(WORDS, k))
            scores, _ = r.cache.passage_scores(searcher, words, {"body": 1.0, "abstract": 2.0})
            for n in (1, 7, 40, len(scores), len(scores) + 5):
                scores, masks = r.cache.passage_scores(searcher, words, {"body": 1.0, "abstract": 2.0})
                listed = fast.PassageMasks(masks._found)            # from the lists, one by one
                top = masks.best(scores, n)
                assert top == queries._largest(scores, n)
                assert set(masks) == set(top)
                assert all(masks[d] == listed[d] for d in top)
                assert all(listed[d] == masks[d] for d in scores)          # the others asked after
        # equal scores: the first scored comes first
        scores, masks = r.cache.passage_scores(searcher, fast.query_words(r.schema, WORDS[:2]), {})
        for d in scores:
            scores[d] = 1.0
        assert masks.best(scores, 5) == list(scores)[:5]


def test_the_nth_largest_score_is_the_sorted_ones(library):
    rnd = random.Random(7)
    for size in (1, 5, 200, 1600, 1601, 9000):
        for n in (1, 3, 50, 200):
            if n > size:
                continue
            for spread in (3, 1000):          # many equal scores, then few
                values = [rnd.randrange(spread) / 7 for _ in range(size)]
                assert fast.nth_largest(list(values), n) == sorted(values)[-n]
    # every 4th score is the guess's sample: high ones only there make it too high (all sorted)
    values = [0.0] * 2000
    values[0:400:4] = [9.0] * 100
    assert fast.nth_largest(list(values), 200) == sorted(values)[-200] == 0.0
    # ... every 16th of many
    values = [0.0] * 6400
    values[0:1600:16] = [9.0] * 100
    assert fast.nth_largest(list(values), 200) == sorted(values)[-200] == 0.0
    scores = dict(enumerate(values))
    assert queries._largest(scores, 200) == sorted(scores, key=lambda d: -scores[d])[:200]


def test_stored_documents_read_lately_are_the_index_s(library, monkeypatch):
    store = library.stores[0]
    with store.reading() as r:
        monkeypatch.setattr(r.cache.stored, "most", 5)
        n = r.searcher.doc_count_all()
        stored = r.cache.stored_of(r.searcher)
        for d in list(range(n)) + list(range(n - 1, -1, -3)):       # each once, then some again
            assert stored(d) == r.searcher.stored_fields(d)
            assert len(r.cache.stored) <= 5
        assert stored(n - 1) is stored(n - 1)                            # kept
