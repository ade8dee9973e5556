"""The server's state, as a composition of parts that each own their state and its lifecycle:

* :class:`~paperlens.lsp.configuration.Configuration`: the settings and workspace folders;
* :class:`~paperlens.lsp.indexing.Indexing`: the library, its update queue, file events and
  the watchdog watcher;
* :class:`~paperlens.lsp.graph.CitationGraphs`: the library's citation graph, built off the loop;
* :class:`~paperlens.lsp.summaries.Summaries`, :class:`~paperlens.lsp.drafts.Drafts`,
  :class:`~paperlens.lsp.paper_texts.PaperTextViews`.

:class:`Session` makes them, wires their events to each other, applies settings and says what
the status is.  Work that takes long runs off the event loop (see
:mod:`~paperlens.lsp.indexing`): indexing; the :class:`~paperlens.lsp.background.Lane` of what is
derived from an index, one job after the other (at start what the first requests need, before the
index is checked; once the library has settled after an update, completion's word index and the
search's warm-up); and the citation graph's own lane, so that its build (seconds at 10k papers)
never holds up the others.  The graph is built once the library has settled: a request that asks
for it while an update runs or is due gets it once that update is done.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from typing import Any, Callable, Optional

from paperlens.config import redacted_url
from paperlens.core.counts import PaperCounts
from paperlens.core.library import Library
from paperlens.core.collector import gc_paused
from paperlens.lsp.background import Lane, fewer_malloc_arenas, short_switch_interval
from paperlens.lsp.configuration import Configuration
from paperlens.lsp.drafts import Drafts
from paperlens.lsp.graph import CitationGraphs
from paperlens.lsp.indexing import Indexing
from paperlens.lsp.paper_texts import PaperTextViews
from paperlens.lsp.summaries import Summaries


class Session:
    def __init__(self) -> None:
        short_switch_interval()
        fewer_malloc_arenas()      # before the session's threads start
        self.config = Configuration()
        self.lane = Lane("paperlens-derived")
        self.graph_lane = Lane("paperlens-graph")
        self.index = Indexing(self.lane)
        self.graphs = CitationGraphs(self.graph_lane, lambda: self.index.library, on_built=self._graph_built)
        self._graph_lock = threading.Lock()
        # the graph asked for while the library was being updated: given once it has settled
        self._graph_waiting: Optional[concurrent.futures.Future] = None
        self.summary_services = Summaries(alert=self._warn)
        self.texts = PaperTextViews()
        self.user_drafts = Drafts()
        self.index.warn = self._warn
        self.index.changed = self._changed
        self.index.on_settled = self._library_settled
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._configuring: Optional[asyncio.Lock] = None
        # a warning the user must see (window/showMessage), from any thread
        self.on_warning: Optional[Callable[[str], None]] = None
        # the status may have changed (from any thread): the server pushes it
        self.on_status_changed: Optional[Callable[[], None]] = None
        # the library has settled after an update (on the loop): the features' caches follow it
        self.on_library_settled: Optional[Callable[[], None]] = None

    # -- wiring ------------------------------------------------------------------------------
    @property
    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The event loop, once the server serves (None in-process: nothing runs behind)."""
        return self._loop

    @loop.setter
    def loop(self, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self._loop = self.index.loop = self.graphs.loop = loop

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)

    def _changed(self) -> None:
        if self.on_status_changed is not None:
            self.on_status_changed()

    def _graph_built(self) -> None:
        self._changed()

    def _library_settled(self) -> None:
        with self._graph_lock:
            waiting, self._graph_waiting = self._graph_waiting, None
        self.graphs.schedule()
        if waiting is not None:
            _chain(self.graphs.build(), waiting)
        if self.on_library_settled is not None:
            self.on_library_settled()

    # -- configuration -----------------------------------------------------------------------
    def _settle(self, data: Any, workspace_folders: Optional[list[str]]) -> Optional[tuple]:
        """Apply the settings; the shape of the library to make, when it must be made anew
        (None when the library in use stays)."""
        old_shape = self._shape()
        self.config.apply(data, workspace_folders)
        shape = self._shape()
        return shape if shape != old_shape or not self.index.library.stores else None

    def _shape(self) -> tuple:
        """The arguments of the Library the settings make: the folders', then the Zotero
        library's (see :meth:`zotero_source`), then the backend of the folders' indexes."""
        return self.config.library_shape() + (self.zotero_source(), self.config.backend())

    def zotero_source(self) -> Optional[tuple]:
        """(data folder, collections or None, found rather than configured) of the Zotero
        library to read: ``paperlens.zotero.dataDir``, else Zotero's default data folder when
        it exists; None when disabled or none is found."""
        z = self.config.settings.zotero
        if not z.enabled:
            return None
        collections = tuple(z.collections) if z.collections else None
        if z.data_dir.strip():
            return (str(Path(z.data_dir.strip()).expanduser()), collections, False)
        from paperlens.core.zotero.reader import default_data_dir

        found = default_data_dir()
        return (str(found), collections, True) if found is not None else None

    def configure(self, data: Any, workspace_folders: Optional[list[str]] = None) -> bool:
        """Apply settings; returns True when the set of folders or the index path changed
        (the library is made anew here, on the caller's thread: in-process use, and the
        server's initialize, whose first library must be open before the next message is read;
        later changes use :meth:`configure_async`)."""
        shape = self._settle(data, workspace_folders)
        if shape is not None:
            self.index.replace(_open_library(shape))
        self._changed()
        return shape is not None

    async def configure_async(self, data: Any, workspace_folders: Optional[list[str]] = None) -> bool:
        """:meth:`configure` with the new library opened on a worker thread (it reads every
        folder's paper table: 10k papers are tens of megabytes of JSON), the event loop
        answering meanwhile from the library in use.  Settings apply in the order given."""
        if self._configuring is None:
            self._configuring = asyncio.Lock()
        async with self._configuring:
            shape = self._settle(data, workspace_folders)
            if shape is not None:
                library = await asyncio.to_thread(_open_library, shape)
                self.index.replace(library)
            self._changed()
            return shape is not None

    @property
    def settings(self):
        return self.config.settings

    @property
    def settings_errors(self) -> list[str]:
        return self.config.errors

    @property
    def workspace_folders(self) -> list[str]:
        return self.config.workspace_folders

    def folders(self) -> list[str]:
        """Configured paper folders (relative ones are taken from the first workspace folder)."""
        return self.config.folders()

    # -- the library and its updates ----------------------------------------------------------
    @property
    def library(self) -> Library:
        return self.index.library

    @property
    def indexing(self) -> bool:
        """An update runs or is due (new folders are not indexed yet)."""
        return self.index.running

    @indexing.setter
    def indexing(self, value: bool) -> None:
        self.index.running = value

    @property
    def indexed_once(self) -> bool:
        return self.index.indexed_once

    @indexed_once.setter
    def indexed_once(self, value: bool) -> None:
        self.index.indexed_once = value

    @property
    def last_reports(self) -> list:
        return self.index.last_reports

    @property
    def on_progress(self):
        return self.index.on_progress

    @on_progress.setter
    def on_progress(self, fn) -> None:
        self.index.on_progress = fn

    @property
    def on_indexed(self):
        return self.index.on_indexed

    @on_indexed.setter
    def on_indexed(self, fn) -> None:
        self.index.on_indexed = fn

    @property
    def watcher(self):
        return self.index.watcher

    def schedule_index(self, paths: Optional[list[str]] = None, rebuild: bool = False) -> None:
        """Start (or queue) a background index update; never blocks the caller."""
        self.index.schedule(paths, rebuild)

    def notify_changed(self, paths: list[str], rescan: bool = False, settle: Optional[float] = None) -> None:
        """Files changed on disk (from any thread): re-index them once events settle (see
        :meth:`Indexing.notify_changed`)."""
        self.index.notify_changed(paths, rescan, settle)

    def watch_with_watchdog(self, folders: list[str]) -> None:
        self.index.watch_with_watchdog(folders)

    async def watch_with_watchdog_async(self, folders: list[str]) -> None:
        """Watch with watchdog, started off the event loop (it walks the folders)."""
        await self.index.watch_with_watchdog_async(folders)

    def counts(self) -> PaperCounts:
        """Papers as completion counts them (a text joined to its entry is one paper)."""
        return self.index.counts()

    # -- what the features read -----------------------------------------------------------------
    def build_graph(self) -> concurrent.futures.Future:
        """The library's citation graph: a future (done at once when it is built).  From any
        thread.  While an update of the library runs or is due, the build waits for it (the
        future is done once the library has settled): built now, the graph would be of a
        library about to change, and would compete with the update for the interpreter (at
        start, the first completion asks for it)."""
        if self.loop is None:
            return self.graphs.build()
        with self._graph_lock:
            if self.index.updating():
                ready = self.index.library.graph_if_ready()
                if ready is not None:
                    done: concurrent.futures.Future = concurrent.futures.Future()
                    done.set_result(ready)
                    return done
                if self._graph_waiting is None:
                    self._graph_waiting = concurrent.futures.Future()
                return self._graph_waiting
        return self.graphs.build()

    def schedule_graph(self) -> None:
        self.graphs.schedule()

    def summaries(self):
        """The summary service for the current settings (re-created when they change)."""
        return self.summary_services.service(self.config.settings)

    def drafts(self):
        """The user's drafts in the workspace and paper folders (for find references)."""
        return self.user_drafts.index(self.config.workspace_folders + self.config.folders())

    @property
    def paper_text_views(self) -> dict[str, str]:
        return self.texts.views

    @property
    def paper_text_lines(self) -> dict[str, list[int]]:
        return self.texts.lines

    def view_source(self, path: str) -> str:
        """A PDF text view's file -> the PDF (also after a restart, from the view's sidecar)."""
        return self.texts.source(path)

    # -- status and end --------------------------------------------------------------------------
    def status(self) -> dict:
        """What ``paperlens.server.status`` answers and ``paperlens/status`` carries."""
        counts = self.counts()
        summary = self.config.settings.summary
        progress = self.index.progress if self.index.running else None
        return {"indexing": self.index.running, "folders": self.folders(),
                "papers": counts.papers, "records": counts.records,
                "progress": {"done": progress[0], "total": progress[1]} if progress else None,
                "summary": {"provider": summary.provider, "model": summary.model,
                            "baseUrl": redacted_url(summary.base_url)},
                "settings_errors": self.config.errors,
                "zotero": self.zotero_status(),
                "index": self.index_status(),
                "last": [r.to_dict() for r in self.index.last_reports],
                "work": self.work()}

    def index_status(self) -> dict:
        """Where the folders' indexes are: ``{"backend": "whoosh"}``, or the library's database
        (``backend: "postgresql"``, its URL without user name or password, whether it answers,
        whether its tables are of an older format (``outdated``: index again), and why not)."""
        status = self.index.library.backend_status()
        if status is None:
            return {"backend": "whoosh"}
        return {"backend": status["kind"], "url": status["url"], "reachable": status["reachable"],
                "outdated": bool(status.get("outdated")), "error": status["error"]}

    def zotero_status(self) -> dict:
        """Which Zotero library is read: its folder, whether it is configured or the default
        one found, its items, the attachments' texts still to read, why it cannot be read;
        ``found: "none"`` when enabled but no library was found."""
        if not self.config.settings.zotero.enabled:
            return {"enabled": False}
        status = self.index.library.zotero_status()
        if status is None:
            return {"enabled": True, "dataDir": None, "found": "none"}
        return {"enabled": True, **status}

    def work(self) -> dict:
        """What this process has read and built so far (the tests count work with it): the
        characters the citation finders read and their scans of whole documents, the LaTeX
        buffers read whole for their project facts, the citation graphs built."""
        from paperlens.core import citations

        done = citations.work_done()
        return {"citation_chars_read": done["chars"], "whole_document_scans": done["whole"],
                "project_fact_scans": self.user_drafts.project_fact_scans,
                "graph_builds": self.index.library.graph_builds}

    def shutdown(self) -> None:
        """A running update stops now (its parser workers are killed, nothing is committed),
        and summary calls in flight end: exit never waits for either."""
        self.on_status_changed = None
        self.index.stop_updates()
        self.summary_services.close()
        with self._graph_lock:
            waiting, self._graph_waiting = self._graph_waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_exception(RuntimeError("the server is shutting down"))
        self.lane.shutdown()
        self.graph_lane.shutdown()
        self.index.shutdown()


def _open_library(shape: tuple) -> Library:
    """The library the settings make, its paper tables read (tens of thousands of rows at 10k
    papers) with the garbage collector paused (see lsp/background.py)."""
    with gc_paused():
        return Library(*shape)


def _chain(source: concurrent.futures.Future, target: concurrent.futures.Future) -> None:
    """``target`` gets ``source``'s result (or exception) once it is done."""
    def copy(f: concurrent.futures.Future) -> None:
        if target.done():
            return
        if f.cancelled():
            target.set_exception(RuntimeError("the citation graph's build was cancelled"))
        elif f.exception() is not None:
            target.set_exception(f.exception())
        else:
            target.set_result(f.result())

    source.add_done_callback(copy)
