"""The paper table's completion by typed words (core/index/table.py): best score first, then
newest, then by key, whatever the prefix; a one- or two-letter prefix (most of a large library)
is matched once for the next keystrokes."""
import random

from paperlens.core.index.table import PaperTable, Row, year_int

WORDS = "attention sparse probing liu li lin wang zhang deep learning graph retrieval".split()


def _table(n: int = 600) -> PaperTable:
    rnd = random.Random(11)
    rows = []
    for i in range(n):
        name = rnd.choice(["Liu", "Li", "Lin", "Wang", "Zhang", "Alvarez", "Abbott"])
        year = rnd.choice(["2019", "2020", "2021", "", "2021a"])
        rows.append(Row(id=f"p{i}", key=f"{name.lower()}{year[:4]}{rnd.choice(WORDS)}{i % 7}",
                        title=" ".join(rnd.sample(WORDS, 4)), surnames=[name], year=year, venue="",
                        source=f"/lib/p{i}.txt", source_line=0, source_kind="txt", file=""))
    return PaperTable(rows)


def _reference(table: PaperTable, query: str, limit: int):
    """The order before: one sort on (-score, -year, key)."""
    got, total = table.complete(query, limit=10 ** 6)
    scores = {id(r): s for s, r in got}
    rows = sorted((r for _, r in got), key=lambda r: (-scores[id(r)], -(year_int(r.year) or 0), r.key))
    return [r.id for r in rows[:limit]], total


def test_completion_order_is_score_then_newest_then_key():
    table = _table()
    for query in ["a", "l", "li", "lin", "wa", "zhang 2021", "attention", "deep le", "liu2021"]:
        got, total = table.complete(query, limit=25)
        want, want_total = _reference(table, query, 25)
        assert [r.id for _, r in got] == want and total == want_total, query
        scores = [s for s, _ in got]
        assert scores == sorted(scores, reverse=True)


def test_a_short_prefix_is_matched_once():
    table = _table()
    first = table.complete("li", limit=10)
    vocab = table._vocab
    table._vocab = []              # a second match would find nothing now
    try:
        assert table.complete("li", limit=10) == first
        assert table.complete("l", limit=10)[1] == 0     # not kept: matched again (nothing)
    finally:
        table._vocab = vocab


def _brute(table: PaperTable, query: str) -> dict[str, float]:
    """Each row's score for ``query`` worked out from its fields, one row at a time: per typed
    word the best of its tokens that start with the word (the kind's weight, one more when the
    token is the word), summed over the words; rows merged into an entry are left out."""
    import re as _re

    from paperlens.core.index.table import W_KEY, W_SURNAME, W_TITLE, W_YEAR, _STOP, fold

    words = _re.findall(r"[^\W_]+", fold(query).strip())
    out = {}
    for r in table.rows:
        if r.alias_of:
            continue
        tokens = [(fold(r.key), W_KEY)] + [(w, W_SURNAME) for s in r.surnames for w in _re.findall(r"[^\W_]+", fold(s))]
        tokens += [(r.year, W_YEAR)] if r.year else []
        tokens += [(w, W_TITLE) for w in _re.findall(r"[^\W_]+", fold(r.title)) if w not in _STOP]
        total = 0.0
        for word in words:
            best = max((w + (t == word) for t, w in tokens if t.startswith(word)), default=None)
            if best is None:
                break
            total += best
        else:
            out[r.id] = total
    return out


def test_scores_are_those_of_each_rows_own_tokens():
    """A token in several kinds of one row (a surname that is also a title word), a title word
    twice, rows merged into their entry: the score is the best kind's, once."""
    rnd = random.Random(5)
    rows = []
    for i in range(300):
        name = rnd.choice(["Liu", "Li", "Graph", "Deep", "Wang"])
        title = " ".join(rnd.choice(WORDS + ["liu", "graph"]) for _ in range(5))
        rows.append(Row(id=f"p{i}", key=f"{name.lower()}{i % 13}", title=title, surnames=[name, "Lin"],
                        year=rnd.choice(["2019", "2020", "", "1999"]), venue="", source=f"/lib/p{i}.txt",
                        source_line=0, source_kind="txt", file="", alias_of="p0" if i % 10 == 9 else ""))
    table = PaperTable(rows)
    for query in ["l", "li", "liu", "graph", "g 2019", "deep liu", "lin li", "2020", "1", "zz", "liu2 graph"]:
        got, total = table.complete(query, limit=10 ** 6)
        want = _brute(table, query)
        assert {r.id: s for s, r in got} == want and total == len(want), query


def test_an_empty_query_before_the_word_index_lists_the_built_order_and_is_kept():
    early = _table()
    first = early.complete("", limit=5)
    more = early.complete("", limit=12)              # a larger list than the one kept: selected again
    again = early.complete("", limit=7)
    assert not early._built                         # answered without the word index
    built = _table()
    built.ensure_built()
    want, total = built.complete("", limit=12)
    ids = [r.id for _, r in want]
    assert [r.id for _, r in more[0]] == ids and more[1] == total
    assert [r.id for _, r in first[0]] == ids[:5] and [r.id for _, r in again[0]] == ids[:7]
    assert again[0] is not early._few[1]            # a caller's list, not the kept one
