"""The citation graph is kept between sessions (issue 15: every start built the graph of 10k
papers again, a few CPU-seconds): a new session's first graph is an update from the file the
last one wrote, matching again only what changed since, and it is the graph a build from
scratch gives. A file written by other code, damaged, or not a regular file is left aside."""
from __future__ import annotations

import json
import logging
import os

import pytest

import paperlens.core.saved_graph as saved_graph
from paperlens.core.graph import build
from paperlens.core.library import Library
from test_graph_update import BIB, BIGTABLE, EXTRA, GFS, OTHER, PAXOS, RAFT, counting, edges, keyed, paper


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB + EXTRA, encoding="utf-8")
    (folder / "a.txt").write_text(paper("Consensus in Practice", [PAXOS, RAFT, OTHER]), encoding="utf-8")
    (folder / "b.txt").write_text(paper("Storage at Scale", [BIGTABLE, GFS, OTHER]), encoding="utf-8")
    return folder


def session(folder):
    """A library as a new session (server or command line) opens it."""
    lib = Library([folder], index_path=str(folder.parent / "ix"))
    lib.update()
    return lib


def titles(lib, pids) -> set:
    rows = {r.id: r.title for r in lib.rows()}
    return {rows[p] for p in pids}


def first_session(folder):
    lib = session(folder)
    g = lib.graph()
    assert ("Storage at Scale", "2", "ghemawat2003gfs") in keyed(lib, g)
    assert lib.graph_file.is_file() and lib.graph_file.parent == folder.parent / "ix"
    lib.close()


def test_a_new_session_starts_from_the_saved_graph_and_matches_nothing(folder, monkeypatch, caplog):
    first_session(folder)
    lib = session(folder)
    seen = counting(monkeypatch)
    with caplog.at_level(logging.INFO, logger="paperlens.core.library"):
        g = lib.graph()
    assert seen == []                                 # no list matched: all as they were
    assert "2 papers' reference lists, 0 matched (the others as in the last session)" in caplog.text
    assert getattr(lib, "_matcher", None) is None     # the matcher was not even built
    assert edges(g) == edges(build(lib))
    assert ("Consensus in Practice", "1", "lamport2001paxos") in keyed(lib, g)
    stamp = lib.graph_file.stat().st_mtime_ns
    lib._graph = None                    # (the same graph again: the file is not written again)
    lib.graph()
    assert lib.graph_file.stat().st_mtime_ns == stamp
    lib.close()


def test_what_changed_between_sessions_is_matched_again(folder, monkeypatch):
    first_session(folder)
    # while no session runs: a reference list edited, a citing paper added, a library title corrected
    (folder / "a.txt").write_text(paper("Consensus in Practice", [PAXOS, GFS]), encoding="utf-8")
    (folder / "d.txt").write_text(paper("Files Everywhere", [RAFT]), encoding="utf-8")
    lib = session(folder)
    seen = counting(monkeypatch)
    g = lib.graph()
    assert titles(lib, seen) == {"Consensus in Practice", "Files Everywhere"}
    assert edges(g) == edges(build(lib))
    assert ("Consensus in Practice", "2", "ghemawat2003gfs") in keyed(lib, g)
    assert ("Files Everywhere", "1", "ongaro2014raft") in keyed(lib, g)
    lib.close()

    (folder / "refs.bib").write_text(
        (BIB + EXTRA).replace("The Google File System", "The Google File System Revisited"), encoding="utf-8")
    lib = session(folder)
    seen = counting(monkeypatch)
    g = lib.graph()
    # the lists that could name the changed title only (the one citing Raft alone is not)
    assert titles(lib, seen) == {"Consensus in Practice", "Storage at Scale"}
    assert edges(g) == edges(build(lib))
    assert not any(k == "ghemawat2003gfs" for _, _, k in keyed(lib, g))
    lib.close()


@pytest.mark.parametrize("damage", ["not json", "not an object", "no content", "digest", "stranger", "odd"])
def test_a_damaged_file_is_reported_and_the_graph_built(folder, monkeypatch, caplog, damage):
    first_session(folder)
    path = next((folder.parent / "ix").glob("graph-*.json"))
    data = json.loads(path.read_text())
    papers = data["papers"][0]
    pid = next(p for p, v in papers.items() if v[1])
    if damage == "not json":
        path.write_text("{not json")
    elif damage == "not an object":
        path.write_text("[1, 2]")
    elif damage == "no content":           # written by this code for this library, and empty
        path.write_text(json.dumps({k: data[k] for k in ("format", "code", "stores")}))
    else:
        if damage == "digest":
            papers[pid][0] = "not hex"
        elif damage == "stranger":         # a match naming a paper the library does not have
            papers[pid][1][1] = "no-such-paper"
        else:                              # a label without its paper
            papers[pid][1].append("9")
        path.write_text(json.dumps(data))
    lib = session(folder)
    seen = counting(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="paperlens.core.saved_graph"):
        g = lib.graph()
    assert "is damaged" in caplog.text and str(path) in caplog.text
    assert len(seen) == 2                          # built: both lists matched
    assert edges(g) == edges(build(lib))
    assert saved_graph.load(path, lib.stores, lib.matcher_entries()) is not None      # written again
    lib.close()


