"""The citation graph is updated from the previous one when the library changes (issue 15: a
rebuild after every changed file kept the server busy for seconds at 10k papers): the reference
lists that changed, and the entries that could name a library paper that changed, are matched
again; the result is the graph a build from scratch gives."""
from __future__ import annotations

import pytest

import paperlens.core.graph as graph_mod
from paperlens.core.graph import build, changed_entries
from paperlens.core.library import Library
from paperlens.core.references import LibraryEntry

BIB = """@article{lamport2001paxos,
  title = {Paxos Made Simple},
  author = {Lamport, Leslie},
  year = {2001},
  journal = {ACM SIGACT News}
}

@article{ongaro2014raft,
  title = {In Search of an Understandable Consensus Algorithm},
  author = {Ongaro, Diego and Ousterhout, John},
  year = {2014},
  journal = {USENIX ATC}
}

@article{chang2006bigtable,
  title = {Bigtable: A Distributed Storage System for Structured Data},
  author = {Chang, Fay and Dean, Jeffrey},
  year = {2006},
  doi = {10.1145/1365815.1365816},
  journal = {OSDI}
}
"""

EXTRA = """@article{ghemawat2003gfs,
  title = {The Google File System},
  author = {Ghemawat, Sanjay and Gobioff, Howard and Leung, Shun-Tak},
  year = {2003},
  journal = {SOSP}
}
"""


def paper(title: str, refs: list[str]) -> str:
    body = "\n".join(f"Body line {i} about replicated logs, leaders, terms and votes." for i in range(40))
    entries = "\n".join(f"[{i}] {r}" for i, r in enumerate(refs, 1))
    return f"{title}\nJo Writer\nAbstract\nWe compare storage and consensus systems.\n\n{body}\n\nReferences\n{entries}\n"


PAXOS = "L. Lamport. Paxos made simple. ACM SIGACT News, 32(4):18-25, 2001."
RAFT = "D. Ongaro and J. Ousterhout. In search of an understandable consensus algorithm. In USENIX ATC, 2014."
BIGTABLE = "F. Chang, J. Dean. Bigtable: a distributed storage system for structured data. In OSDI, 2006."
BIGTABLE_DOI = "F. Chang et al. Bigtable. ACM TOCS, 2008. doi:10.1145/1365815.1365816"
GFS = "S. Ghemawat, H. Gobioff, and S.-T. Leung. The Google file system. In SOSP, 2003."
GFS_FIXED = "S. Ghemawat, H. Gobioff, and S.-T. Leung. The Google file system revisited. In SOSP, 2003."
OTHER = "A. Nobody. An unrelated study of something else entirely. 2010."


def edges(g) -> tuple:
    return g.cites, g.cited_by, g.cited_by_label, g.read


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    (folder / "a.txt").write_text(paper("Consensus in Practice", [PAXOS, RAFT, OTHER]), encoding="utf-8")
    (folder / "b.txt").write_text(paper("Storage at Scale", [BIGTABLE, GFS, OTHER]), encoding="utf-8")
    (folder / "c.txt").write_text(paper("Logs and Tables", [BIGTABLE_DOI, PAXOS]), encoding="utf-8")
    lib = Library([folder], index_path=str(tmp_path / "ix"))
    lib.update()
    yield lib, folder
    lib.close()


def keyed(lib, g) -> set:
    rows = {r.id: r for r in lib.rows()}
    return {(rows[a].title, label, rows[b].key) for a, cited in g.cites.items() for b, label in cited.items()}


def counting(monkeypatch) -> list:
    """The papers whose reference lists are matched (again) from now on."""
    seen: list = []
    real = graph_mod._Matching.matches

    def matches(self, store, pid, refs):
        seen.append(pid)
        return real(self, store, pid, refs)

    monkeypatch.setattr(graph_mod._Matching, "matches", matches)
    return seen


