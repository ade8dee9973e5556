"""The server's session at the edges of its life: an update that cannot write the index is
reported to the user, a shutdown or a change of folders stops what runs for the old library
(its parser workers, summary calls in flight), and the status never shows a secret of the
summary server's address (issue 13, cases 2 and 7)."""
from __future__ import annotations

import asyncio
import threading

from paperlens.core.index.base import IndexReport
from paperlens.core.library import Library
from paperlens.lsp import session as session_module
from paperlens.lsp.session import Session

HANG_GUARD = 120.0     # only so that a broken session fails instead of hanging the run
STOPPED = "indexing stopped: paperlens is exiting"


def _session(tmp_path, folder, **settings) -> Session:
    folder.mkdir(exist_ok=True)
    session = Session()
    session.configure({"paperFolders": [str(folder)], "indexPath": str(tmp_path / "ix"),
                       "indexWorkers": 1, **settings}, [str(folder)])
    return session


async def test_an_update_that_cannot_write_the_index_is_shown_to_the_user(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    session = _session(tmp_path, folder)
    said = f"disk full while writing the index at {tmp_path / 'ix'}"
    monkeypatch.setattr(session.library, "update",
                        lambda **kw: [IndexReport(folder=str(folder), error=said)])
    shown: list[str] = []
    session.on_warning = shown.append
    done = asyncio.Event()
    session.loop = asyncio.get_running_loop()
    session.on_indexed = lambda reports: done.set()
    try:
        session.schedule_index()
        await asyncio.wait_for(done.wait(), HANG_GUARD)
        assert shown == [f"paperlens: {said}"]
        assert [r["error"] for r in session.status()["last"]] == [said]
    finally:
        session.shutdown()


def test_shutdown_stops_updates_and_summary_calls(tmp_path):
    session = _session(tmp_path, tmp_path / "lib")
    store = session.library.stores[0]
    service = session.summaries()
    session.shutdown()
    assert store.update().error == STOPPED          # its workers killed, nothing committed
    assert service._closed


def test_new_folders_stop_the_old_librarys_update(tmp_path):
    session = _session(tmp_path, tmp_path / "a")
    old = session.library.stores[0]
    (tmp_path / "b").mkdir()
    assert session.configure({"paperFolders": [str(tmp_path / "b")], "indexPath": str(tmp_path / "ix")},
                             [str(tmp_path / "a")])
    try:
        assert old.update().error == STOPPED
        assert session.library.stores[0].update().error == ""
    finally:
        session.shutdown()


def test_status_shows_the_summary_server_without_its_secrets(tmp_path):
    session = _session(tmp_path, tmp_path / "lib", summary={
        "provider": "openai", "baseUrl": "https://alice:hunter2pw@llm.example.org/v1?api-key=sk-secret123"})
    try:
        shown = session.status()["summary"]["baseUrl"]
        assert "llm.example.org/v1" in shown
        assert "hunter2pw" not in shown and "alice" not in shown and "sk-secret123" not in shown
    finally:
        session.shutdown()


async def test_new_folders_are_opened_off_the_event_loop(tmp_path, monkeypatch):
    """Opening a library reads each folder's paper table (tens of megabytes at 10k papers): the
    server's settings change did it on the event loop, which answered nothing meanwhile."""
    opened_on: list[threading.Thread] = []

    class Recorded(Library):
        def __init__(self, *args, **kwargs):
            opened_on.append(threading.current_thread())
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(session_module, "Library", Recorded)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    session = Session()
    session.loop = asyncio.get_running_loop()
    try:
        settings = {"paperFolders": [str(tmp_path / "a")], "indexPath": str(tmp_path / "ix")}
        assert await session.configure_async(settings, [str(tmp_path)])
        assert not await session.configure_async(settings)          # the same folders: kept
        assert await session.configure_async({**settings, "paperFolders": [str(tmp_path / "b")]})
        assert [str(s.folder) for s in session.library.stores] == [str((tmp_path / "b").resolve())]
        assert len(opened_on) == 2 and threading.current_thread() not in opened_on
    finally:
        session.shutdown()


async def test_the_fallback_watcher_starts_off_the_event_loop(tmp_path, monkeypatch):
    """watchdog adds an inotify watch to every folder under a paper folder as it starts, in the
    thread that starts it: that was the event loop's."""
    from paperlens.core.watch import FolderWatcher

    started_on: list[threading.Thread] = []
    start = FolderWatcher.start

    def recorded(self):
        started_on.append(threading.current_thread())
        return start(self)

    monkeypatch.setattr(FolderWatcher, "start", recorded)
    session = _session(tmp_path, tmp_path / "lib")
    session.loop = asyncio.get_running_loop()
    try:
        await session.watch_with_watchdog_async(session.folders())
        assert session.watcher is not None and session.watcher.folders == session.folders()
        assert len(started_on) == 1 and started_on[0] is not threading.current_thread()
    finally:
        session.shutdown()
