"""The citation graph is kept between sessions (issue 15: every start built the graph of 10k
papers again, a few CPU-seconds): a new session's first graph is an update from the file the
last one wrote, matching again only what changed since, and it is the graph a build from
scratch gives. A file written by other code, damaged, or not a regular file is left aside."""
from __future__ import annotations

import json
import logging
import os
import time

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


def _aged(path, days: float, used_days: float | None = None) -> None:
    """Make ``path`` (not followed) look written ``days`` ago and read ``used_days`` ago."""
    now = time.time()
    used = days if used_days is None else used_days
    os.utime(path, (now - used * 86400, now - days * 86400), follow_symlinks=False)


def test_old_graph_files_of_other_folders_go_when_a_session_writes_its_own(folder, tmp_path, caplog):
    """Issue 14: the graph file of a set of folders no longer configured stayed forever (~5 MB at
    10k papers). Another set's file unused for UNUSED_DAYS and a temporary file a day old go;
    a file in use, or recently read, stays; so does anything not named as this module names
    its files, and any link or folder (its target untouched)."""
    root = folder.parent / "ix"
    root.mkdir()
    days = saved_graph.UNUSED_DAYS
    victim = tmp_path / "victim.json"
    victim.write_text("keep me")
    planted = {
        "graph-0123456789ab.json": ("file", days + 1, None, False),       # another set, long unused
        "graph-1123456789ab.json": ("file", days - 1, None, True),        # used within UNUSED_DAYS
        "graph-2123456789ab.json": ("file", days + 30, 2, True),          # written long ago, read lately
        "graph-3123456789ab.json.ab_9x0yz.tmp": ("file", 2, None, False),  # a write that did not finish
        "graph-4123456789ab.json.ab_9x0yz.tmp": ("file", 0.5, None, True),  # one perhaps under way
        "graph-5123456789ab.json": ("link", days + 1, None, True),
        "graph-6123456789ab.json": ("dir", days + 1, None, True),
        "graph-0123456789AB.json": ("file", days + 1, None, True),        # not a name of ours
        "graph-0123456789ab.json.bak": ("file", days + 1, None, True),
        "mygraph-0123456789ab.json": ("file", days + 1, None, True),
        "graph-0123456789abc.json": ("file", days + 1, None, True),
        "graph-0123456789ab.json.1234.tmp": ("file", days + 1, None, True),
    }
    for name, (kind, written, read, _stays) in planted.items():
        path = root / name
        if kind == "file":
            path.write_text("{}")
        elif kind == "link":
            os.symlink(victim, path)
        else:
            path.mkdir()
        _aged(path, written, read)
    _aged(victim, days + 1)
    lib = session(folder)
    ours = lib.graph_file
    ours.write_text("{}")                    # this session's own, however old, is never removed
    _aged(ours, days + 100)
    with caplog.at_level(logging.INFO, logger="paperlens.core.saved_graph"):
        lib.graph()                          # (its file is not this code's: built, and written)
    lib.close()
    left = {p.name for p in root.iterdir()}
    assert {name for name, v in planted.items() if v[3]} | {ours.name} <= left
    assert {name for name, v in planted.items() if not v[3]} & left == set()
    assert victim.read_text() == "keep me"
    assert "graph-0123456789ab.json (other folders' citation graph, unused for 90 days)" in caplog.text
    assert "a write of a citation graph that did not finish" in caplog.text


def test_a_session_that_reads_the_graph_file_marks_it_used(folder):
    """Its modified time stays the write's (a graph that did not change is not written again);
    its access time says a session used it, so that another set of folders' session keeps it."""
    first_session(folder)
    lib = session(folder)
    _aged(lib.graph_file, saved_graph.UNUSED_DAYS + 1)
    written = lib.graph_file.stat().st_mtime_ns
    # the mark is this module's, not the kernel's update of a read (relatime): a time no read gives
    day = 86400 * 10**9
    mark = time.time_ns() - 10 * day
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(saved_graph.time, "time_ns", lambda: mark)
        lib.graph()
    st = lib.graph_file.stat()
    assert st.st_mtime_ns == written
    assert abs(st.st_atime_ns - mark) < day
    lib.close()
    # so another set of folders' session, writing its own file, keeps it
    other = folder.parent / "more"
    other.mkdir()
    (other / "e.txt").write_text(paper("More Storage", [BIGTABLE]), encoding="utf-8")
    two = Library([folder, other], index_path=str(folder.parent / "ix"))
    two.update()
    two.graph()
    assert two.graph_file.is_file() and lib.graph_file.is_file()
    two.close()
    _aged(lib.graph_file, saved_graph.UNUSED_DAYS + 1)        # unused since: it goes
    _aged(two.graph_file, saved_graph.UNUSED_DAYS + 1)        # the session's own, however old, stays
    assert saved_graph.remove_unused(two.graph_file) == [lib.graph_file.name]
    assert two.graph_file.is_file()
