"""What search keeps in memory for 10k papers stays compact and right: the paper table shares the
strings that repeat, the paper-level postings keep no per-paper tokens and no dict for a word of
one paper, and an incremental sync gives exactly what a fresh one gives."""
import dataclasses
import random

import pytest

from paperlens.core.index.table import PaperTable, Row
from paperlens.core.index.whoosh import fast
from paperlens.core.index.whoosh.schema import FIELD_BOOSTS, make_schema

WORDS = "deep image model learning tubular quokka graph point cloud network".split()


def _row(i: int, rnd: random.Random, title: str = "") -> Row:
    return Row(id=f"p{i}", key=f"writer{i}key", title=title or " ".join(rnd.sample(WORDS, 3)),
               surnames=[f"Writer{i % 7}", "Müller"], year=str(2000 + i % 5), venue="Journal of Things",
               source="/lib/library.bib", source_line=i, source_kind="bib", file="/lib/library.bib")


def test_a_loaded_table_shares_repeated_strings(tmp_path):
    rnd = random.Random(1)
    table = PaperTable([_row(i, rnd) for i in range(20)])
    table.save(tmp_path / "table.json", base="/lib")
    rows = PaperTable.load(tmp_path / "table.json", base="/lib").rows
    assert [dataclasses.astuple(r) for r in rows] == [dataclasses.astuple(r) for r in table.rows]
    a, b = rows[3], rows[11]
    assert a.source is b.source and a.file is b.source      # one string, not one per row
    assert a.venue is b.venue and a.surnames[1] is b.surnames[1] and a.source_kind is b.source_kind
    assert not hasattr(a, "__dict__")                         # slots: no dict per row


def _fields(table):
    schema = make_schema()
    pf = fast.PaperFields({f: an for f in fast.PAPER_FIELDS if (an := fast._analyzer(schema, f)) is not None})
    pf.sync(table)
    return pf, schema


def _all_scores(pf, schema, table):
    out = {}
    for q in ["tubular quokka", "deep learning", "writer3key", "müller writer2", "journal things 2003",
              "renamed", "writer4key", "writer8key"]:
        score, mask = pf.scores(fast.query_words(schema, q.split()), FIELD_BOOSTS)
        out[q] = {r.id: (round(score.get(r.id, 0.0), 9), mask.get(r.id, 0)) for r in table.rows}
    return out


def test_an_incremental_sync_gives_what_a_fresh_one_gives():
    rnd = random.Random(2)
    rows = [_row(i, rnd) for i in range(120)]
    pf, schema = _fields(PaperTable(rows))
    # a few papers change (each keeps its number of words: the averages stay those of a fresh
    # sync), one goes and one comes
    changed = [dataclasses.replace(r) for r in rows]
    changed[5].key = "writer4key"                 # a word of one paper becomes a word of two
    changed[3].key = "writer8key"                 # ... and one of none
    changed[7].title = "renamed tubular thing"
    del changed[9]
    changed.append(_row(500, rnd, title="quokka graph point"))
    changed[-1].key = "writer9key"
    table = PaperTable(changed)
    pf.sync(table)
    fresh, _ = _fields(table)
    assert pf._avg == fresh._avg
    assert _all_scores(pf, schema, table) == _all_scores(fresh, schema, table)
    keys = set(pf.postings) | set(pf._single) | set(fresh.postings) | set(fresh._single)
    assert {k: pf.plist(*k) for k in keys} == {k: fresh.plist(*k) for k in keys}
    assert pf.plist("key", "writer4key") == {"p4": pytest.approx(1.0, abs=1.2), "p5": pytest.approx(1.0, abs=1.2)}
    assert pf.plist("key", "writer3key") is None and set(pf.plist("key", "writer8key")) == {"p3", "p8"}
    assert all(len(d) > 1 for d in fresh.postings.values())        # one paper: no dict
    assert not hasattr(pf, "_tokens")
