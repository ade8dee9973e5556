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
