"""Bounded-work search (core/index/whoosh/fast.py): exact where it claims to be, side files that
follow Whoosh's segments (kept by the store, apart from Whoosh's files), no deleted passage,
snippets; the store owns every file of its directory and lets go of them when closed."""
import gc
import os
import random
import re

import pytest

from fixtures.small_topk import TOPK, WORDS as FILLER, small_library, use_small_topk
from paperlens.core.index.whoosh import fast
from paperlens.core.index.whoosh.fast import Snippets
from paperlens.core.library import Library


def _paper(i: int, rnd: random.Random, title: str = "") -> str:
    title = title or f"Study {i} of " + " ".join(rnd.sample(FILLER, 3))
    paras = []
    for p in range(3):
        words = [rnd.choice(FILLER) for _ in range(rnd.randint(40, 90))]
        # "model" in every passage, a different number of times: a common word with a ranking
        for k in range((i * 7 + p * 3) % 11 + 1):
            words.insert(rnd.randrange(len(words)), "model")
        paras.append(f"{p + 1}. Section {p + 1}\n" + " ".join(words) + ".")
    return f"{title}\nAda Writer{i}\nAbstract\nWe study things number {i} with care.\n\n" + "\n\n".join(paras) + "\n"


@pytest.fixture()
def library(tmp_path, monkeypatch):
    rnd = random.Random(3)
    texts = {f"p{i:02d}.txt": _paper(i, rnd) for i in range(30)}
    texts["target.txt"] = (   # its last passage is the best one for "model"
        _paper(99, rnd, title="Tubular Structure Segmentation Using Model Networks")
        + "\n4. Models\n" + "model " * 30 + "networks.\n")
    return small_library(monkeypatch, tmp_path, texts)


def _side_files(lib):
    return sorted(p.name for p in lib.stores[0].side_dir.glob("*" + fast.SUFFIX))


def _large_segments(lib, least: int) -> list[str]:
    """Side file names the store must have: one per segment of at least ``least`` documents."""
    reader = lib.stores[0].searcher().reader()
    return sorted(leaf.segment().segment_id() + fast.SUFFIX for leaf, _ in reader.leaf_readers()
                  if leaf.doc_count_all() >= least)


def test_a_common_word_ranks_exactly_like_whoosh_bm25(library):
    from whoosh.query import Term

    lib, _ = library
    store = lib.stores[0]
    assert len(_side_files(lib)) == 1 and _side_files(lib) == _large_segments(lib, 4 * TOPK)
    searcher = store.searcher()
    assert searcher.doc_frequency("body", "model") > TOPK     # so the side file's list is used
    words = fast.query_words(store.ix().schema, ["model"])
    with store.reading() as reading:
        scores, _ = reading.cache.passage_scores(searcher, words, {"body": 1.0})
    ours = sorted(scores.values(), reverse=True)[:TOPK]
    theirs = [h.score for h in searcher.search(Term("body", "model"), limit=TOPK)]
    assert len(ours) == len(theirs) == TOPK
    assert ours == pytest.approx(theirs, rel=0.02)


def test_a_words_document_frequency_is_whooshs(library):
    """queries._prune ranks a long query's words by their document frequency, read from the
    side files' headers and the lists read lately instead of a term lookup per segment."""
    lib, folder = library
    store = lib.stores[0]
    (folder / "target.txt").write_text("Tubular Things\nAda Writer\nAbstract\nModel data.\n", encoding="utf-8")
    lib.update_paths([str(folder / "target.txt")])          # a second segment, deletions in the first
    lib.search("model data tubular", limit=5)                 # some lists read (kept)
    with store.reading() as r:
        terms = [t.decode() if isinstance(t, bytes) else t for t, _ in r.searcher.reader().iter_field("body")]
        assert len(r.cache.segments(r.searcher)) == 2 and len(terms) > 20
        for t in terms + ["model", "nowhere"]:
            assert r.cache.doc_frequency(r.searcher, "body", t) == r.searcher.doc_frequency("body", t), t


