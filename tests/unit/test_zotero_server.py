"""Which Zotero library the server reads (settings, the default data folder, the status), and
the watcher of its databases (core/watch.py ZoteroWatcher)."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from paperlens.core.watch import ZoteroWatcher
from paperlens.lsp.session import Session

HANG_GUARD = 120.0     # only so that a broken watcher fails instead of hanging the run


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _session(tmp_path, zotero: dict) -> Session:
    s = Session()
    s.configure({"indexPath": str(tmp_path / "ix"), "paperFolders": [str(tmp_path)], "zotero": zotero})
    return s


def test_the_default_library_is_read_when_found_and_the_status_says_so(tmp_path, home):
    s = _session(tmp_path, {})
    try:
        assert s.library.zotero is None
        assert s.status()["zotero"] == {"enabled": True, "dataDir": None, "found": "none"}
    finally:
        s.shutdown()
    (home / "Zotero").mkdir()
    sqlite3.connect(home / "Zotero" / "zotero.sqlite").close()
    s = _session(tmp_path, {})
    try:
        status = s.status()["zotero"]
        assert status["found"] == "default" and status["dataDir"] == str((home / "Zotero").resolve())
    finally:
        s.shutdown()


def test_a_configured_folder_wins_and_disabled_reads_none(tmp_path, home):
    (home / "Zotero").mkdir()
    sqlite3.connect(home / "Zotero" / "zotero.sqlite").close()
    other = tmp_path / "Elsewhere"
    other.mkdir()
    s = _session(tmp_path, {"dataDir": str(other), "collections": ["A/B"]})
    try:
        status = s.status()["zotero"]
        assert (status["dataDir"], status["found"], status["collections"]) == (str(other.resolve()), "configured", ["A/B"])
        assert s.configure({"indexPath": str(tmp_path / "ix"), "paperFolders": [str(tmp_path)],
                            "zotero": {"enabled": False}})          # the library is made anew
        assert s.library.zotero is None and s.status()["zotero"] == {"enabled": False}
    finally:
        s.shutdown()


def test_the_watcher_tells_writes_to_the_databases_only(tmp_path, monkeypatch):
    data = tmp_path / "Zotero"
    (data / "storage" / "ABCD1234").mkdir(parents=True)
    (data / "zotero.sqlite").write_bytes(b"x")
    seen: list[list[str]] = []
    event = threading.Event()

    def on_paths(paths, rescan):
        seen.append(paths)
        event.set()

    watcher = ZoteroWatcher(data, on_paths)
    assert watcher.start()
    try:
        (data / "storage" / "ABCD1234" / "paper.pdf").write_bytes(b"%PDF")
        (data / "prefs.js").write_text("x")
        (data / "zotero.sqlite-wal").write_bytes(b"wal frame")
        assert event.wait(HANG_GUARD)
        assert all(p == [str(data / "zotero.sqlite")] for p in seen)
    finally:
        watcher.stop()


def test_the_poll_finds_writes_without_events(tmp_path, monkeypatch):
    """Where no events come (watchdog missing, a network drive), the stat poll still tells."""
    import builtins

    real_import = builtins.__import__

    def no_watchdog(name, *args, **kwargs):
        if name.startswith("watchdog"):
            raise ImportError("no watchdog here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_watchdog)
    monkeypatch.setattr(ZoteroWatcher, "POLL_SECONDS", 0.05)
    data = tmp_path / "Zotero"
    data.mkdir()
    (data / "zotero.sqlite").write_bytes(b"x")
    event = threading.Event()
    watcher = ZoteroWatcher(data, lambda paths, rescan: event.set())
    assert watcher.start()
    try:
        assert watcher._observer is None
        (data / "better-bibtex.sqlite").write_bytes(b"keys")
        assert event.wait(HANG_GUARD)
    finally:
        watcher.stop()