def test_a_file_of_other_code_or_another_library_is_not_used(folder, monkeypatch, caplog):
    first_session(folder)
    monkeypatch.setattr(saved_graph, "code_version", lambda: "other code")
    lib = session(folder)
    seen = counting(monkeypatch)
    with caplog.at_level(logging.INFO, logger="paperlens.core.saved_graph"):
        g = lib.graph()
    assert "another version" in caplog.text
    assert len(seen) == 2
    assert edges(g) == edges(build(lib))
    lib.close()
    # another set of folders has a file of its own
    other = folder.parent / "more"
    other.mkdir()
    (other / "e.txt").write_text(paper("More Storage", [BIGTABLE]), encoding="utf-8")
    two = Library([folder, other], index_path=str(folder.parent / "ix"))
    assert two.graph_file != lib.graph_file
    two.close()


def test_the_graph_file_is_never_followed_through_a_link_and_a_failed_write_is_harmless(folder, monkeypatch, caplog):
    lib = session(folder)
    outside = folder.parent / "outside.json"
    outside.write_text("secret")
    os.symlink(outside, lib.graph_file)
    seen = counting(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="paperlens.core.saved_graph"):
        g = lib.graph()
    assert "cannot be read" in caplog.text
    assert len(seen) == 2 and edges(g) == edges(build(lib))
    assert outside.read_text() == "secret"          # the link was replaced, not written through
    assert not lib.graph_file.is_symlink()
    lib.close()

    # an index root where nothing can be written: the graph is built all the same
    lib = session(folder)
    lib.graph_file = folder.parent / "no-such-dir" / "file" / "graph.json"
    (folder.parent / "no-such-dir").write_text("a file, not a folder")
    with caplog.at_level(logging.INFO, logger="paperlens.core.saved_graph"):
        g = lib.graph()
    assert "could not be saved" in caplog.text
    assert edges(g) == edges(build(lib))
    lib.close()


def test_a_list_edited_without_new_links_is_kept_with_its_new_digest(folder, monkeypatch):
    first_session(folder)
    (folder / "a.txt").write_text(paper("Consensus in Practice", [PAXOS, RAFT, "A. Else. Another unrelated note. 2011."]),
                                  encoding="utf-8")
    lib = session(folder)
    seen = counting(monkeypatch)
    lib.graph()
    assert titles(lib, seen) == {"Consensus in Practice"}
    lib.close()
    lib = session(folder)                 # the next session finds it as it is now
    seen.clear()
    g = lib.graph()
    assert seen == [] and edges(g) == edges(build(lib))
    lib.close()


def test_the_temporary_file_is_never_a_link_planted_beside_the_graph(folder, tmp_path):
    """The file is written to a new file of its own (O_EXCL), then renamed: a link planted at any
    name beside it is never written through."""
    first_session(folder)
    lib = session(folder)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for n in range(50):      # links at the names a predictable temporary file would have had
        os.symlink(victim, lib.graph_file.with_name(f"{lib.graph_file.name}.{n}.tmp"))
        os.symlink(victim, lib.graph_file.with_name(f"{lib.graph_file.name}.{os.getpid() + n}.tmp"))
    assert saved_graph.save(lib.graph_file, lib.graph())
    assert victim.read_text() == "keep me"
    assert not lib.graph_file.is_symlink()
    assert saved_graph.load(lib.graph_file, lib.stores, lib.matcher_entries()) is not None
    lib.close()


def test_a_file_larger_than_the_library_can_need_is_not_parsed(folder, monkeypatch, caplog):
    first_session(folder)
    lib = session(folder)
    monkeypatch.setattr(saved_graph, "MAX_BASE", 0)
    monkeypatch.setattr(saved_graph, "MAX_PER_PAPER", 10)     # (the real file is larger)
    with caplog.at_level(logging.WARNING, logger="paperlens.core.saved_graph"):
        assert saved_graph.load(lib.graph_file, lib.stores, lib.matcher_entries()) is None
    assert "larger than" in caplog.text
    lib.close()


def test_the_code_digest_reads_every_module_that_decides_a_match(monkeypatch):
    """Every path in _RULES is there (a renamed module would turn saving off: code_version "");
    the stores' decoding of a stored list is among them (a list's digest is its bytes)."""
    from pathlib import Path

    package = Path(saved_graph.__file__).resolve().parents[1]
    assert all((package / name).exists() for name in saved_graph._RULES)
    assert "core/index/whoosh/store.py" in saved_graph._RULES
    saved_graph.code_version.cache_clear()
    try:
        assert saved_graph.code_version()
        monkeypatch.setattr(saved_graph, "_RULES", saved_graph._RULES + ("core/no_such_module.py",))
        saved_graph.code_version.cache_clear()
        assert saved_graph.code_version() == ""
    finally:
        saved_graph.code_version.cache_clear()