def test_a_words_postings_read_at_once_are_whooshs(library):
    """fast.term_postings (one look-up, the postings read at once) gives what Whoosh's
    reader and matcher give, word by word, in a segment with deletions and without; a word
    of no segment, a field the schema does not have, the same."""
    lib, folder = library
    store = lib.stores[0]
    (folder / "target.txt").write_text("Tubular Things\nAda Writer\nAbstract\nModel data.\n", encoding="utf-8")
    lib.update_paths([str(folder / "target.txt")])          # a second segment, deletions in the first
    with store.reading() as r:
        leaves = fast._leaves(r.searcher.reader())
        assert len(leaves) == 2 and leaves[0][0].has_deletions()
        seen = 0
        for leaf, _ in leaves:
            for field in ("abstract", "body", "title", "paper_id", "kind"):
                words = [t.decode() if isinstance(t, bytes) else t for t, _ in leaf.iter_field(field)]
                for w in words + ["nowhere"]:
                    df = leaf.doc_frequency(field, w)
                    want = (df, *fast.raw_postings(leaf, field, w)) if df else (0, [], [])
                    got = fast.term_postings(leaf, field, w)
                    assert (got[0], list(got[1]), list(got[2])) == (want[0], list(want[1]), list(want[2])), \
                        (field, w)
                    seen += bool(df)
            with pytest.raises(Exception) as theirs:
                leaf.doc_frequency("nofield", "model")
            with pytest.raises(type(theirs.value)):
                fast.term_postings(leaf, "nofield", "model")
        assert seen > 100


def test_a_query_words_analysis_is_remembered_within_its_bound(monkeypatch):
    from paperlens.core.index.whoosh.schema import make_schema

    words = ["Semi-supervised", "model", "csl-1", "Müller", "the", "深度学习"]
    schemas = [make_schema(), make_schema()]
    fast._ANALYSED.clear()
    first = [fast.query_words(s, words) for s in schemas]
    assert first[0] == first[1] and len(fast._ANALYSED) == 2 * len(words)      # one entry a schema
    assert [fast.query_words(s, words) for s in schemas] == first              # remembered
    for s in schemas:
        assert fast.runs(s, words) == [(w.lower(), n) for w in words
                                       if (n := len({t.text for t in s["body"].analyzer(w, mode="query")})) > 1]
    monkeypatch.setattr(fast, "ANALYSED", 3)
    fast._ANALYSED.clear()
    assert fast.query_words(schemas[0], words) == first[0] and len(fast._ANALYSED) <= 3


def test_a_title_of_common_words_finds_its_paper(library):
    lib, folder = library
    hits = lib.search("Tubular Structure Segmentation Using Model Networks", limit=5)
    top = hits[0]
    assert top.path == str(folder / "target.txt")
    # the passage "model model ... networks." of section 4, its matched words marked
    lines = (folder / "target.txt").read_text(encoding="utf-8").split("\n")
    assert top.section == "4. Models"
    assert top.line_start == top.line_end == lines.index("model " * 30 + "networks.")     # 0-based
    assert top.snippet.startswith("**model** **model** ") and top.snippet.endswith(" **model** **networks**.")
    assert set(re.findall(r"\*\*([^*]+)\*\*", top.snippet)) == {"model", "networks"}
    for window in top.snippet.replace("**", "").split(" … "):
        assert window in top.text


def test_changed_and_merged_segments_keep_search_right(library):
    lib, folder = library
    store = lib.stores[0]
    before = _side_files(lib)
    assert lib.search("model", limit=1)[0].path == str(folder / "target.txt")
    # the target paper changes: its old passages are deleted in the large segment
    (folder / "target.txt").write_text("Tubular Things\nAda Writer\nAbstract\nNothing about it now.\n",
                                       encoding="utf-8")
    lib.update_paths([str(folder / "target.txt")])
    assert _side_files(lib) == before                   # the new segment is small: no side file
    for h in lib.search("model", limit=50, per_paper=5):
        assert not h.path.endswith("target.txt"), "a deleted passage came back"
    assert lib.search("Tubular Things")[0].path.endswith("target.txt")
    # a merge into one large segment (by Whoosh's own writer): the store removes the side file
    # of the segment merged away and writes the new one
    ix = store.ix()
    ix.writer().commit(optimize=True)
    assert _side_files(lib) == before
    store._side_files(store.searcher().reader())
    after = _side_files(lib)
    assert after == _large_segments(lib, 1) and len(after) == 1 and after != before
    assert not any(p.name.endswith(fast.SUFFIX) for p in store.whoosh_dir.iterdir())
    assert all(not h.path.endswith("target.txt") for h in lib.search("model", limit=50, per_paper=5))
    assert lib.search("Tubular Things")[0].path.endswith("target.txt")


def test_parallel_rebuild_writes_side_files_in_the_workers(tmp_path, monkeypatch):
    use_small_topk(monkeypatch, in_this_process=False)      # the workers write the side files
    folder = tmp_path / "lib"
    folder.mkdir()
    rnd = random.Random(5)
    for i in range(60):
        (folder / f"p{i:02d}.txt").write_text(_paper(i, rnd), encoding="utf-8")
    lib = Library([folder], str(tmp_path / "ix"), workers=2)
    (report,) = lib.update()
    assert report.papers_total == 60
    big = _large_segments(lib, 4 * TOPK)
    assert len(big) >= 1 and big == _side_files(lib)


