"""The watchdog fallback watcher (core/watch.py) with a real observer (issue 13, case 8): one new
file is indexed without walking the whole paper folder again (its parent folder's "modified"
event is not a reason to), and a folder created, moved or deleted is looked at alone.

Walks are counted (corpus.walk is spied on); the tests wait for the index update they cause,
never for a fixed time."""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from paperlens.core import corpus
from paperlens.core.library import Library
from paperlens.core.watch import Debouncer, FolderWatcher

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="event order checked with inotify")

HANG_GUARD = 120.0     # only so that a broken watcher fails instead of hanging the run


def paper_text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval for "
            f"reading assistants. The {word} method ranks passages well.\n")


def write_papers(folder: Path, n: int, prefix: str = "p") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{prefix}{i}.txt").write_text(paper_text(f"Paper {prefix} {i} Title", f"{prefix}w{i}"),
                                                  encoding="utf-8")


@pytest.fixture
def walks(monkeypatch):
    """Every walk of a whole paper folder."""
    seen: list[Path] = []
    real = corpus.walk

    def spy(folder, *args, **kwargs):
        seen.append(Path(folder))
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(corpus, "walk", spy)
    return seen


def titles(library: Library) -> set[str]:
    return {r.title for r in library.rows()}


# --- the watcher and the debouncer, wired as the server wires them ----------------------------

class Harness:
    """FolderWatcher -> Debouncer (on the loop) -> Library.update_paths (a worker thread): the
    server's path, with every path under a paper folder handed to the library (a folder's path
    stands for what is under it)."""

    def __init__(self, library: Library, loop: asyncio.AbstractEventLoop):
        self.library, self.loop = library, loop
        self.debouncer = Debouncer(self.flush, delay=0.05)
        self.updated = asyncio.Condition()
        self.flushes: list[list[str] | None] = []
        self.watcher = FolderWatcher([str(s.folder) for s in library.stores],
                                     lambda paths, rescan: loop.call_soon_threadsafe(
                                         self.debouncer.add, paths, rescan, loop.call_later))

    def flush(self, paths):
        self.flushes.append(paths)
        self.loop.create_task(self._update(paths))

    async def _update(self, paths):
        if paths is None:
            await asyncio.to_thread(self.library.update)
        else:
            mine = [p for p in paths if self.library.store_for(p) is not None]
            await asyncio.to_thread(self.library.update_paths, mine)
        async with self.updated:
            self.updated.notify_all()

    async def until(self, condition) -> None:
        async def wait():
            async with self.updated:
                await self.updated.wait_for(condition)
        await asyncio.wait_for(wait(), HANG_GUARD)


@pytest.fixture
async def harness(tmp_path):
    lib = tmp_path / "lib"
    write_papers(lib, 3)
    library = Library([lib], str(tmp_path / "ix"), workers=1)
    library.update()
    h = Harness(library, asyncio.get_running_loop())
    assert h.watcher.start()
    yield h
    h.watcher.stop()
    library.close()


async def test_one_new_file_is_indexed_without_a_walk(harness, walks):
    lib = harness.library.stores[0].folder
    (lib / "new.txt").write_text(paper_text("A Freshly Written Paper", "freshword"), encoding="utf-8")
    await harness.until(lambda: "A Freshly Written Paper" in titles(harness.library))
    assert walks == []
    assert None not in harness.flushes      # no flush asked for a whole rescan


async def test_folder_moved_in_is_indexed_without_a_walk(harness, walks, tmp_path):
    lib = harness.library.stores[0].folder
    write_papers(tmp_path / "staging" / "batch" / "inner", 2, prefix="m")
    write_papers(tmp_path / "staging" / "batch", 1, prefix="top")
    os.rename(tmp_path / "staging" / "batch", lib / "batch")
    want = {"Paper m 0 Title", "Paper m 1 Title", "Paper top 0 Title"}
    await harness.until(lambda: want <= titles(harness.library))
    assert walks == []
    assert sorted(harness.library.stores[0].manifest) == [
        "batch/inner/m0.txt", "batch/inner/m1.txt", "batch/top0.txt", "p0.txt", "p1.txt", "p2.txt"]


async def test_folder_created_then_filled_is_indexed_without_a_walk(harness, walks):
    lib = harness.library.stores[0].folder
    write_papers(lib / "fresh" / "deeper", 2, prefix="c")      # mkdir -p, then the files
    await harness.until(lambda: {"Paper c 0 Title", "Paper c 1 Title"} <= titles(harness.library))
    assert walks == []


async def test_folder_renamed_inside_is_reindexed_without_a_walk(harness, walks, tmp_path):
    lib = harness.library.stores[0].folder
    write_papers(tmp_path / "staging" / "old", 2, prefix="r")
    os.rename(tmp_path / "staging" / "old", lib / "old")
    await harness.until(lambda: "Paper r 1 Title" in titles(harness.library))
    os.rename(lib / "old", lib / "renamed")
    store = harness.library.stores[0]
    await harness.until(lambda: sorted(store.manifest) == [
        "p0.txt", "p1.txt", "p2.txt", "renamed/r0.txt", "renamed/r1.txt"])
    assert walks == []
    assert {r.source for r in store.table.rows if r.title.startswith("Paper r")} == {
        str(lib / "renamed" / "r0.txt"), str(lib / "renamed" / "r1.txt")}


