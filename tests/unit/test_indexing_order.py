"""The order of the server's background work around a changed file (issue 14: one changed file
searchable within a second at 10k papers): what is derived from the library (completion's word
index, the citation graph, the features' caches) waits until the library has settled, is made
once after a stream of changes rather than after each, never holds up the next change, and a
changed file is indexed at the event loop's priority (the user waits for it).

Every test is about the order of events, recorded as they happen; updates and graph builds are
held at gates (threading.Event) that the test opens: no sleep, no timing."""
from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from pathlib import Path

import pytest

from paperlens.core.parse import common as parse_common
from paperlens.lsp.session import Session

HANG_GUARD = 120.0     # only so that a broken session fails instead of hanging the run


def write_papers(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"p{i}.txt"
        p.write_text(f"Paper {i} Title\n\nAlice Martin\n\nAbstract\nWe study word{i} retrieval.\n",
                     encoding="utf-8")
        out.append(p)
    return out


class Recorder:
    """Events from any thread, in the order they happen; ``until`` waits on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: list[str] = []
        self._lock = threading.Lock()
        self._changed = asyncio.Condition()

    def add(self, event: str) -> None:
        with self._lock:
            self.events.append(event)
        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(self._notify()))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, condition) -> None:
        async def wait():
            async with self._changed:
                await self._changed.wait_for(condition)
        await asyncio.wait_for(wait(), HANG_GUARD)


async def drained(session: Session) -> None:
    """Every job queued on the session's lanes before now has run (each lane is one thread)."""
    for lane in (session.lane, getattr(session, "graph_lane", session.lane)):
        await asyncio.wrap_future(lane.submit(lambda: None))


def gated(record: Recorder, name: str, fn, gate: threading.Event | None = None):
    def run(*args, **kwargs):
        record.add(f"{name} start")
        if gate is not None:
            assert gate.wait(HANG_GUARD)
        try:
            return fn(*args, **kwargs)
        finally:
            record.add(f"{name} end")
    return run


@pytest.fixture
async def served(tmp_path):
    """A session serving a library of three papers, its first update done and settled; the
    library's update of changed files, completion's word index and the citation graph are
    recorded (and may be held at a gate)."""
    lib = tmp_path / "lib"
    papers = write_papers(lib, 3)
    loop = asyncio.get_running_loop()
    record = Recorder(loop)
    session = Session()
    session.loop = loop
    session.configure({"paperFolders": [str(lib)], "indexPath": str(tmp_path / "ix"), "indexWorkers": 1},
                      [str(lib)])
    session.on_library_settled = lambda: record.add("settled")
    session.schedule_index()
    await record.until(lambda: "settled" in record.events)
    await drained(session)
    library = session.library
    gates = {"update": threading.Event(), "graph": threading.Event()}
    for g in gates.values():
        g.set()
    library.update_paths = gated(record, "update", library.update_paths, gates["update"])
    library.build_tables = gated(record, "tables", library.build_tables)
    library.graph = gated(record, "graph", library.graph, gates["graph"])
    record.events.clear()
    try:
        yield session, record, gates, papers
    finally:
        for g in gates.values():
            g.set()
        session.shutdown()


def change(path: Path, word: str) -> None:
    path.write_text(f"{path.stem} Changed\n\nAlice Martin\n\nAbstract\nNow about {word}.\n", encoding="utf-8")


async def test_the_graph_asked_for_during_an_update_is_built_after_it(tmp_path):
    """At start the first completion asks for the graph: built then, it competed with the
    first requests and the start's update for the interpreter, and was of a library about to
    change."""
    lib = tmp_path / "lib"
    write_papers(lib, 3)
    record = Recorder(asyncio.get_running_loop())
    session = Session()
    session.loop = asyncio.get_running_loop()
    session.configure({"paperFolders": [str(lib)], "indexPath": str(tmp_path / "ix"), "indexWorkers": 1},
                      [str(lib)])
    gate = threading.Event()
    library = session.library
    library.update = gated(record, "update", library.update, gate)
    library.graph = gated(record, "graph", library.graph)
    try:
        session.schedule_index()
        await record.until(lambda: "update start" in record.events)
        future = session.build_graph()
        await drained(session)
        assert "graph start" not in record.events and not future.done()
        gate.set()
        graph = await asyncio.wait_for(asyncio.wrap_future(future), HANG_GUARD)
        assert graph is session.library.graph_if_ready()
        assert record.events.index("update end") < record.events.index("graph start")
    finally:
        gate.set()
        session.shutdown()


async def test_what_is_derived_from_the_library_is_made_once_after_a_stream_of_changes(served):
    session, record, gates, papers = served
    gates["update"].clear()
    change(papers[0], "zebra")
    session.notify_changed([str(papers[0])], settle=0)
    await record.until(lambda: "update start" in record.events)
    change(papers[1], "yak")
    session.schedule_index([str(papers[1])])        # queued behind the running update
    gates["update"].set()
    await record.until(lambda: record.events.count("update end") == 2 and "settled" in record.events)
    await drained(session)
    assert record.events.count("tables start") == 1
    assert record.events.count("graph start") == 1
    assert record.events.count("settled") == 1
    second_update_end = len(record.events) - 1 - record.events[::-1].index("update end")
    assert record.events.index("tables start") > second_update_end
    assert record.events.index("graph start") > second_update_end
    assert {"Paper 0 Title", "Paper 1 Title"}.isdisjoint(r.title for r in session.library.rows())


async def test_a_graph_being_built_does_not_hold_up_the_next_changes_word_index(served):
    """The graph has a lane of its own: completion's word index of the next change's table is
    built while a graph build (seconds at 10k papers) is still running."""
    session, record, gates, papers = served
    gates["graph"].clear()
    change(papers[0], "zebra")
    session.notify_changed([str(papers[0])], settle=0)
    await record.until(lambda: "graph start" in record.events)      # held at its gate
    change(papers[1], "yak")
    session.notify_changed([str(papers[1])], settle=0)
    def tables_after_second_update() -> bool:
        ends = [i for i, e in enumerate(record.events) if e == "update end"]
        return len(ends) == 2 and "tables end" in record.events[ends[1]:]

    await record.until(tables_after_second_update)
    assert "graph end" not in record.events
    assert "p1 Changed" in {r.title for r in session.library.rows()}
    gates["graph"].set()
    await record.until(lambda: "graph end" in record.events)


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own nice value on Linux")
async def test_a_changed_file_is_indexed_at_the_loops_priority(served):
    """The whole library is indexed at a low priority; a changed file, which the user waits
    for, at the event loop's."""
    session, record, gates, papers = served
    nice: dict[str, int] = {}
    library = session.library
    inner_paths, inner_all = library.update_paths, library.update

    def update_paths(paths):
        nice["changed"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return inner_paths(paths)

    def update(**kwargs):
        nice["all"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return inner_all(**kwargs)

    library.update_paths, library.update = update_paths, update
    change(papers[0], "zebra")
    session.notify_changed([str(papers[0])], settle=0)
    await record.until(lambda: "settled" in record.events)
    session.schedule_index()
    await record.until(lambda: record.events.count("settled") == 2)
    loop_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert nice["changed"] == loop_nice
    assert nice["all"] > loop_nice


async def test_a_changed_file_is_indexed_with_the_garbage_collector_paused(served):
    """A collection of the whole heap (a 10k library's table) cost up to 0.15 CPU-s of the
    second a changed file has to become searchable; the collector runs again afterwards."""
    session, record, gates, papers = served
    seen: list[bool] = []
    library = session.library
    inner = library.update_paths

    def update_paths(paths):
        seen.append(gc.isenabled())
        return inner(paths)

    library.update_paths = update_paths
    change(papers[0], "zebra")
    session.notify_changed([str(papers[0])], settle=0)
    await record.until(lambda: "settled" in record.events)
    assert seen == [False]
    # the graph built once the library settled pauses the collector too (core/graph.py): it
    # runs again once that build is over as well
    await drained(session)
    assert gc.isenabled()


async def test_parsing_is_loaded_before_the_first_change(tmp_path, monkeypatch):
    """The tokenizer that sizes passages (~0.5 CPU-s to load) is loaded once the library has
    first settled, not while the first changed file is parsed."""
    counted: list[str] = []
    monkeypatch.setattr(parse_common, "count_tokens", lambda text: counted.append(text) or 1)
    lib = tmp_path / "lib"
    write_papers(lib, 1)
    loop = asyncio.get_running_loop()
    record = Recorder(loop)
    session = Session()
    session.loop = loop
    session.configure({"paperFolders": [str(lib)], "indexPath": str(tmp_path / "ix"), "indexWorkers": 1},
                      [str(lib)])
    session.on_library_settled = lambda: record.add("settled")
    try:
        session.schedule_index()
        await record.until(lambda: "settled" in record.events)
        await drained(session)
        assert counted
    finally:
        session.shutdown()