def test_updates_equal_a_build_from_scratch_and_match_only_what_changed(library, monkeypatch):
    lib, folder = library
    first = lib.graph()
    assert ("Storage at Scale", "1", "chang2006bigtable") in keyed(lib, first)
    assert not any(k == "ghemawat2003gfs" for _, _, k in keyed(lib, first))
    seen = counting(monkeypatch)
    steps = [
        # a library paper comes: the entries naming it link to it, nothing else is matched again
        lambda: (folder / "refs.bib").write_text(BIB + EXTRA, encoding="utf-8"),
        # a reference list edited: that paper alone is matched again
        lambda: (folder / "a.txt").write_text(paper("Consensus in Practice", [PAXOS, OTHER, GFS]), encoding="utf-8"),
        # a new citing paper, and one going
        lambda: (folder / "d.txt").write_text(paper("Files Everywhere", [GFS, RAFT]), encoding="utf-8"),
        lambda: (folder / "c.txt").unlink(),
        # a library paper's title changes: the entries of the old title lose it, the new one's gain it
        lambda: (folder / "refs.bib").write_text(
            (BIB + EXTRA).replace("The Google File System", "The Google File System Revisited"), encoding="utf-8"),
        # a library paper goes
        lambda: (folder / "refs.bib").write_text(BIB.split("@article{chang2006bigtable")[0] + EXTRA.replace(
            "The Google File System", "The Google File System Revisited"), encoding="utf-8"),
    ]
    # the citing papers matched again at each step
    expected = [{"Storage at Scale"}, {"Consensus in Practice"}, {"Files Everywhere"}, set(),
                {"Consensus in Practice", "Storage at Scale", "Files Everywhere"}, {"Storage at Scale"}]
    previous = first
    for n, change in enumerate(steps):
        seen.clear()
        change()
        lib.update()
        g = lib.graph()
        assert g is not previous
        titles = {r.id: r.title for r in lib.rows()}
        assert {titles[p] for p in seen} == expected[n], f"step {n}"
        assert edges(g) == edges(build(lib)), f"step {n}"
        previous = g
    # what each step made of the links, read from the last graph
    final = keyed(lib, lib.graph())
    assert ("Consensus in Practice", "1", "lamport2001paxos") in final
    assert ("Files Everywhere", "2", "ongaro2014raft") in final
    assert ("Storage at Scale", "2", "ghemawat2003gfs") not in final            # the title changed
    assert ("Consensus in Practice", "3", "ghemawat2003gfs") not in final
    assert not any(k == "chang2006bigtable" for _, _, k in final)                 # the paper went
    assert not any(t == "Logs and Tables" for t, _, _ in final)                  # the citing paper went


def test_an_edited_reference_list_is_the_only_one_matched_again(library, monkeypatch):
    lib, folder = library
    before = lib.graph()
    seen = counting(monkeypatch)
    (folder / "b.txt").write_text(paper("Storage at Scale", [BIGTABLE, RAFT]), encoding="utf-8")
    lib.update()
    g = lib.graph()
    b = next(r.id for r in lib.rows() if r.title == "Storage at Scale")
    assert seen == [b]
    assert edges(g) == edges(build(lib))
    assert ("Storage at Scale", "2", "ongaro2014raft") in keyed(lib, g)
    # the previous graph is left as it was (a request may be reading it)
    assert ("Storage at Scale", "2", "ongaro2014raft") not in keyed(lib, before)
    assert lib.graph_builds == 2


def test_a_new_library_paper_rematches_only_the_lists_that_could_name_it(library, monkeypatch):
    lib, folder = library
    lib.graph()
    seen = counting(monkeypatch)
    (folder / "refs.bib").write_text(BIB + EXTRA, encoding="utf-8")
    lib.update()
    g = lib.graph()
    b = next(r.id for r in lib.rows() if r.title == "Storage at Scale")
    assert seen == [b]                 # the one list naming the Google File System
    assert edges(g) == edges(build(lib))
    assert ("Storage at Scale", "2", "ghemawat2003gfs") in keyed(lib, g)


def test_a_removed_graph_starts_again_from_scratch(library, monkeypatch):
    lib, _folder = library
    lib.graph()
    seen = counting(monkeypatch)
    lib._graph = None
    lib.graph()
    assert len(seen) == 3


def test_changed_entries_are_the_difference():
    a, b, c = (LibraryEntry(x, f"Title {x}") for x in "abc")
    b2 = LibraryEntry("b", "Title b corrected")
    assert changed_entries([a, b, c], [a, b, c]) == []
    assert changed_entries([a, b, c], [a, b2, c]) == [b, b2]
    assert changed_entries([a, c], [a, b, c]) == [b]
    assert changed_entries([a, b, c], [a, b, c, a]) is None        # a paper twice


def test_a_paper_moved_among_the_others_counts_as_changed():
    a, b, c, d = (LibraryEntry(x, f"Title {x}") for x in "abcd")
    assert changed_entries([a, b, c, d], [a, c, d, b]) == [b, b]
    assert changed_entries([a, b, c], [a, b], most=0) is None