def test_snippets_bold_stemmed_words_in_two_windows():
    from paperlens.core.index.whoosh.analysis import mixed_analyzer

    an = mixed_analyzer()
    terms = {t.text for t in an("segmentation tubular", mode="query")}
    text = ("Segmenting tubular structures is hard. " + "filler words here " * 30
            + "Later the segmentations improve. A segmentwise thing.")
    out = Snippets(terms, an)(text)
    assert "**Segmenting**" in out and "**tubular**" in out and "**segmentations**" in out
    assert " … " in out and "**segmentwise**" not in out      # another stem: not a match
    assert Snippets(terms, an)("nothing relevant") == ""
    zh = Snippets({"医学", "图像"}, an)("深度学习模型已经成为医学图像分割的主要方法")
    assert zh == "深度学习模型已经成为**医学****图像**分割的主要方法"


def test_a_words_terms_are_remembered_per_analyzer_within_their_bound(monkeypatch):
    from types import SimpleNamespace

    from paperlens.core.index.whoosh.analysis import mixed_analyzer

    class Upper:                   # another analyzer: its words upper case
        def __call__(self, word, mode=""):
            return [SimpleNamespace(text=w.upper()) for w in word.split("-")]

    words = ["Segmentations", "models", "Müller", "the", "Semi-supervised"]
    analyzers = [mixed_analyzer(), Upper()]
    fast._WORD_TERMS.clear()
    want = [[tuple(t.text for t in an(w, mode="query")) for w in words] for an in analyzers]
    assert want[0] != want[1]
    for _ in range(2):             # made, then remembered: each analyzer's own
        assert [[fast.word_terms(an, w) for w in words] for an in analyzers] == want
    assert len(fast._WORD_TERMS) == 2 * len(words)
    monkeypatch.setattr(fast, "WORD_TERMS", 3)
    fast._WORD_TERMS.clear()
    assert [fast.word_terms(analyzers[0], w) for w in words] == want[0] and len(fast._WORD_TERMS) <= 3


def _open_in(folder) -> list[str]:
    """What this process has mapped or open under ``folder``."""
    folder = str(folder)
    out = []
    with open("/proc/self/maps", encoding="utf-8") as f:
        out += [line.strip() for line in f if folder in line]
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(folder):
            out.append(f"fd {fd} -> {target}")
    return out


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc")
def test_close_lets_go_of_every_file_of_the_index(library):
    """Segments are mapped while the index is read, side files open: closing the store frees
    them (the search caches were module globals that close never emptied)."""
    lib, _ = library
    store = lib.stores[0]
    assert lib.search("model networks") and lib.search('"model networks" OR tubular')
    lib.warm_search()
    assert store.paper(store.table.rows[0].id) is not None
    held = _open_in(store.index_dir)
    assert any(".seg" in h for h in held) and any(fast.SUFFIX in h for h in held), held
    lib.close()
    gc.collect()      # (a search's leftovers in reference cycles, not the store's caches)
    assert _open_in(store.index_dir) == []
    assert lib.search("model")            # and it opens again when searched


def test_every_file_of_the_index_directory_is_the_stores(library, tmp_path):
    lib, folder = library
    store = lib.stores[0]
    (folder / "new.txt").write_text(_paper(77, random.Random(1)), encoding="utf-8")
    lib.update_paths([folder / "new.txt"])
    lib.update(force_rebuild=True)
    store.views_dir().mkdir()
    names = os.listdir(store.index_dir)
    assert {"whoosh", "topk", "meta.json", "table.json", "texts"} <= set(names)
    assert all(store.owns(name) for name in names), names
    assert not store.owns("notes.txt") and not store.owns("whoosh.new-x")
    # Whoosh's folder holds Whoosh's files only
    assert all(re.fullmatch(r"MAIN_\w+\.seg|_MAIN_\d+\.toc|MAIN_WRITELOCK", p.name)
               for p in store.whoosh_dir.iterdir()), list(store.whoosh_dir.iterdir())


