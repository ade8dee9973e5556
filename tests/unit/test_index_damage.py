"""A damaged index repairs itself; odd years order like no year (attack findings 7 and 8).

Every file of the index folder is read as untrusted: a table.json nested 200,000 levels deep
raised RecursionError out of IndexStore() (the server's initialize failed, for good); rows with
fields of other types were served, and hover and completion raised TypeError; a table that did
not load read as an empty library and the next update said nothing had changed.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from paperlens.core.index.whoosh.store import IndexStore
from paperlens.core.index.table import PaperTable, Row, year_int
from paperlens.core.library import Library
from paperlens.core.models import Reference

BIB = """@article{vaswani2017attention, title={Attention Is All You Need},
  author={Vaswani, Ashish and Shazeer, Noam}, year={2017}, journal={NeurIPS},
  doi={10.5555/3295222.3295349}}
@article{smith2020deep, title={Deep Learning of Everything}, author={Smith, John}, year={2020}}
"""

PAPER = """Ranking Passages With Quokkas

Alice Martin, Bruno Keller

Abstract
We study quokka retrieval. The quokka method ranks passages well.

""" + "Readers search libraries of papers, and quokkas rank what they find.\n" * 30 + """
References
[1] A. Vaswani, N. Shazeer. Attention Is All You Need. NeurIPS, 2017.
"""


def _library(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    (folder / "quokka.txt").write_text(PAPER, encoding="utf-8")
    index = tmp_path / "ix"
    store = IndexStore(folder, index, workers=1)
    report = store.update()
    assert report.papers_total == 3 and report.rebuilt == "no index yet"
    store.close()
    return folder, index


KEYS = ["martinranking", "smith2020deep", "vaswani2017attention"]


def _keys(store: IndexStore) -> list[str]:
    return sorted(r.key for r in store.table.rows)


# -- years: str.isdigit() is not "int() can read it" ------------------------------------------------

def test_year_int_reads_ascii_years_only():
    assert year_int("2020") == 2020
    assert year_int("0999") == 999
    for odd in ("²⁰²⁰", "2020a", "", " 2020", "٢٠٢٠", "9" * 5000, None, 2020):
        assert year_int(odd) is None, odd


def _row(i: int, key: str, year: str, title: str = "A Paper") -> Row:
    return Row(str(i), key, title, ["Doe"], year, "", "/x.bib", i, "bib", "")


def test_completion_with_a_superscript_year():
    """``year={²⁰²⁰}`` made every completion of the library raise ValueError (the empty query
    orders by year, and so does a tie between typed matches)."""
    table = PaperTable([_row(0, "good2017", "2017"), _row(1, "bad2020", "²⁰²⁰"),
                        _row(2, "long2019", "9" * 5000), _row(3, "new2021", "2021")])
    found, total = table.complete("")
    assert [r.key for _, r in found] == ["new2021", "good2017", "bad2020", "long2019"] and total == 4
    found, total = table.complete("paper")          # the same title score: the year decides
    assert [r.key for _, r in found] == ["new2021", "good2017", "bad2020", "long2019"] and total == 4
    assert [r.key for _, r in table.complete("bad")[0]] == ["bad2020"]


def test_a_superscript_year_through_the_index(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(
        "@article{good2017, title={A Good Paper}, author={Good, Ann}, year={2017}}\n"
        "@article{bad2020, title={A Paper With a Superscript Year}, author={Bad, Bob}, year={²⁰²⁰}}\n",
        encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    found, total = store.table.complete("")
    assert [r.key for _, r in found] == ["good2017", "bad2020"] and total == 2
    assert [r.year for _, r in found] == ["2017", "²⁰²⁰"]
    store.close()


# -- table.json ---------------------------------------------------------------------------------------

GOOD_ROW = ["id1", "vaswani2017attention", "T", ["Vaswani"], "2017", "", "\u0001refs.bib", 0, "bib", "",
            "", "", "", ""]

DAMAGED_TABLES = {
    "deep-nesting": "[" * 200000 + "]" * 200000,
    "wrong-types": json.dumps([[1, 2, 3, 4, 5, 6, "\u0001refs.bib", "x", 9, "", 11, 12, 13, ""]]),
    "null-fields": json.dumps([["id1", "vaswani2017attention", None, None, None, None, "\u0001refs.bib",
                                None, "bib", None, None, None, None, None]]),
    "extra-field": json.dumps([GOOD_ROW + ["extra"]]),
    "missing-field": json.dumps([GOOD_ROW[:-1]]),
    "surname-not-text": json.dumps([GOOD_ROW[:3] + [[1]] + GOOD_ROW[4:]]),
    "negative-line": json.dumps([GOOD_ROW[:7] + [-1] + GOOD_ROW[8:]]),
    "bool-line": json.dumps([GOOD_ROW[:7] + [True] + GOOD_ROW[8:]]),
    "not-a-list": json.dumps({"rows": [GOOD_ROW]}),
    "truncated": json.dumps([GOOD_ROW, GOOD_ROW])[:-20],
    "not-utf8": b"[\xff\xfe]",
    "empty-file": "",
}


@pytest.mark.parametrize("content", DAMAGED_TABLES.values(), ids=DAMAGED_TABLES.keys())
def test_a_damaged_table_is_never_served_and_the_index_rebuilds(tmp_path, content, caplog):
    folder, index = _library(tmp_path)
    path = index / "table.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with caplog.at_level(logging.WARNING, logger="paperlens"):
        store = IndexStore(folder, index, workers=1)        # raised RecursionError (deep nesting)
    assert store.table.rows == [] and store.table.damaged
    assert store.damaged.startswith("paper table damaged (")
    assert any("table.json" in r.getMessage() and "rebuilt" in r.getMessage() for r in caplog.records)
    # nothing served from it, nothing raised: completion and lookups see an empty library
    assert store.table.complete("vas") == ([], 0) and store.table.find("vaswani2017attention") == []
    report = store.update()
    assert report.rebuilt.startswith("paper table damaged (") and report.papers_total == 3
    assert _keys(store) == KEYS and store.table.damaged == "" and store.damaged == ""
    assert [r.key for r in store.table.find("vaswani2017attention")] == ["vaswani2017attention"]
    assert store.update().rebuilt == ""
    store.close()
    again = IndexStore(folder, index, workers=1)
    assert _keys(again) == KEYS and again.damaged == "" and again.needs_rebuild() == ""
    again.close()


def test_a_good_table_loads_whole(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps([GOOD_ROW]), encoding="utf-8")
    table = PaperTable.load(path, str(tmp_path))
    assert table.damaged == "" and [r.source for r in table.rows] == [str(tmp_path / "refs.bib")]
    assert PaperTable.load(tmp_path / "missing.json").damaged == ""


def test_a_fifo_in_place_of_the_table_is_not_read(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the server never started."""
    folder, index = _library(tmp_path)
    (index / "table.json").unlink()
    os.mkfifo(index / "table.json")
    store = IndexStore(folder, index, workers=1)
    assert store.table.damaged.startswith("cannot be read")
    assert store.update().rebuilt == "paper table, manifest or side files missing"
    assert _keys(store) == KEYS and (index / "table.json").is_file()
    store.close()


