"""A changed file's update commits without merging Whoosh's segments (only those it emptied are
dropped), then merges the small segments in a commit of its own when Whoosh's policy says they
are due (store.py): the change is searchable before the merge, and segments do not pile up."""
from __future__ import annotations

from paperlens.core.index.search import search
from paperlens.core.index.whoosh import store as store_mod
from paperlens.core.index.whoosh.store import IndexStore


def _text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval. The "
            f"{word} method ranks passages well.\n\n1. Introduction\nReaders search libraries.\n")


def _segments(store: IndexStore) -> int:
    with store.using() as searcher:
        return len(searcher.reader().leaf_readers())


def test_changed_files_are_searchable_and_small_segments_are_merged(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(3):
        (lib / f"p{i}.txt").write_text(_text(f"Paper number {i} on ranking", f"seed{i}"), encoding="utf-8")
    store = IndexStore(lib, tmp_path / "ix", workers=1)
    store.update()
    merged_after: list[int] = []
    seen_before_merge: list[bool] = []
    real = IndexStore._merge_small_segments

    def merge(self):
        # the change's own commit is searchable before the merge runs
        seen_before_merge.append(bool(search([self], word, limit=3)))
        before = _segments(self)
        real(self)
        if _segments(self) < before:
            merged_after.append(before)

    monkeypatch.setattr(IndexStore, "_merge_small_segments", merge)
    # one file edited again and again: the segment of its previous version is emptied by each
    # edit and dropped by the same commit (the first segment keeps the other files)
    counts = []
    for n in range(6):
        word = f"zq{n}word"
        (lib / "p1.txt").write_text(_text("Paper number 1 on ranking", word), encoding="utf-8")
        report = store.update(only=["p1.txt"])
        assert report.error == "" and report.papers_indexed == 1
        assert [h.path for h in search([store], word, limit=3)] == [str(lib / "p1.txt")]
        counts.append(_segments(store))
    assert counts == [2] * 6 and not merged_after
    # new files, one at a time: their segments are merged when Whoosh's policy says so
    most = 0
    for n in range(14):
        word = f"zq{n}new"
        (lib / f"new{n}.txt").write_text(_text(f"New paper {n} on ranking", word), encoding="utf-8")
        report = store.update(only=[f"new{n}.txt"])
        assert report.error == "" and report.papers_indexed == 1
        assert [h.path for h in search([store], word, limit=3)] == [str(lib / f"new{n}.txt")]
        most = max(most, _segments(store))
    assert all(seen_before_merge) and len(seen_before_merge) == 20
    assert merged_after, "the small segments were never merged"
    assert most <= 12


def test_small_merge_due_follows_whoosh_merge_small():
    class Seg:
        def __init__(self, n):
            self.n = n

        def doc_count_all(self):
            return self.n

    assert not store_mod.small_merge_due([Seg(100000), Seg(44), Seg(44)])
    assert not store_mod.small_merge_due([Seg(170000), Seg(180000)] + [Seg(44)] * 9)
    assert store_mod.small_merge_due([Seg(170000), Seg(180000)] + [Seg(44)] * 11)
