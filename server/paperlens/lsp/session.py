"""Server state: settings, the library and its background indexing, open-document helpers.

Indexing runs on a worker thread; requests keep answering from what is already indexed (the
persisted paper table and the last committed Whoosh generation) while it runs.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlparse

from paperlens.config import Settings, redacted_url, settings_from_dict
from paperlens.core.counts import PaperCounts
from paperlens.core.index.store import IndexReport
from paperlens.core.library import Library
from paperlens.core.watch import Debouncer, FolderWatcher

log = logging.getLogger(__name__)


def uri_to_path(uri: str) -> Optional[Path]:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


# Background threads (indexing, tables, the citation graph, diagnostics) run Python loops that
# hold the interpreter; the event loop waits for it each time it wakes up, and pygls wakes it
# several times per message (it reads stdin on a thread).  At CPython's default of 5 ms a
# switch, a completion answered in 1 ms took 60-200 ms while start-up work ran: 0.5 ms keeps
# each wait short (the background work gets a little slower, never the requests).
SWITCH_INTERVAL = 0.0005


def lower_priority() -> None:
    """Make the calling (background) thread yield the CPU to the event loop's thread when both
    want it (Linux: a thread has its own nice value); elsewhere nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def background_executor(name: str, low_priority: bool = False) -> ThreadPoolExecutor:
    """One worker thread for background work; ``low_priority`` for work requests do not wait
    for, or only for a moment (a request waiting for a lock held by a low-priority thread
    waits longer when the machine is busy)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name,
                              initializer=lower_priority if low_priority else None)


class Session:
    """The server's state.  Work that takes long runs off the event loop, on two threads at a
    low priority (the event loop's thread gets the CPU first when both want it): indexing,
    and the lane of what is derived from an index, one job after the other: at start what the
    first requests need (:meth:`_prepare`, before the index is checked); once an update is
    committed completion's word index, the search's warm-up and the citation graph (the graph
    earlier when a request asks for it)."""

    def __init__(self) -> None:
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.settings = Settings()
        self.workspace_folders: list[str] = []
        self.library: Library = Library([])
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._executor = background_executor("paperlens-index", low_priority=True)
        self._pending: Optional[asyncio.Future] = None
        self._queued_all = False
        self._queued_paths: list[str] = []
        self.indexing = False
        self.indexed_once = False
        self.last_reports: list[IndexReport] = []
        self.settings_errors: list[str] = []
        self.on_progress: Optional[Callable[[str, int, int, str], None]] = None   # (phase, done, total, msg)
        self.on_indexed: Optional[Callable[[list[IndexReport]], None]] = None
        # a warning the user must see (window/showMessage), from any thread
        self.on_warning: Optional[Callable[[str], None]] = None
        self.debouncer = Debouncer(self._flush_changes)
        self.watcher: Optional[FolderWatcher] = None
        self.paper_text_views: dict[str, str] = {}       # PDF text view file -> the PDF
        self.paper_text_lines: dict[str, list[int]] = {} # view file -> line of each text line
        self._cards: dict[tuple, str] = {}
        self._summaries = None
        # derived data is built on its own lane: never on the event loop, never queued behind
        # an index update (nor an update behind it)
        self._lane = background_executor("paperlens-derived")
        self._graph_future: Optional[tuple] = None    # (library, future of its graph being built)
        self._graph_lock = threading.Lock()
        self._prepared: Optional[tuple] = None     # (library, the future of its preparation)

    # -- configuration ---------------------------------------------------------------------
    def configure(self, data: Any, workspace_folders: Optional[list[str]] = None) -> bool:
        """Apply settings; returns True when the set of folders or the index path changed."""
        settings, errors = settings_from_dict(data)
        self.settings_errors = errors
        for e in errors:
            log.warning("settings: %s", e)
        if workspace_folders is not None:
            self.workspace_folders = workspace_folders
        old = (self.folders(), self.settings.index_path, self.settings.index_workers)
        if settings.summary != self.settings.summary:
            self._cards.clear()      # cards show the summary of the old settings
        self.settings = settings
        new = (self.folders(), settings.index_path, settings.index_workers)
        if new != old or not self.library.stores:
            for store in self.library.stores:   # an update of the old folders stops now
                store.abort()
            self.library.close()
            self.library = Library(new[0], settings.index_path or None, settings.index_workers or None)
            self.indexing = True          # until the first update of these folders is done
            self.indexed_once = False
            # completion's word index is built after the first update (_index_done): built
            # now, it would compete with the first requests for the interpreter (an empty
            # prefix does not need it)
            return True
        return False

    def _derive(self, fn, *args, low_priority: bool = True) -> Optional[concurrent.futures.Future]:
        """Queue ``fn(*args)`` on the lane of derived data (None once shut down), at a low
        priority unless asked otherwise (the first job, what the first requests wait for, runs
        at the loop's priority; the lane stays low from the first low job on).  A failure is
        logged (the server goes on without what it would have prepared)."""
        def job():
            if low_priority:
                lower_priority()
            return fn(*args)

        try:
            future = self._lane.submit(job)
        except RuntimeError:
            return None

        def failed(f: concurrent.futures.Future) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.error("background work failed", exc_info=f.exception())

        future.add_done_callback(failed)
        return future

    def prebuild_tables(self) -> None:
        """Build the completion lookups of the persisted tables off the request path."""
        self._derive(self.library.build_tables)

    def folders(self) -> list[str]:
        """Configured paper folders (relative ones are taken from the first workspace folder)."""
        base = Path(self.workspace_folders[0]) if self.workspace_folders else Path.cwd()
        configured = self.settings.paper_folders or self.workspace_folders
        out = []
        for f in configured:
            p = Path(f).expanduser()
            out.append(str((base / p).resolve() if not p.is_absolute() else p.resolve()))
        return out

    # -- cards, summaries, citation graph ---------------------------------------------------
    def summaries(self):
        """The summary service for the current settings (re-created when they change)."""
        from paperlens.core.summarize import SummaryService

        key = (repr(self.settings.summary), self.settings.index_path)
        if self._summaries is None or self._summaries[0] != key:
            if self._summaries is not None:
                self._summaries[1].close()
            from paperlens.config import summary_cache_dir

            # one service per summary configuration: a wrong key or server is shown once per
            # configuration (the service reports each kind of error once), not on every hover
            service = SummaryService(self.settings.summary, summary_cache_dir(self.settings.index_path),
                                     report=lambda msg: log.warning("LLM summaries: %s", msg),
                                     alert=self._summary_alert, on_done=self._summary_done)
            self._summaries = (key, service)
        return self._summaries[1]

    def drafts(self):
        """The user's drafts in the workspace and paper folders (for find references)."""
        from paperlens.core.drafts import DraftIndex

        folders = sorted(set(self.workspace_folders) | set(self.folders()))
        if getattr(self, "_drafts", None) is None or self._drafts.folders != [Path(f) for f in folders]:
            self._drafts = DraftIndex(folders)
        return self._drafts

    def view_source(self, path: str) -> str:
        """A PDF text view's file -> the PDF (also after a restart, from the view's sidecar)."""
        if path in self.paper_text_views:
            return self.paper_text_views[path]
        if not Path(path).name:
            return path
        sidecar = Path(path).with_suffix(".json")
        if Path(path).parent.name == "texts" and sidecar.is_file():
            try:
                import json

                data = json.loads(sidecar.read_text(encoding="utf-8"))
                self.paper_text_views[path] = data["pdf"]
                self.paper_text_lines[path] = data["lines"]
                return data["pdf"]
            except (OSError, ValueError, KeyError):
                pass
        return path

    def _summary_alert(self, message: str) -> None:
        """A summary setting that needs the user's attention (no key, unreachable server)."""
        log.warning("LLM summaries: %s", message)
        if self.on_warning is not None:
            self.on_warning(f"paperlens: LLM summaries: {message}")

    def _summary_done(self, paper, summary, error) -> None:
        self._cards.clear()          # the next hover shows the new summary
        if summary is not None:
            log.info("summary ready: %s (%s)", paper.key or paper.title, summary.kind)

    def graph_line(self, row, graph=None) -> str:
        """How the library cites ``row`` (its citation graph, or ``graph``); "" while the
        graph is not built (its build is started)."""
        graph = graph if graph is not None else self.library.graph_if_ready()
        if graph is None:
            self.schedule_graph()
            return ""
        n_by, n_cites = len(graph.cited_by.get(row.id, ())), len(graph.cites.get(row.id, {}))
        parts = []
        if n_by:
            parts.append(f"cited by {n_by} paper{'s' if n_by != 1 else ''} in your library")
        if n_cites:
            parts.append(f"cites {n_cites} paper{'s' if n_cites != 1 else ''} of your library")
        return "; ".join(parts).capitalize()

    def schedule_graph(self) -> None:
        """Build the citation graph in the background (never on a request's path)."""
        if self.loop is None:
            return
        self.build_graph()

    def build_graph(self) -> concurrent.futures.Future:
        """The citation graph of the library, built on the lane of derived data: a future
        that is done at once when the graph is already built, else shared by every caller
        until the build ends (a worker thread may wait for it; the event loop never does)."""
        library = self.library
        done: concurrent.futures.Future = concurrent.futures.Future()
        ready = library.graph_if_ready()
        if ready is not None:
            done.set_result(ready)
            return done
        with self._graph_lock:
            pending = self._graph_future
            if pending is not None and pending[0] is library and not pending[1].done():
                return pending[1]
            future = self._derive(self._build_graph, library)
            if future is None:
                done.set_exception(RuntimeError("the server is shutting down"))
                return done
            self._graph_future = (library, future)
            return future

    def _build_graph(self, library: Library):
        gate = os.environ.get("PAPERLENS_FAULT_GRAPH_GATE")
        if gate:     # for the tests: the build waits until this file exists (at most a minute)
            deadline = time.monotonic() + 60
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.02)
        try:
            return library.graph()
        finally:
            self._cards.clear()      # cards show the graph's line from now on

    def card(self, row) -> str:
        """The hover card of a library paper, with its summary and citation-graph line."""
        from paperlens.core.cards import library_card

        store = self.library.store_for(row.source)
        key = (row.id, store.stamp if store else None, self.library.graph_if_ready() is not None)
        cached = self._cards.get(key)
        if cached is not None:
            return cached
        card = library_card(self.library, row, self.summaries(), self.graph_line(row))
        if len(self._cards) > 2000:
            self._cards.clear()
        self._cards[key] = card
        return card

    # -- indexing ---------------------------------------------------------------------------
    def _prepare(self, library: Library) -> None:
        """At start, on the lane while the index is checked: what the first hover and the
        first completion would otherwise do on the event loop (0.5-1 s at 10k papers: modules,
        the index reader, the tables' lookups, completion's word index)."""
        import importlib

        for module in ("paperlens.core.cards", "paperlens.core.summarize"):   # a hover card's
            importlib.import_module(module)
        library.prepare()

    def schedule_index(self, paths: Optional[list[str]] = None, rebuild: bool = False) -> None:
        """Start (or queue) a background index update; never blocks the caller."""
        if self.loop is None:
            return
        if self._prepared is None or self._prepared[0] is not self.library:
            self._prepared = (self.library, self._derive(self._prepare, self.library, low_priority=False))
        if self._pending is not None and not self._pending.done():
            if paths is None:
                self._queued_all = True
            else:
                self._queued_paths.extend(paths)
            return
        self.indexing = True
        self._pending = self.loop.run_in_executor(self._executor, self._run_index, paths, rebuild)
        self._pending.add_done_callback(self._index_done)

    def _progress(self, done: int, total: int, rel: str) -> None:
        if self.on_progress:
            self.on_progress("report", done, total, rel)

    def _run_index(self, paths: Optional[list[str]], rebuild: bool) -> list[IndexReport]:
        prepared = self._prepared[1] if self._prepared is not None else None
        if prepared is not None:          # what the first requests need comes first
            concurrent.futures.wait([prepared])
        if self.on_progress:
            self.on_progress("begin", 0, 0, "")
        try:
            if paths is not None:
                return self.library.update_paths(paths)
            return self.library.update(progress=self._progress, force_rebuild=rebuild)
        finally:
            if self.on_progress:
                self.on_progress("end", 0, 0, "")

    def _index_done(self, fut: asyncio.Future) -> None:
        self.indexing = False
        self.indexed_once = True
        if fut.cancelled():           # shutting down: nothing to report
            return
        try:
            reports = fut.result()
        except Exception:
            log.exception("indexing failed; the previous index stays in use")
            reports = []
        self.last_reports = reports
        for r in reports:
            if r.error:       # the index stays as it was (disk full, cannot write): say so
                log.warning("%s", r.error)
                if self.on_warning is not None:
                    self.on_warning(f"paperlens: {r.error}")
            store = next((st for st in self.library.stores if str(st.folder) == r.folder), None)
            counts = PaperCounts.of(store.table.rows if store else ())
            log.info("indexed %s: %s; %d records written, %d files skipped in %.2f s%s", r.folder,
                     counts.describe(), r.papers_indexed, len(r.skipped), r.seconds,
                     f" [rebuilt: {r.rebuilt}]" if r.rebuilt else "")
            for path, reason in r.skipped:
                log.warning("skipped %s: %s", path, reason)
            for w in r.warnings:
                log.warning("%s", w)
        self._cards.clear()
        self.prebuild_tables()
        if self.loop is not None:     # the first search's preparation (a search would do it itself)
            self._derive(self.library.warm_search)
        self.schedule_graph()
        if self.on_indexed:
            self.on_indexed(reports)
        if self._queued_all or self._queued_paths:
            paths = None if self._queued_all else self._queued_paths
            self._queued_all, self._queued_paths = False, []
            self.schedule_index(paths)

    # -- file changes -------------------------------------------------------------------------
    def notify_changed(self, paths: list[str], rescan: bool = False) -> None:
        """Files changed on disk (from any thread): re-index them once events settle."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.debouncer.add, paths, rescan, self.loop.call_later)

    def _flush_changes(self, paths: Optional[list[str]]) -> None:
        if paths is None:
            self.schedule_index()
            return
        # files and folders alike: a folder created, moved or deleted is looked at alone
        # (corpus.diff walks what is under it), never the whole paper folder again
        relevant = [p for p in paths if self.library.store_for(p) is not None]
        if relevant:
            self.schedule_index(relevant)

    def watch_with_watchdog(self, folders: list[str]) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = FolderWatcher(folders, lambda paths, rescan: self.notify_changed(paths, rescan))
        if not self.watcher.start():
            self.watcher = None

    def shutdown(self) -> None:
        # a running update stops now (its parser workers are killed, nothing is committed),
        # and summary calls in flight end: exit never waits for either
        for store in self.library.stores:
            store.abort()
        if self._summaries is not None:
            self._summaries[1].close()
        if self.watcher is not None:
            self.watcher.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._lane.shutdown(wait=False, cancel_futures=True)
        self.library.close()

    def counts(self) -> PaperCounts:
        """Papers as completion counts them (a text joined to its entry is one paper)."""
        return sum((PaperCounts.of(s.table.rows) for s in self.library.stores), PaperCounts())

    def status(self) -> dict:
        counts = self.counts()
        return {"indexing": self.indexing, "folders": self.folders(),
                "papers": counts.papers, "records": counts.records,
                "summary": {"provider": self.settings.summary.provider, "model": self.settings.summary.model,
                            "baseUrl": redacted_url(self.settings.summary.base_url)},
                "settings_errors": self.settings_errors,
                "last": [r.to_dict() for r in self.last_reports],
                "work": self.work()}

    def work(self) -> dict:
        """What this process has read and built so far (the tests count work with it): the
        characters the citation finders read and their scans of whole documents, the LaTeX
        buffers read whole for their project facts, the citation graphs built."""
        from paperlens.core import citations

        done = citations.work_done()
        drafts = getattr(self, "_drafts", None)
        return {"citation_chars_read": done["chars"], "whole_document_scans": done["whole"],
                "project_fact_scans": drafts.projects.full_scans if drafts is not None else 0,
                "graph_builds": self.library.graph_builds}

    @staticmethod
    def new_token() -> str:
        return f"paperlens-index-{uuid.uuid4().hex[:8]}"