# -- manifest.json, meta.json -------------------------------------------------------------------------

DAMAGED_MANIFESTS = {
    "deep-nesting": "{\"files\":" + "[" * 200000 + "]" * 200000 + "}",
    "a-list": "[1, 2]",
    "files-a-list": json.dumps({"files": ["refs.bib"]}),
    "state-a-list": json.dumps({"files": {"refs.bib": [1, 2]}}),
    "wrong-types": json.dumps({"files": {"refs.bib": {"mtime_ns": "x", "size": None, "sha1": "",
                                                      "paper_ids": [], "error": ""}}}),
    "unknown-field": json.dumps({"files": {"refs.bib": {"mtime_ns": 1, "size": 1, "what": 1}}}),
    "paper-ids-not-text": json.dumps({"files": {"refs.bib": {"mtime_ns": 1, "size": 1, "paper_ids": [1]}}}),
}


@pytest.mark.parametrize("content", DAMAGED_MANIFESTS.values(), ids=DAMAGED_MANIFESTS.keys())
def test_a_damaged_manifest_rebuilds_the_index(tmp_path, content):
    folder, index = _library(tmp_path)
    (index / "manifest.json").write_text(content, encoding="utf-8")
    store = IndexStore(folder, index, workers=1)
    assert _keys(store) == KEYS                            # the table is fine: served meanwhile
    assert store.manifest == {} and store.damaged.startswith("manifest damaged (")
    report = store.update()
    assert report.rebuilt.startswith("manifest damaged (") and report.papers_total == 3
    assert sorted(store.manifest) == ["quokka.txt", "refs.bib"] and store.damaged == ""
    assert store.update().rebuilt == "" and store.update().papers_indexed == 0
    store.close()