def test_the_side_file_says_which_paper_each_document_belongs_to(library, monkeypatch):
    """Reading each paper's paper_id postings was ~3 CPU-s of a 10k server's start: the side
    file written with the segment carries the answer, the same as reading the postings."""
    lib, _ = library
    store = lib.stores[0]
    assert _side_files(lib)
    with store.reading() as r:
        for leaf, _ in fast._leaves(r.searcher.reader()):
            path = fast.side_path(store.side_dir, leaf.segment().segment_id())
            if not path.exists():
                continue
            names, of, docs = fast._Side(path).paper_ordinals(leaf.doc_count_all())
            assert (names, list(of), list(docs)) == tuple_lists(fast.paper_ordinals(leaf))
    read = []
    real = fast.raw_postings
    monkeypatch.setattr(fast, "raw_postings", lambda leaf, field, text: read.append(field) or real(leaf, field, text))
    again = Library([lib.stores[0].folder], str(store.index_dir.parent), workers=1)
    assert again.search("tubular structure segmentation")[0].path.endswith("target.txt")
    assert "paper_id" not in read
    again.close()


def tuple_lists(got):
    names, of, docs = got
    return names, list(of), list(docs)


def test_paper_fields_remember_only_the_values_that_repeat(library, monkeypatch):
    """Building the paper-level postings analyses each title, author list and key once (they
    are nearly always a paper's own): only first authors, years and venues go through the memo
    (the memo of every title added 4.5 MB to the server's peak RSS at 10k papers); the
    postings are the same either way."""
    lib, _ = library
    store = lib.stores[0]
    memos = []
    real = fast.PaperFields._analyse

    def spy(self, field, value, memo):
        memos.append(memo)
        return real(self, field, value, memo)

    monkeypatch.setattr(fast.PaperFields, "_analyse", spy)
    schema = store.searcher().schema
    pf = fast.PaperFields({f: an for f in fast.PAPER_FIELDS if (an := fast._analyzer(schema, f)) is not None})
    pf.sync(store.table)
    remembered = {field for memo in memos for field, _ in memo}
    assert remembered and remembered <= {"first", "year", "venue"}
    assert pf.plist("title", "tubular")       # the target paper's title word
    monkeypatch.setattr(fast.PaperFields, "MEMO_FIELDS", frozenset(fast.PAPER_FIELDS))
    everything = fast.PaperFields(pf.analyzers)
    everything.sync(store.table)
    assert everything.postings == pf.postings and everything._single == pf._single


def test_what_was_read_of_a_segment_is_let_go_with_it():
    """The lists and stored documents read lately are kept in one LRU per store (core/lru.py),
    keyed by segment first: a segment merged away takes its entries with it, and only them."""
    kept = fast.short_lists(4)
    for key in [("s1", "body", "a"), ("s2", "body", "a"), ("s1", 7), ("s3", 1)]:
        kept.put(key, key)
    kept.get(("s1", "body", "a"))                       # used: the last to go
    kept.put(("s4", 2), "new")                          # one too many: the least recently used goes
    assert list(kept) == [("s1", 7), ("s3", 1), ("s1", "body", "a"), ("s4", 2)]
    fast.forget_segment(kept, "s1")
    assert list(kept) == [("s3", 1), ("s4", 2)] and kept.get(("s1", 7)) is None
    assert kept.forget(lambda key: False) == 0 and len(kept) == 2


def test_records_made_from_the_table_are_kept_for_that_table_only(library, tmp_path):
    """SearchCache.made_records: what a search made of the rows of one table (an update or a
    reload makes another table: its records are made again, a changed title shown changed)."""
    lib, _ = library
    cache = fast.SearchCache(tmp_path / "side")
    t1, t2 = lib.stores[0].table, object.__new__(type(lib.stores[0].table))
    made = cache.made_records(t1)
    assert made == {}
    made["a"] = ("row", "a.txt", "record of a")
    assert cache.made_records(t1) is made
    assert cache.made_records(t2) == {}          # another table (an update, a reload): made again
    assert cache.made_records(t1) == {}
    cache.close()
    assert cache.made_records(t1) == {}


def test_the_papers_record_documents_are_kept_for_one_searcher(library):
    """SearchCache.paper_docs: one PaperDocs while the searcher is the same; a commit (here a
    changed paper: its old documents deleted) gives another, which finds its new record."""
    lib, folder = library
    store = lib.stores[0]
    target = folder / "target.txt"
    with store.reading() as r:
        docs = r.cache.paper_docs(r.searcher)
        assert r.cache.paper_docs(r.searcher) is docs
        pid = next(row.id for row in r.table.rows if row.source.endswith("target.txt"))
        old = docs.record(pid)
        assert old is not None and docs.has_passages(pid)
    target.write_text("Tubular Things\nAda Writer\nAbstract\nNothing about it now.\n", encoding="utf-8")
    lib.update_paths([str(target)])
    with store.reading() as r:
        now = r.cache.paper_docs(r.searcher)
        assert now is not docs
        row = next(row for row in r.table.rows if row.source.endswith("target.txt"))
        d = now.record(row.id)
        assert d is not None and d != old and r.searcher.stored_fields(d)["kind"] == "record"
        assert docs.record(pid) == old        # (the old searcher's: as it was)


