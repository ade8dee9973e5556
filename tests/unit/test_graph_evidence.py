"""The citation graph decides an entry kept without its text from the evidence the index keeps
of it (issue 15's build time): the author list and the years, never reading the entry again;
an index written before that evidence was kept still reads the entry again when it would decide."""
from __future__ import annotations

import json

from paperlens.core.library import Library
from paperlens.core.models import Reference
from paperlens.core.references import LibraryEntry, ReferenceMatcher
from paperlens.core.references.matcher import stored_evidence

from test_graph_update import CONSENSUS_BIB

BIB = CONSENSUS_BIB

# a paper text up to its references' heading (test_reference_columns lists other entries under it)
CITING_HEAD = """Consensus in Practice
Jo Writer
Abstract
We compare consensus protocols.

""" + "\n".join(f"Body line {i} about replicated logs, leaders, terms and votes." for i in range(60)) + """

References
"""

CITING = CITING_HEAD + """[1] L. Lamport. Paxos made simple. ACM SIGACT News, 32(4):18-25, 2001.
[2] R. Other. Paxos made simple. Some Workshop, 2001.
[3] D. Ongaro and J. Ousterhout. In search of an understandable consensus algorithm. In USENIX ATC, 2014.
[4] A. Nobody. An unrelated study of something else entirely. 2010.
"""


def library_of(tmp_path, bib: str, citing: str) -> Library:
    """A library of ``refs.bib`` and the paper text ``citing.txt``, indexed."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(bib, encoding="utf-8")
    (folder / "citing.txt").write_text(citing, encoding="utf-8")
    lib = Library([folder], index_path=str(tmp_path / "ix"))
    lib.update()
    return lib


def _library(tmp_path):
    return library_of(tmp_path, BIB, CITING)


def _links(lib):
    rows = {r.id: r for r in lib.rows()}
    return {(rows[a].title, label, rows[b].key) for a, cited in lib.graph().cites.items()
            for b, label in cited.items()}


def test_stored_evidence_is_the_text_around_the_title_and_the_other_years():
    ref = Reference("1", text="L. Lamport. Paxos made simple. ACM SIGACT News (reprint of 1998), 2001.",
                    title="Paxos made simple", year="2001")
    assert stored_evidence(ref) == ("L. Lamport.", ". ACM SIGACT News (reprint of 1998), 2001.", "1998")
    # a title not found in the text: the whole text is the evidence
    assert stored_evidence(Reference("2", text="Lamport L 2001 Paxos", title="Other", year="2001")) == \
        ("Lamport L 2001 Paxos", "", "")
    assert stored_evidence(Reference("3", title="No text")) == ("", "", "")


def test_the_graph_decides_from_the_kept_evidence_without_reading_entries_again(tmp_path, monkeypatch):
    lib = _library(tmp_path)
    try:
        store = lib.stores[0]
        lines = [json.loads(line.split("\t", 1)[1])
                 for line in (store.index_dir / "references.jsonl").read_text(encoding="utf-8").splitlines()]
        (refs,) = lines            # one list per field
        assert refs["authors"][0] == "L. Lamport." and refs["year"][0] == "2001"
        assert refs["authors"][3] == "A. Nobody." and "text" not in refs

        def no_reads(pid):
            raise AssertionError("an entry was read again")
        monkeypatch.setattr(store, "references", no_reads)
        # the short title counts with its author's surname only: [1] links, [2] (another author) not
        assert _links(lib) == {("Consensus in Practice", "1", "lamport2001paxos"),
                               ("Consensus in Practice", "3", "ongaro2014raft")}
    finally:
        lib.close()


def test_an_index_written_before_the_evidence_was_kept_reads_the_entry_again(tmp_path, monkeypatch):
    lib = _library(tmp_path)
    try:
        store = lib.stores[0]
        path = store.index_dir / "references.jsonl"
        pid, data = path.read_text(encoding="utf-8").rstrip("\n").split("\t", 1)
        columns = json.loads(data)
        # a list of objects, without the evidence
        old = [{k: v for k, v in zip(columns, values) if k in ("label", "title", "doi", "arxiv") and v}
               for values in zip(*columns.values())]
        path.write_text(pid + "\t" + json.dumps(old) + "\n", encoding="utf-8")
        ((_, refs),) = list(store.reference_lines())
        assert [r.authors for r in refs] == [None] * 4
        reads = []
        real = store.references
        monkeypatch.setattr(store, "references", lambda p: reads.append(p) or real(p))
        lib._graph = None
        assert _links(lib) == {("Consensus in Practice", "1", "lamport2001paxos"),
                               ("Consensus in Practice", "3", "ongaro2014raft")}
        assert reads == [pid]               # once, for the short title the surnames decide
        assert not store._side_damage
    finally:
        lib.close()


def test_a_line_with_evidence_of_the_wrong_type_is_damage(tmp_path):
    lib = _library(tmp_path)
    try:
        store = lib.stores[0]
        path = store.index_dir / "references.jsonl"
        pid = path.read_text(encoding="utf-8").split("\t", 1)[0]
        path.write_text(pid + "\t" + json.dumps([{"label": "1", "title": "T", "authors": 3}]) + "\n",
                        encoding="utf-8")
        assert list(store.reference_lines()) == []
        assert "references.jsonl" in store._side_damage
    finally:
        lib.close()


def test_the_matcher_reads_the_kept_author_list_and_years():
    m = ReferenceMatcher([LibraryEntry("paxos", "Paxos Made Simple", year="2001", surnames=["Lamport"])])
    field = Reference("1", title="Paxos made simple", year="2001")
    # no evidence kept (an older index): the text would decide
    assert m.match_reference(field) is None and m.could_match(field)
    kept = Reference("1", title="Paxos made simple", year="2001", authors="L. Lamport.")
    assert m.match_reference(kept) == ("paxos", 100.0) and not m.could_match(kept)
    other = Reference("1", title="Paxos made simple", year="2001", authors="R. Other.")
    assert m.match_reference(other) is None and not m.could_match(other)
    # the years the text names besides the entry's year count, as in its text
    late = Reference("1", title="Paxos made simple", year="2010", authors="L. Lamport.")
    assert m.match_reference(late) is None
    assert m.match_reference(Reference("1", title="Paxos made simple", year="2010", years="2001",
                                       authors="L. Lamport.")) == ("paxos", 100.0)


def test_an_update_decodes_only_the_reference_lists_that_changed(tmp_path):
    """After a change of one paper, the graph's update reads the other papers' reference lines
    as they are (a hash of each line) and decodes only the changed paper's."""
    lib = _library(tmp_path)
    other = CITING.replace("Consensus in Practice", "Replication in Practice")
    (tmp_path / "lib" / "other.txt").write_text(other, encoding="utf-8")
    lib.update()
    before = _links(lib)
    assert ("Replication in Practice", "1", "lamport2001paxos") in before
    store = lib.stores[0]
    decoded = []
    real = store._decode
    store._decode = lambda name, n, data, *how: (name == store.REFS and decoded.append(json.loads(data))) \
        or real(name, n, data, *how)
    (tmp_path / "lib" / "other.txt").write_text(
        other.replace("[3] D. Ongaro", "[3] D. Ongaro and someone"), encoding="utf-8")
    lib.update()
    after = _links(lib)
    assert after == before
    titles = [refs["title"] for refs in decoded]
    assert len(decoded) == 1 and len(titles[0]) == 4, titles
