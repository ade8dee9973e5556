"""Fallback file watching with watchdog, for editors that cannot watch files for the server.

Events are reduced to paths (both ends of a move, so an atomic "write temp + rename" shows up as
the final file) and handed to a callback from watchdog's thread; the caller debounces.

A folder's events never ask for a walk of the whole paper folder: its "modified" event (its
listing changed: a file in it was created, deleted or renamed) is dropped, since that file's own
event comes too; a folder created, moved or deleted is handed over as a path like a file's, and
``corpus.diff`` looks at what is (or was) under it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterable, Optional

log = logging.getLogger(__name__)


class FolderWatcher:
    def __init__(self, folders: Iterable[str], on_paths: Callable[[list[str], bool], None]):
        """``on_paths(paths, rescan)``: ``paths`` are files and folders (a folder stands for what
        is under it); ``rescan`` (look at every file again) is never asked for by an event."""
        self.folders = [str(Path(f)) for f in folders]
        self.on_paths = on_paths
        self._observer = None

    def start(self) -> bool:
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except Exception as exc:  # watchdog missing or broken: stay up without watching
            log.warning("cannot watch paper folders (watchdog unavailable: %s)", exc)
            return False
        outer = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                paths = outer.paths_of(event)
                if not paths:
                    return
                try:
                    outer.on_paths(paths, False)
                except Exception:
                    log.exception("file event handler failed")

        observer = Observer()
        handler = Handler()
        for folder in self.folders:
            if Path(folder).is_dir():
                observer.schedule(handler, folder, recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        log.info("watching %d paper folder(s) with watchdog", len(self.folders))
        return True

    @staticmethod
    def paths_of(event) -> list[str]:
        """The paths an event asks to look at again (none for a folder's "modified" event)."""
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return []
        if event.is_directory and kind not in ("created", "deleted", "moved"):
            return []            # its listing or attributes changed: its files' events come too
        paths = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        return [os.fsdecode(p) for p in paths]

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None


class Debouncer:
    """Collects changed paths and calls ``flush(paths | None)`` once things are quiet.

    ``call_later(delay, fn)`` is the event loop's ``call_later`` (thread-safety is the
    caller's: call ``add`` on the loop's thread).  Each ``add`` waits ``delay`` seconds (the
    default one unless given) for more before the paths are flushed: raw file-system events
    come in bursts (a save is a write, a rename, attribute changes), an editor's notifications
    come already batched and wait less.
    """

    def __init__(self, flush: Callable[[Optional[list[str]]], None], delay: float = 0.15):
        self.flush_cb = flush
        self.delay = delay
        self.paths: set[str] = set()
        self.rescan = False
        self._handle = None

    @property
    def pending(self) -> bool:
        """Paths are waiting to be flushed."""
        return self._handle is not None

    def add(self, paths: Iterable[str], rescan: bool, call_later, delay: Optional[float] = None) -> None:
        self.paths.update(paths)
        self.rescan = self.rescan or rescan
        if self._handle is not None:
            self._handle.cancel()
        self._handle = call_later(self.delay if delay is None else delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        paths, rescan = sorted(self.paths), self.rescan
        self.paths, self.rescan = set(), False
        self.flush_cb(None if rescan else paths)


class ZoteroWatcher:
    """Watches a Zotero data folder for writes to its databases: ``zotero.sqlite``, its WAL
    (where Zotero's commits land first) and Better BibTeX's ``better-bibtex.sqlite`` (and its
    WAL). Only that folder, not ``storage/`` (thousands of folders): an attachment added or
    changed is a write to the database too.

    Events come from watchdog (inotify and the like: at once) and, as a safety net for
    folders where those are not delivered (a network or synced drive), from a poll of the
    four files' stats every :attr:`POLL_SECONDS`. ``on_paths(paths, rescan)`` is called from
    either thread with the database's path; the caller debounces."""

    NAMES = ("zotero.sqlite", "zotero.sqlite-wal", "better-bibtex.sqlite", "better-bibtex.sqlite-wal")
    POLL_SECONDS = 2.0

    def __init__(self, data_dir: str | os.PathLike[str], on_paths: Callable[[list[str], bool], None]):
        self.data_dir = Path(data_dir)
        self.on_paths = on_paths
        self._observer = None
        self._stop = None
        self._thread = None

    def _signature(self) -> tuple:
        out = []
        for name in self.NAMES:
            try:
                st = os.stat(self.data_dir / name)
                out.append((st.st_size, st.st_mtime_ns, st.st_ino))
            except OSError:
                out.append(None)
        return tuple(out)

    def _changed(self, path: str) -> None:
        try:
            self.on_paths([path], False)
        except Exception:
            log.exception("Zotero change handler failed")

    def relevant(self, path: str) -> bool:
        p = Path(os.fsdecode(path))
        return p.name in self.NAMES and p.parent == self.data_dir

    def start(self) -> bool:
        import threading

        db = str(self.data_dir / "zotero.sqlite")
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            outer = self

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event):
                    if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                        return
                    paths = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
                    if any(outer.relevant(p) for p in paths):
                        outer._changed(db)

            if self.data_dir.is_dir():
                observer = Observer()
                observer.schedule(Handler(), str(self.data_dir), recursive=False)
                observer.daemon = True
                observer.start()
                self._observer = observer
        except Exception as exc:        # watchdog missing or broken: the poll below still runs
            log.warning("cannot watch %s with watchdog (%s); polling it", self.data_dir, exc)
        stop = self._stop = threading.Event()
        first = self._signature()      # as start() returns: a write after it is a change

        def poll() -> None:
            last = first
            while not stop.wait(self.POLL_SECONDS):
                now = self._signature()
                if now != last:
                    last = now
                    self._changed(db)

        self._thread = threading.Thread(target=poll, name="paperlens-zotero-poll", daemon=True)
        self._thread.start()
        log.info("watching the Zotero library in %s", self.data_dir)
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
        if self._stop is not None:
            self._stop.set()
            self._stop = None