@pytest.mark.parametrize("content", ["[" * 200000 + "]" * 200000, "[1]", "\"x\""])
def test_a_damaged_meta_file_rebuilds_the_index(tmp_path, content):
    folder, index = _library(tmp_path)
    (index / "meta.json").write_text(content, encoding="utf-8")
    store = IndexStore(folder, index, workers=1)
    assert store.is_ready() is False
    report = store.update()
    assert report.rebuilt == "no index yet" and report.papers_total == 3 and store.is_ready()
    store.close()


# -- references.jsonl, heads.jsonl ---------------------------------------------------------------------

KEPT = Reference(label="1", title="Attention Is All You Need", year="2017", authors="A. Vaswani, N. Shazeer.",
                after=". NeurIPS, 2017.")      # what the graph reads: the entry's title, year and evidence


def test_reference_lines_are_objects_with_named_fields(tmp_path):
    """What the citation graph needs of a reference list is stored as a JSON object of named
    fields, one list of the entries' values per field (a field empty in every entry left out,
    but the author list), and read back as models.Reference."""
    folder, index = _library(tmp_path)
    (line,) = (index / "references.jsonl").read_text(encoding="utf-8").splitlines()
    pid, _, data = line.partition("\t")
    assert json.loads(data) == {"label": ["1"], "title": ["Attention Is All You Need"], "year": ["2017"],
                                "authors": ["A. Vaswani, N. Shazeer."], "after": [". NeurIPS, 2017."]}
    store = IndexStore(folder, index, workers=1)
    assert list(store.reference_lines()) == [(pid, [KEPT])]
    library = Library([folder], index_path=str(tmp_path / "unused"))
    library.stores = [store]
    (ref,) = library.references_of(store.table.get(pid))
    assert isinstance(ref, Reference) and ref.label == "1" and "Vaswani" in ref.text
    store.close()


def test_an_index_of_another_format_gives_no_reference_lines(tmp_path):
    """An index written by another version is rebuilt by the next update; meanwhile its
    reference lines (positional lists before format 15) are not read as damage."""
    folder, index = _library(tmp_path)
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    (index / "meta.json").write_text(json.dumps({**meta, "schema": 14}), encoding="utf-8")
    path = index / "references.jsonl"
    pid = path.read_text(encoding="utf-8").partition("\t")[0]
    path.write_text(f"{pid}\t" + json.dumps([["1", "Attention Is All You Need", "", ""]]) + "\n", encoding="utf-8")
    store = IndexStore(folder, index, workers=1)
    assert list(store.reference_lines()) == [] and store.damaged == ""
    assert not store.is_ready()
    assert store.update().rebuilt.startswith("schema changed (14 -> ")
    assert [refs for _, refs in store.reference_lines()] == [[KEPT]]
    store.close()


DAMAGED_REF_LINES = {
    "deep-nesting": "[" * 200000 + "]" * 200000,
    "not-json": "{oops",
    "a-number": "5",
    "ref-a-string": json.dumps(["label"]),
    "ref-positional": json.dumps([["1", "Attention Is All You Need", "", ""]]),
    "ref-unknown-name": json.dumps([{"label": "1", "page": "3"}]),
    "ref-field-null": json.dumps([{"label": "1", "title": None}]),
    "ref-field-number": json.dumps([{"label": 1}]),
    # the columns of a line: each a list of strings, all of one length, named by their field
    "columns-not-lists": json.dumps({"label": "1", "title": "Attention Is All You Need"}),
    "columns-unequal": json.dumps({"label": ["1", "2"], "title": ["Attention Is All You Need"]}),
    "columns-unknown-name": json.dumps({"label": ["1"], "page": ["3"]}),
    "columns-field-number": json.dumps({"label": [1], "title": ["Attention Is All You Need"]}),
    "columns-field-null": json.dumps({"label": ["1"], "title": [None]}),
    "columns-field-list": json.dumps({"label": ["1"], "title": [["Attention Is All You Need"]]}),
    "columns-authors-number": json.dumps({"label": ["1"], "title": ["T"], "authors": [3]}),
}


@pytest.mark.parametrize("value", DAMAGED_REF_LINES.values(), ids=DAMAGED_REF_LINES.keys())
def test_a_damaged_references_line_is_skipped_and_the_index_rebuilds(tmp_path, value):
    folder, index = _library(tmp_path)
    path = index / "references.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 1
    pid = lines[0].partition("\t")[0]
    path.write_text(f"{pid}\t{value}\n" + lines[0], encoding="utf-8")
    library = Library([folder], index_path=str(tmp_path / "unused"))
    store = IndexStore(folder, index, workers=1)
    library.stores = [store]
    # the graph is built from the good lines (a bad one raised TypeError or RecursionError)
    graph = library._build_graph()
    quokka = next(r.id for r in store.table.rows if r.title.startswith("Ranking"))
    vaswani = next(r.id for r in store.table.rows if r.key == "vaswani2017attention")
    assert graph.cites == {quokka: {vaswani: "1"}}
    assert store.damaged == "references.jsonl damaged (line 1)"
    report = store.update()
    assert report.rebuilt == "references.jsonl damaged (line 1)" and store.damaged == ""
    assert path.read_text(encoding="utf-8") == lines[0]
    assert [v for _, v in store.reference_lines()] and store.damaged == ""
    store.close()