@pytest.mark.parametrize("query", ["model", "Tubular Structure Segmentation Using Model Networks",
                                   "study network depth camera"])
def test_a_papers_score_and_mask_in_one_call_are_those_of_get(library, query, monkeypatch):
    """PaperScores.pair: the score and word mask of any paper, found by the rarer words, by
    the common ones only (computed when asked for), or by none, as ``get`` gives them."""
    monkeypatch.setattr(fast, "COMMON_PAPERS", 3)        # common words at this size: lazy papers
    monkeypatch.setattr(fast, "EXACT_PAPERS", 2)
    lib, _ = library
    store = lib.stores[0]
    with store.reading() as r:
        words = fast.query_words(r.schema, query.split())
        score, mask = fast.SearchCache(store.side_dir).paper_fields(r.table, r.schema).scores(
            words, {"title": 2.0})
        pids = [row.id for row in r.table.rows] + ["no such paper"]
        assert {pid: score.pair(mask, pid) for pid in pids} == {pid: (score.get(pid, 0.0), mask.get(pid, 0))
                                                                for pid in pids}
        assert any(m for _, m in (score.pair(mask, pid) for pid in pids))
        if query != "model":      # papers of the common words only, scored when asked for: some
            assert any(pid not in dict(score) and mask.get(pid, 0) for pid in pids)


def test_a_changed_title_shows_in_its_record_hit_after_an_update(library):
    """The records made from the paper table are kept for the queries to come
    (SearchCache.made_records): after an update the record hit of a changed paper is made from
    its new row (its text and snippet say the new title), not kept from the table before."""
    lib, folder = library
    p = folder / "p05.txt"
    text = p.read_text(encoding="utf-8")
    title = text.split("\n", 1)[0]

    def record_of(query: str):
        return [h for h in lib.search(query, limit=50, per_paper=10) if h.path == str(p) and h.section == "record"]

    p.write_text(text.replace(title, "Quorum Lattices of Zyxwv Sensors", 1), encoding="utf-8")
    lib.update_paths([str(p)])
    (hit,) = record_of("Quorum Lattices Zyxwv")
    assert "Quorum Lattices of Zyxwv Sensors" in hit.text and "Revisited" not in hit.text
    p.write_text(text.replace(title, "Quorum Lattices of Zyxwv Sensors Revisited", 1), encoding="utf-8")
    lib.update_paths([str(p)])
    (hit,) = record_of("Quorum Lattices Zyxwv")
    assert "Sensors Revisited" in hit.text and "**Zyxwv** Sensors Revisited" in hit.snippet


def test_a_search_reads_its_papers_word_masks_as_its_scores_were_made(tmp_path):
    """PaperFields.scores gives the masks of the papers found lazily (PaperMasks: read from the
    word lists when asked for). An update synced meanwhile (another search's thread, or the
    warm-up after an update) must not change them under a search in flight: its lists are
    changed on copies, and a found paper's mask still says both words its score counted."""
    import dataclasses

    from paperlens.core.index.table import PaperTable
    from paperlens.core.index.whoosh import queries

    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(8):
        (folder / f"p{i}.txt").write_text(f"Zebra Quokka Study {i}\nAl Writer{i}\nAbstract\nzebra words.\n\n"
                                          f"1. A\ntext {i}.\n", encoding="utf-8")
    lib = Library([folder], str(tmp_path / "ix"), workers=1)
    lib.update()
    try:
        with lib.stores[0].reading() as r:
            pf = r.cache.paper_fields(r.table, r.schema)
            scores, masks = pf.scores(fast.query_words(r.schema, ["zebra", "quokka"]), queries.FIELD_BOOSTS)
            pid = next(iter(scores))
            # a newer table, where the paper's title lost "quokka"
            pf.sync(PaperTable([dataclasses.replace(row, title=row.title.replace("Quokka", "Walrus"))
                                if row.id == pid else row for row in r.table.rows]))
            assert masks[pid] == 0b11
            _, now = pf.scores(fast.query_words(r.schema, ["zebra", "quokka"]), queries.FIELD_BOOSTS)
            assert now.get(pid, 0) != 0b11          # (the newer table's)
    finally:
        lib.close()
