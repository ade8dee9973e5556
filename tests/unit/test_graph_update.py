"""The citation graph is updated from the previous one when the library changes (issue 15: a
rebuild after every changed file kept the server busy for seconds at 10k papers): the reference
lists that changed, and the entries that could name a library paper that changed, are matched
again; the result is the graph a build from scratch gives."""
from __future__ import annotations

import pytest

import paperlens.core.graph as graph_mod
from paperlens.core.graph import build, changed_entries
from paperlens.core.index.base import read_lazily
from paperlens.core.library import Library
from paperlens.core.references import LibraryEntry

CONSENSUS_BIB = """@article{lamport2001paxos,
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
"""

BIB = CONSENSUS_BIB + """
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
    for name in ("matches", "matches_columns"):      # a list read as References, or as its fields
        real = getattr(graph_mod._Matching, name)

        def matches(self, store, pid, refs, real=real):
            seen.append(pid)
            return real(self, store, pid, refs)

        monkeypatch.setattr(graph_mod._Matching, name, matches)
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
    lib.graph_file.unlink()        # nor kept for the next session (see test_saved_graph)
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


def test_the_words_of_a_changed_title_are_counted_across_an_entrys_strings():
    """Whether an entry holds enough words of a changed title is read from each of its strings
    (remembered: they repeat across lists), as from their join: accents folded, hyphens gone;
    not known (so: may) in a string that is not ASCII for a changed title that is not."""
    changed = graph_mod._Changed([LibraryEntry("a", "Zebra Quokka Narwhal Ibex Okapi")], {}, None)
    need = changed.titles[0][1]
    assert need == 4
    assert not changed._enough(["zebra and quokka", "Narwhal"])
    assert changed._enough(["Zébra and quokka", None, "", "Nar-whal, IBEX."])
    assert changed._enough(["zebraquokka narwhal ibex"])       # words are found as substrings
    assert changed.held["Nar-whal, IBEX."] is not None
    other = graph_mod._Changed([LibraryEntry("b", "Ζέβρα Κουόκα Ναρβάλ Ίβηξ")], {}, None)
    assert not other._enough(["nothing of it"])      # (ASCII: none of its words)
    assert other._enough(["nothing of it", "ζ"])


# -- many random changes to a made-up library: each update equals a build from scratch ---------

WORDS = ("graph neural network attention sparse retrieval dense consensus paxos raft storage "
         "distributed learning vision transformer segmentation cell image motion cloud shape "
         "detection scalable efficient robust adaptive").split()
NAMES = ["Lamport", "Ongaro", "Chang", "Dean", "Müller", "Zhang", "Garcia", "Kim"]


class FakeStore:
    """A store as the graph reads it: a paper table and reference lines, replaced by updates;
    with ``columns``, its lists can be read as the lists of their fields too (as Whoosh's)."""

    def __init__(self, rows, lines, columns: bool = False):
        from paperlens.core.index.table import PaperTable

        self.folder = "/fake"
        self.table = PaperTable(rows)
        self.lines = dict(lines)
        self.stamp = 0
        self.columns = columns

    def reference_lines(self):
        yield from self.lines.items()

    def reference_lines_lazily(self):
        for pid, digest, read in read_lazily(self.reference_lines()):
            yield pid, digest, (_Columns(read) if self.columns else read)

    def references(self, pid):
        return []

    def commit(self, rows):
        from paperlens.core.index.table import PaperTable

        self.table = PaperTable(rows)
        self.stamp += 1


class _Columns:
    """A list read whole, or as the lists of its fields (label, title, doi, arxiv, year,
    authors, after, years: see paperlens.core.models.references_of_columns)."""

    def __init__(self, read):
        self.read = read

    def __call__(self):
        return self.read()

    def columns(self):
        refs = self.read()
        fields = ("label", "title", "doi", "arxiv", "year", "authors", "after", "years")
        return tuple([getattr(r, f) for r in refs] for f in fields)


def fake_library(store):
    import threading

    lib = Library.__new__(Library)
    lib.stores = [store]
    lib._graph_lock = threading.Lock()
    lib.graph_builds = 0
    return lib


@pytest.mark.parametrize("columns", [False, True])
def test_random_changes_update_to_the_graph_built_from_scratch(monkeypatch, columns):
    import random

    from paperlens.core.index.table import Row
    from paperlens.core.models import Reference

    rng = random.Random(15)

    def title():
        return " ".join(rng.sample(WORDS, rng.randint(2, 6))).capitalize()

    def row(i, t=None, alias=""):
        return Row(f"p{i}", f"k{i}", t or title(), rng.sample(NAMES, 2), str(rng.randint(2000, 2003)), "",
                   f"/fake/p{i}.txt", i, "txt", f"/fake/p{i}.txt", doi=f"10.1/{i}" if i % 7 == 0 else "",
                   alias_of=alias)

    def refs(rows):
        out = []
        for n in range(rng.randint(0, 8)):
            if rows and rng.random() < 0.6:
                r = rng.choice(rows)
                t = r.title if rng.random() < 0.7 else " ".join(r.title.split()[:-1])
                out.append(Reference(str(n + 1), title=t.lower() if rng.random() < 0.3 else t, year=r.year,
                                     authors=f"{r.surnames[0]}, A.", after="In Proc. 2001.",
                                     doi=r.doi if rng.random() < 0.3 else ""))
            else:
                out.append(Reference(str(n + 1), title=title(), year="2001", authors=f"{rng.choice(NAMES)}, B.",
                                     after="Journal – 2002."))
        return out

    rows = [row(i) for i in range(40)]
    store = FakeStore(rows, {r.id: refs(rows) for r in rows}, columns)
    lib = fake_library(store)
    lib.graph()
    seen = counting(monkeypatch)
    compared = []
    real_changed = graph_mod._Changed.__init__

    def changed(self, entries, before, after):
        compared.append(len(entries))
        real_changed(self, entries, before, after)

    monkeypatch.setattr(graph_mod._Changed, "__init__", changed)
    checked = []        # how the lists were checked against the changed papers
    for name in ("touches", "touches_columns"):
        monkeypatch.setattr(graph_mod._Changed, name, lambda self, refs, _real=getattr(graph_mod._Changed, name),
                            _name=name: checked.append(_name) or _real(self, refs))
    nxt = 40
    updated = 0
    for step in range(40):
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["title", "refs", "add", "remove", "alias", "year"])
            i = rng.randrange(len(rows))
            if kind == "title":
                rows[i] = row(int(rows[i].id[1:]), title())
            elif kind == "year":
                rows[i] = Row(*[getattr(rows[i], f) for f in ("id", "key", "title", "surnames")],
                              year="1990", venue="", source=rows[i].source, source_line=rows[i].source_line,
                              source_kind="txt", file=rows[i].file, doi=rows[i].doi)
            elif kind == "refs":
                store.lines[rows[i].id] = refs(rows)
            elif kind == "add":
                rows.append(row(nxt))
                store.lines[rows[-1].id] = refs(rows)
                nxt += 1
            elif kind == "remove" and len(rows) > 5:
                gone = rows.pop(i)
                store.lines.pop(gone.id, None)
            elif kind == "alias" and len(rows) > 5:     # a paper text merged into another's entry
                j = rng.randrange(len(rows))
                if i != j and not rows[j].alias_of:
                    r = rows[i]
                    rows[i] = Row(r.id, r.key, r.title, r.surnames, r.year, "", r.source, r.source_line,
                                  "txt", r.file, alias_of=rows[j].id)
        store.commit(list(rows))
        seen.clear()
        g = lib.graph()
        updated += len(seen)
        seen.clear()
        assert edges(g) == edges(build(lib)), f"step {step}"
    # the updates matched a fraction of the lists again (each build from scratch: all of them)
    assert 0 < updated < 40 * 40 / 2
    assert len(compared) >= 20              # most steps changed library papers: updated, not rebuilt
    assert set(checked) == {"touches_columns" if columns else "touches"}