def test_a_damaged_heads_line_is_skipped_and_the_index_rebuilds(tmp_path):
    folder, index = _library(tmp_path)
    path = index / "heads.jsonl"
    good = path.read_text(encoding="utf-8")
    pid = good.partition("\t")[0]
    path.write_text(f"{pid}\t[1, 2]\n{pid}\t" + "[" * 200000 + "\n", encoding="utf-8")
    store = IndexStore(folder, index, workers=1)
    assert dict(store._iter_keyed(store.HEADS)) == {}
    assert store.damaged == "heads.jsonl damaged (line 1)"
    assert store.update().rebuilt == "heads.jsonl damaged (line 1)"
    assert path.read_text(encoding="utf-8") == good
    store.close()


@pytest.mark.parametrize("name", ["references.jsonl", "heads.jsonl"])
def test_a_missing_side_file_rebuilds_the_index(tmp_path, name):
    folder, index = _library(tmp_path)
    (index / name).unlink()
    store = IndexStore(folder, index, workers=1)
    assert store.update().rebuilt == "paper table, manifest or side files missing"
    assert (index / name).is_file()
    store.close()


def test_an_update_copies_the_other_papers_side_lines_byte_for_byte(tmp_path):
    """references.jsonl and heads.jsonl are rewritten for a changed paper by copying the other
    papers' lines as bytes (runs of them at once): the same lines, in the same order, non-ASCII
    text intact, the changed paper's line replaced and a removed paper's gone."""
    from paperlens.core.index.whoosh.store import _copy_ranges, _kept_ranges

    folder = tmp_path / "lib"
    folder.mkdir()
    for n in range(5):
        (folder / f"p{n}.txt").write_text(
            f"Étude numéro {n} über Graphen\nA. Author{n}\nAbstract\nText of paper {n}.\n\n"
            f"References\n[1] A. Vaswani. Attention über alles, part {n}. NeurIPS, 2017.\n",
            encoding="utf-8")
    index = tmp_path / "ix"
    store = IndexStore(folder, index, workers=1)
    store.update()
    before = (index / "references.jsonl").read_bytes().splitlines(keepends=True)
    heads = (index / "heads.jsonl").read_bytes().splitlines(keepends=True)
    assert len(before) == 5 and len(heads) >= 5
    (folder / "p2.txt").write_text((folder / "p2.txt").read_text(encoding="utf-8").replace(
        "part 2", "part two"), encoding="utf-8")
    (folder / "p4.txt").unlink()
    store.update()
    after = (index / "references.jsonl").read_bytes().splitlines(keepends=True)
    gone = {b"part 2", b"part 4"}
    kept = [line for line in before if not any(g in line for g in gone)]
    assert after[:3] == kept and len(after) == 4 and b"part two" in after[3]
    assert "über".encode() in after[0]
    store.close()

    src = tmp_path / "side"
    src.write_bytes(b"a\t1\nb\t2\nc\t3\nd\t4\n")
    with open(src, "rb") as f:
        ranges = _kept_ranges(f, {"a", "b", "c", "d"}, {"c"})
        assert ranges == [(0, 8), (12, 16)]
        out = tmp_path / "out"
        with open(out, "wb") as o:
            _copy_ranges(f, o, ranges)
    assert out.read_bytes() == b"a\t1\nb\t2\nd\t4\n"


def test_a_table_of_many_rows_round_trips(tmp_path):
    """A table of many rows is one JSON list of every row, in order, read back whole (paths
    under the folder stored relative)."""
    n = 1003
    rows = [Row(str(i), f"k{i}", f"Título {i}", ["Doe"], "2020", "", str(tmp_path / "x.bib"), i, "bib", "")
            for i in range(n)]
    path = tmp_path / "table.json"
    PaperTable(rows).save(path, str(tmp_path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data) == n and data[500][0] == "500"
    back = PaperTable.load(path, str(tmp_path))
    assert back.damaged == "" and back.rows == rows
