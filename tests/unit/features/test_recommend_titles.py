"""core/recommend.py's titles index: BM25 over titles in memory, kept per library state, built on a
background thread for a large library (a completion never waits for it)."""
from __future__ import annotations

from types import SimpleNamespace

from paperlens.core import recommend


def rows(n: int, title: str = "Paper {n} on sparse retrieval"):
    return [SimpleNamespace(id=f"id{i}", key=f"k{i}", title=title.format(n=i), surnames=["Okafor"], year="2020",
                            source="s", file="") for i in range(n)]


def test_a_large_librarys_titles_are_indexed_in_the_background_and_kept():
    many = rows(recommend.WAIT_BELOW) + rows(1, "Large kernels for convolutional networks")
    assert recommend.title_index(many, wait=False) is None           # the build is started
    recommend._building.join()
    index = recommend.title_index(many, wait=False)
    assert index is not None and recommend.title_index(many) is index
    ctx = recommend.Context(sentence="large kernels help convolutional networks", paragraph="")
    assert recommend.rank(ctx, many)[0].row.title.startswith("Large kernels")
    assert recommend.title_index(rows(5)) is not index                # other rows: another index


def test_while_the_titles_are_indexed_the_other_signals_rank():
    many = rows(recommend.WAIT_BELOW + 1)
    ctx = recommend.Context(sentence="nothing in common", paragraph="", earlier={"k7": 10})
    ranked = recommend.rank(ctx, many, wait=False)
    assert [s.row.key for s in ranked] == ["k7"] and ranked[0].recent
    recommend._building.join()


def test_the_search_is_asked_once_while_the_user_types_in_the_citation():
    library = rows(10)
    asked = []

    def search(query):
        asked.append(query)
        return [SimpleNamespace(key="k3", paper_id="id3", score=2.0, text="Dense passages", page=4)]
    ctx = recommend.Context(sentence="dense passages matter", paragraph="")
    for _ in range(3):
        assert recommend.rank(ctx, library, search=search)[0].row.key == "k3"
    assert asked == ["dense passages matter"]
    recommend.rank(ctx, rows(11), search=search)                     # the library changed
    assert len(asked) == 2
