"""Find references reads the user's drafts: only regular files inside the configured folders,
with a size cap, and a walk of the folders that stops at a cap (a workspace folder of "/")
(issue 13, attack finding 1: a FIFO named chapter.tex hung the server for good, a link to
/dev/zero grew its memory without bound, a link to a file outside was read)."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from paperlens.core import drafts as drafts_mod
from paperlens.core.drafts import DraftIndex

HANG_GUARD = 120.0     # only so that a blocked read fails the test instead of hanging the run


def citing(index: DraftIndex, open_docs=None) -> dict[str, list[str]]:
    """{file name: keys} of the drafts, computed on a thread (a blocked read would block it)."""
    out: dict = {}

    def run():
        out["result"] = index.citations(open_docs)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG_GUARD)
    assert not t.is_alive(), "reading the drafts blocked"
    return {os.path.basename(p): [c.key for c in keys] for p, (_text, keys) in out["result"].items()}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_among_the_drafts_is_not_read(tmp_path):
    (tmp_path / "a.tex").write_text("see \\cite{vaswani2017}\n", encoding="utf-8")
    os.mkfifo(tmp_path / "chapter.tex")
    assert citing(DraftIndex([str(tmp_path)])) == {"a.tex": ["vaswani2017"]}


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_link_to_a_device_is_not_read(tmp_path):
    (tmp_path / "a.md").write_text("see [@vaswani2017]\n", encoding="utf-8")
    os.symlink("/dev/zero", tmp_path / "notes.md")
    index = DraftIndex([str(tmp_path)])
    assert index._text(str(tmp_path / "notes.md")) is None      # refused before any read
    assert citing(index) == {"a.md": ["vaswani2017"]}


def test_a_link_leading_outside_the_folders_is_not_read(tmp_path):
    inside, outside = tmp_path / "ws", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("[@secretkey2020]\n", encoding="utf-8")
    (inside / "other.md").write_text("[@mine2021]\n", encoding="utf-8")
    os.symlink(outside / "secret.md", inside / "linked.md")
    os.symlink(inside / "other.md", inside / "alias.md")          # inside: read
    assert citing(DraftIndex([str(inside)])) == {"other.md": ["mine2021"], "alias.md": ["mine2021"]}


def test_a_draft_over_the_size_cap_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(drafts_mod, "MAX_DRAFT_BYTES", 100)
    (tmp_path / "small.md").write_text("[@small2020]\n", encoding="utf-8")
    (tmp_path / "big.md").write_text("[@big2020]\n" + "x" * 200, encoding="utf-8")
    assert citing(DraftIndex([str(tmp_path)])) == {"small.md": ["small2020"]}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_open_documents_are_read_from_the_editor(tmp_path):
    os.mkfifo(tmp_path / "open.tex")              # on disk a FIFO, in the editor a buffer
    path = str(tmp_path / "open.tex")
    assert citing(DraftIndex([str(tmp_path)]), {path: "\\cite{fromeditor}"}) == {"open.tex": ["fromeditor"]}


def test_the_walk_stops_at_its_cap(tmp_path, monkeypatch):
    """A workspace folder of "/" or of the home folder: the walk looks at a bounded number of
    entries (counted at os.scandir), and the drafts found so far are used."""
    monkeypatch.setattr(drafts_mod, "MAX_WALK_ENTRIES", 50)
    (tmp_path / "top.md").write_text("[@top2020]\n", encoding="utf-8")
    for d in range(6):
        sub = tmp_path / f"d{d}" / "deeper"
        sub.mkdir(parents=True)
        for i in range(40):
            (sub / f"n{i}.md").write_text(f"[@k{d}x{i}]\n", encoding="utf-8")
    seen = []
    real = os.scandir

    class Counted:
        def __init__(self, path):
            self.it = real(path)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.it.close()

        def __iter__(self):
            for entry in self.it:
                seen.append(entry.path)
                yield entry

        def close(self):
            self.it.close()

    monkeypatch.setattr(os, "scandir", Counted)
    index = DraftIndex([str(tmp_path)])
    found = citing(index)
    assert len(seen) <= 51          # the entry that hits the cap is looked at, no more
    assert index.walk_truncated
    assert found["top.md"] == ["top2020"]       # breadth first: the top of the tree first


def test_a_walk_runs_off_the_callers_thread(tmp_path):
    (tmp_path / "a.md").write_text("[@a2020]\n", encoding="utf-8")
    index = DraftIndex([str(tmp_path)])
    walkers = []
    real = index._walk

    def spy(done):
        walkers.append(threading.current_thread())
        real(done)

    index._walk = spy
    assert index.files() == [str(tmp_path / "a.md")]
    assert walkers and walkers[0] is not threading.current_thread()


@pytest.mark.skipif(sys.platform != "linux", reason="a real file system's root")
def test_a_workspace_folder_of_root_is_answered(monkeypatch):
    monkeypatch.setattr(drafts_mod, "MAX_WALK_ENTRIES", 2000)
    index = DraftIndex(["/"])
    citing(index)                                # answers, whatever it finds
    assert index.walk_entries <= 2000
