"""references.jsonl keeps a paper's reference list as one list per field (columns); lines of
an index written before (a list of objects) are read as well, to the same References, and the
citation graph built from either shape is the same."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperlens.core import graph
from paperlens.core.index.whoosh.store import (_BAD, IndexStore, _LazyLine, _references, reference_columns,
                                               reference_line)
from paperlens.core.library import Library
from paperlens.core.models import Reference

from test_graph_evidence import CITING_HEAD, library_of
from test_graph_update import BIB

REFS = [
    Reference("1", title="Attention Is All You Need", year="2017", authors="A. Vaswani, N. Shazeer.",
              after=". NeurIPS, 2017."),
    Reference("2", title="Deep Residual Learning for Image Recognition", doi="10.1109/cvpr.2016.90",
              authors="K. He.", after=". CVPR.", years="2015 2016"),
    Reference("3", title="Language Models are Few-Shot Learners", arxiv="2005.14165", year="2020",
              authors=""),
]


def _objects(refs: list[Reference]) -> list[dict]:
    """A list as an index written before the columns kept it (an object per entry)."""
    out = []
    for r in refs:
        d = {k: getattr(r, k) for k in ("label", "title", "doi", "arxiv", "year", "after", "years")
             if getattr(r, k)}
        if r.authors is not None:
            d["authors"] = r.authors
        out.append(d)
    return out


def test_a_line_is_one_list_per_field_and_both_shapes_read_to_the_same_references():
    line = json.loads(reference_line(REFS))
    assert line == {"label": ["1", "2", "3"],
                    "title": [r.title for r in REFS],
                    "doi": ["", "10.1109/cvpr.2016.90", ""],
                    "arxiv": ["", "", "2005.14165"],
                    "year": ["2017", "", "2020"],
                    "authors": ["A. Vaswani, N. Shazeer.", "K. He.", ""],
                    "after": [". NeurIPS, 2017.", ". CVPR.", ""],
                    "years": ["", "2015 2016", ""]}
    assert _references(line) == REFS == _references(_objects(REFS))
    assert reference_columns(line) == reference_columns(_objects(REFS))
    # fields left out: empty in every entry; the author list: not known (an older index)
    assert _references({"label": ["1"], "title": ["T"]}) == [Reference("1", title="T", authors=None)]
    assert _references({}) == [] == _references([])
    old = [{"label": "1", "title": "T"}, {"label": "2", "title": "U", "authors": "X."}]
    assert [r.authors for r in _references(old)] == [None, "X."]


@pytest.mark.parametrize("value", [
    {"label": ["1", "2"], "title": ["T"]},              # columns of unequal length
    {"label": ["1"], "title": [7]},                     # not a string
    {"label": ["1"], "title": [None]},                  # null where a string is kept
    {"label": "1"},                                     # not a list
    {"label": ["1"], "text": ["T"]},                    # not a field the line keeps
    {"label": ["1"], "authors": [["X."]]},
    [{"label": "1", "title": 7}],
    ["1"],
    "1",
])
def test_a_malformed_line_is_not_read(value):
    assert reference_columns(value) is _BAD and _references(value) is _BAD


CITING = CITING_HEAD + """[1] L. Lamport. Paxos made simple. ACM SIGACT News, 32(4):18-25, 2001.
[2] A. Nobody. An unrelated study of something else entirely. 2010.
[3] D. Ongaro and J. Ousterhout. In search of an understandable consensus algorithm. In USENIX ATC, 2014.
[4] F. Chang. A storage system. OSDI, 2006. doi:10.1145/1365815.1365816
"""


def _library(tmp_path: Path) -> Library:
    return library_of(tmp_path, BIB, CITING)


def _links(lib) -> set:
    g = graph.build(lib)        # (from scratch: an update would keep the unchanged lists' matches)
    return {(a, label, b) for a, cited in g.cited_by_label.items() for label, b in cited.items()}


def test_the_graph_of_lines_of_either_shape_is_the_same(tmp_path: Path, monkeypatch):
    lib = _library(tmp_path)
    try:
        store = lib.stores[0]
        path = store.index_dir / "references.jsonl"
        columns = path.read_text(encoding="utf-8")
        pid, _, data = columns.rstrip("\n").partition("\t")
        assert json.loads(data)["label"] == ["1", "2", "3", "4"]
        links = _links(lib)
        assert sorted(label for _, label, _ in links) == ["1", "3", "4"]
        objects = [{k: v for k, v in zip(json.loads(data), values) if v or k == "authors"}
                   for values in zip(*json.loads(data).values())]
        path.write_text(pid + "\t" + json.dumps(objects) + "\n", encoding="utf-8")
        assert _links(lib) == links
        assert dict(store.reference_lines())[pid] == _references(json.loads(data))
        assert not store._side_damage
        # and the same read as References (how the graph reads a store that cannot give columns)
        monkeypatch.delattr(_LazyLine, "columns")
        assert _links(lib) == links
    finally:
        lib.close()


def test_a_damaged_columns_line_is_skipped_by_the_graph_and_marks_the_index(tmp_path: Path):
    lib = _library(tmp_path)
    try:
        store = lib.stores[0]
        path = store.index_dir / "references.jsonl"
        good = path.read_text(encoding="utf-8")
        assert _links(lib)
        pid = good.partition("\t")[0]
        bad = {"label": ["1", "2"], "title": ["Paxos made simple"], "authors": ["L. Lamport.", ""]}
        path.write_text(pid + "\t" + json.dumps(bad) + "\n", encoding="utf-8")
        assert _links(lib) == set()
        assert store.damaged == "references.jsonl damaged (line 1)"
    finally:
        lib.close()


def test_an_index_store_reads_its_lines_lazily_in_both_ways(tmp_path: Path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "citing.txt").write_text(CITING, encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    try:
        store.update()
        ((pid, digest, read),) = list(store.reference_lines_lazily())
        refs = read()
        assert [r.label for r in refs] == ["1", "2", "3", "4"]
        columns = read.columns()
        assert list(columns[0]) == ["1", "2", "3", "4"] and list(columns[1]) == [r.title for r in refs]
        assert dict(store.reference_lines()) == {pid: refs}
    finally:
        store.close()