@pytest.mark.parametrize("how", ["rmtree", "moved-away"])
async def test_folder_deleted_or_moved_away_is_dropped_without_a_walk(harness, walks, tmp_path, how):
    lib = harness.library.stores[0].folder
    write_papers(tmp_path / "staging" / "gone", 2, prefix="g")
    os.rename(tmp_path / "staging" / "gone", lib / "gone")
    await harness.until(lambda: "Paper g 1 Title" in titles(harness.library))
    if how == "rmtree":
        shutil.rmtree(lib / "gone")
    else:                # only the folder's own event comes: no event for the files in it
        os.rename(lib / "gone", tmp_path / "staging" / "elsewhere")
    store = harness.library.stores[0]
    await harness.until(lambda: sorted(store.manifest) == ["p0.txt", "p1.txt", "p2.txt"])
    assert walks == []
    assert titles(harness.library) == {"Paper p 0 Title", "Paper p 1 Title", "Paper p 2 Title"}


def test_debouncer_keeps_a_rescan_asked_for_and_folders_as_paths():
    """``rescan`` (an explicit request) still means everything; a folder's path is a path."""
    fired: list = []
    pending: list = []

    def call_later(delay, fn):
        class Handle:
            def cancel(self):
                pending.remove(fn)
        pending.append(fn)
        return Handle()

    d = Debouncer(fired.append)
    d.add(["/lib/a.txt", "/lib/sub"], False, call_later)
    d.add(["/lib/a.txt"], False, call_later)
    assert len(pending) == 1
    pending.pop()()
    assert fired == [["/lib/a.txt", "/lib/sub"]]
    d.add(["/lib/b.txt"], True, call_later)
    pending.pop()()
    assert fired[-1] is None


def test_debouncer_waits_what_each_change_asks_for():
    """The editor's notifications (already batched) wait less than watchdog's raw events; the
    last change's wait is the one that counts."""
    delays: list[float] = []
    pending: list = []

    def call_later(delay, fn):
        class Handle:
            def cancel(self):
                pending.remove(fn)
        delays.append(delay)
        pending.append(fn)
        return Handle()

    fired: list = []
    d = Debouncer(fired.append, delay=0.15)
    assert not d.pending
    d.add(["/lib/a.txt"], False, call_later)
    d.add(["/lib/b.txt"], False, call_later, 0.02)
    assert delays == [0.15, 0.02] and d.pending and len(pending) == 1
    pending.pop()()
    assert fired == [["/lib/a.txt", "/lib/b.txt"]] and not d.pending


# --- the server's session, unchanged but for the watcher ---------------------------------------

async def _session(tmp_path, lib):
    from paperlens.lsp.session import Session

    session = Session()
    session.loop = asyncio.get_running_loop()
    session.configure({"paperFolders": [str(lib)], "indexPath": str(tmp_path / "ix"), "indexWorkers": 1},
                      [str(lib)])
    updated = asyncio.Condition()

    async def notify():
        async with updated:
            updated.notify_all()

    session.on_indexed = lambda reports: session.loop.create_task(notify())

    async def until(condition):
        async def wait():
            async with updated:
                await updated.wait_for(condition)
        await asyncio.wait_for(wait(), HANG_GUARD)

    session.schedule_index()
    await until(lambda: session.indexed_once and not session.indexing)
    session.watch_with_watchdog(session.folders())
    assert session.watcher is not None
    return session, until


async def test_session_indexes_one_new_file_without_a_walk(tmp_path, walks):
    """The server as it runs: before, the parent folder's event made it walk the folder again."""
    lib = tmp_path / "lib"
    write_papers(lib, 3)
    session, until = await _session(tmp_path, lib)
    try:
        walks.clear()                   # the first update's walk
        (lib / "new.txt").write_text(paper_text("A Freshly Written Paper", "freshword"), encoding="utf-8")
        await until(lambda: "A Freshly Written Paper" in titles(session.library))
        assert walks == []
    finally:
        session.shutdown()


async def test_session_indexes_a_folder_moved_in_without_a_walk(tmp_path, walks):
    lib = tmp_path / "lib"
    write_papers(lib, 3)
    session, until = await _session(tmp_path, lib)
    try:
        walks.clear()
        write_papers(tmp_path / "staging" / "batch", 2, prefix="m")
        os.rename(tmp_path / "staging" / "batch", lib / "batch")
        await until(lambda: {"Paper m 0 Title", "Paper m 1 Title"} <= titles(session.library))
        assert walks == []
    finally:
        session.shutdown()
