"""The library and its updates: the index queue, the debounce of file events, the watchdog
fallback watcher, the progress of the running update and the reports of the last one.

Updates run on worker threads, one at a time; requests keep answering from what is already
indexed (the persisted paper table and the last committed index generation) while one runs.
An update of the whole library runs at a low priority; one of changed files runs at the
loop's, since the user waits for it (a file they saved, searched for a second later).  Changes
that arrive meanwhile are queued and indexed once it ends.

What is derived from the library (completion's word index, the search's warm-up, the citation
graph, through ``on_settled`` the features' caches) is made once the library has *settled*: no
update runs or is due and no change waits for one.  Made after every update of a stream of
changes, it would compete for the interpreter with the next change's update, and be thrown
away by it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import os
import threading
from typing import Callable, Optional

from paperlens.core.counts import PaperCounts
from paperlens.core.library import Library
from paperlens.core.watch import Debouncer, FolderWatcher, ZoteroWatcher
from paperlens.core.collector import gc_paused
from paperlens.lsp.background import Lane, background_executor, release_free_memory

log = logging.getLogger(__name__)

# what the first hover card imports: loaded on the lane at start, not by the first request
FIRST_REQUEST_MODULES = ("paperlens.core.cards", "paperlens.core.summarize")
# what parsing the first changed paper text loads (its parser; the tokenizer that sizes its
# passages: ~0.5 CPU-s whatever the library's size): loaded on the lane once the library first
# settles, not while the user waits for the file they saved to be searchable
FIRST_CHANGE_MODULES = ("paperlens.core.parse.text",)
# seconds a change the editor notified (didChangeWatchedFiles, didSave) waits for more: its
# notifications come batched (a save sends both at once); watchdog's raw events, a burst per
# save, wait the Debouncer's default
EDITOR_SETTLE = 0.02
# an update of at most this many changed files (not folders) runs with the garbage collector
# paused: a collection of the whole heap (a 10k library's table and its lookups) cost up to
# 0.15 CPU-s of a changed file's second; a bigger update may make garbage for minutes
GC_PAUSED_FILES = 16
# seconds between two looks at a library's database (its writer's NOTIFY; when it is away, a
# new connection): on the index thread, never in a request
REMOTE_POLL_SECONDS = 2.0


class Indexing:
    """Owns the :class:`Library`; every update of it goes through :meth:`schedule`.

    Hooks, each optional: ``on_progress(phase, done, total, message)`` ("begin" and "report"
    from the update's thread, "end" on the event loop once the update's reports are in);
    ``on_indexed(reports)`` on the event loop after each update; ``on_settled()`` on the event
    loop once the library has settled after one update or more (see the module's doc);
    ``warn(message)`` from any thread (a problem the user must see); ``changed()`` from any
    thread when what :meth:`state` shows has changed."""

    def __init__(self, lane: Lane) -> None:
        self.library: Library = Library([])
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.running = False             # an update runs, or is due (new folders are not indexed yet)
        self.indexed_once = False        # an update of these folders has ended
        self.progress: Optional[tuple[int, int]] = None     # (files done, files) of the running update
        self.last_reports: list = []     # IndexReport of each folder, from the last update
        self.on_progress: Optional[Callable[[str, int, int, str], None]] = None
        self.on_indexed: Optional[Callable[[list], None]] = None
        self.on_settled: Optional[Callable[[], None]] = None
        self.warn: Callable[[str], None] = lambda message: None
        self.changed: Callable[[], None] = lambda: None
        self.debouncer = Debouncer(self._flush_changes)
        self.watcher: Optional[FolderWatcher] = None
        self.zotero_watcher: Optional[ZoteroWatcher] = None
        self._lane = lane
        # the whole library's updates and the looks at a library's database: low priority
        self._executor = background_executor("paperlens-index", low_priority=True)
        # changed files: the user waits for them
        self._changes_executor = background_executor("paperlens-changes")
        self._serial = threading.Lock()            # one update (or look at the database) at a time
        self._settle_due = False                   # an update ended since the library last settled
        self._warmed = False                       # FIRST_CHANGE_MODULES are loaded
        self._pending: Optional[asyncio.Future] = None
        self._queued_all = False
        self._queued_paths: list[str] = []
        self._prepared: Optional[tuple] = None     # (library, the future of its preparation)
        self._counts: dict[int, tuple] = {}        # id(store) -> (its table, PaperCounts of it)
        self._polling: Optional[asyncio.TimerHandle] = None     # the next look at the database
        self._poll_due = False                     # a look runs or is queued on the index thread
        self._away_said = ""                       # the database's absence, said once

    # -- the library -------------------------------------------------------------------------
    def stop_updates(self) -> None:
        """The running update of the library stops now (its parser workers are killed,
        nothing is committed)."""
        for store in self.library.stores:
            store.abort()

    def replace(self, library: Library) -> None:
        """Serve ``library`` from now on (the old one's update stops now, the old one is
        closed); it counts as being indexed until its first update ends."""
        old = self.library
        self.stop_updates()
        library.tables_built_behind = True       # _done builds them on the lane
        # an index in a database is read here (its writer is `paperlens index --backend`),
        # its table reloaded by poll_remote on the index thread, never in a request
        library.writes_remote = False
        library.remote_polled_behind = True
        library.on_remote_unavailable = self.poll_remote_soon
        self._away_said = ""
        self.library = library
        old.close()
        self._watch_zotero(library)
        self._counts.clear()
        self.running = True
        self.indexed_once = False
        self.progress = None
        # completion's word index is built after the first update (_done): built now, it would
        # compete with the first requests for the interpreter (an empty prefix does not need it)

    def _watch_zotero(self, library: Library) -> None:
        """Watch the Zotero library ``library`` reads (if any): a commit in Zotero updates it
        (debounced like file events; the update reads what changed, on the index thread)."""
        if self.zotero_watcher is not None:
            self.zotero_watcher.stop()
            self.zotero_watcher = None
        if library.zotero is None:
            return
        log.info("reading the Zotero library in %s", library.zotero.describe())
        watcher = ZoteroWatcher(library.zotero.folder, lambda paths, rescan: self.notify_changed(paths, rescan))
        if watcher.start():
            self.zotero_watcher = watcher

    def counts(self) -> PaperCounts:
        """Papers as completion counts them (a text joined to its entry is one paper), counted
        once per paper table (a table is replaced, never changed, when its index changes)."""
        total = PaperCounts()
        for store in self.library.stores:
            total = total + self._store_counts(store)
        return total

    def _store_counts(self, store) -> PaperCounts:
        table = store.table
        cached = self._counts.get(id(store))
        if cached is None or cached[0] is not table:
            cached = self._counts[id(store)] = (table, PaperCounts.of(table.rows))
        return cached[1]

    # -- updates -----------------------------------------------------------------------------
    def _prepare(self, library: Library) -> None:
        """At start, on the lane while the index is checked: what the first hover and the
        first completion would otherwise do on the event loop (0.5-1 s at 10k papers: modules,
        the index reader, the tables' lookups, completion's word index)."""
        for module in FIRST_REQUEST_MODULES:
            importlib.import_module(module)
        library.prepare()

    def schedule(self, paths: Optional[list[str]] = None, rebuild: bool = False) -> None:
        """Start (or queue) a background update of ``paths`` (None: every file); never blocks
        the caller.  Call on the event loop."""
        if self.loop is None:
            return
        if self._prepared is None or self._prepared[0] is not self.library:
            self._prepared = (self.library, self._lane.submit(self._prepare, self.library, low_priority=False))
        zotero = self.library.zotero
        zotero_paths = zotero is not None and (paths is None or any(self.library.store_for(p) is zotero
                                                                     for p in paths))
        if self._pending is not None and not self._pending.done():
            if paths is None:
                self._queued_all = True
            else:
                self._queued_paths.extend(paths)
            if zotero_paths:
                zotero.hurry()       # its attachments' texts wait: the new items first
            return
        self.running = True
        # changed files at the loop's priority (the user waits); the whole library, and the
        # Zotero library (its attachments' texts may take minutes), at a low one
        executor = self._executor if paths is None or zotero_paths else self._changes_executor
        self._pending = self.loop.run_in_executor(executor, self._run, paths, rebuild)
        self._pending.add_done_callback(self._done)
        self.changed()

    def _report_progress(self, done: int, total: int, rel: str) -> None:
        self.progress = (done, total)
        self.changed()
        if self.on_progress:
            self.on_progress("report", done, total, rel)

    def _run(self, paths: Optional[list[str]], rebuild: bool) -> list:
        """The update, on a worker thread; its reports are logged here, not on the event loop."""
        prepared = self._prepared[1] if self._prepared is not None else None
        if prepared is not None:          # what the first requests need comes first
            concurrent.futures.wait([prepared])
        with self._serial:
            try:
                if paths is not None and len(paths) <= GC_PAUSED_FILES and not any(map(os.path.isdir, paths)):
                    with gc_paused():
                        return self._update(paths, rebuild)
                return self._update(paths, rebuild)
            finally:
                release_free_memory()

    def _update(self, paths: Optional[list[str]], rebuild: bool) -> list:
        library = self.library
        self.progress = (0, 0)
        if self.on_progress:
            self.on_progress("begin", 0, 0, "")
        try:
            if paths is not None:
                reports = library.update_paths(paths)
            else:
                reports = library.update(progress=self._report_progress, force_rebuild=rebuild)
        except Exception:
            log.exception("indexing failed; the previous index stays in use")
            reports = []
        self._log_reports(library, reports)
        self._check_remote(library)
        return reports

    def _log_reports(self, library: Library, reports: list) -> None:
        replaced = library is not self.library      # new folders: its update was stopped
        remote = {str(s.folder) for s in library.remote}
        for r in reports:
            if r.error and r.folder in remote and not replaced:
                log.info("%s", r.error)      # said once, by _check_remote
            elif r.error and replaced:
                log.info("%s (%s: no longer served)", r.error, r.folder)
            elif r.error:     # the index stays as it was (disk full, cannot write): say so
                log.warning("%s", r.error)
                self.warn(f"paperlens: {r.error}")
            store = next((st for st in library.stores if str(st.folder) == r.folder), None)
            counts = self._store_counts(store) if store is not None else PaperCounts()
            log.info("indexed %s: %s; %d records written, %d files skipped in %.2f s%s", r.folder,
                     counts.describe(), r.papers_indexed, len(r.skipped), r.seconds,
                     f" [rebuilt: {r.rebuilt}]" if r.rebuilt else "")
            for path, reason in r.skipped:
                log.warning("skipped %s: %s", path, reason)
            for w in r.warnings:
                log.warning("%s", w)

    def _done(self, fut: asyncio.Future) -> None:
        """On the event loop, once an update has ended: its reports are in :attr:`last_reports`
        before the end of its progress is sent (an editor that waits for it sees them)."""
        self.running = False
        self.indexed_once = True
        self.progress = None
        if fut.cancelled():           # shutting down: nothing to report
            return
        try:
            reports = fut.result()
        except BaseException:         # _run catches what an update raises: this is unexpected
            log.exception("indexing failed; the previous index stays in use")
            reports = []
        self.last_reports = reports
        self._settle_due = True
        if self.on_progress:
            self.on_progress("end", 0, 0, "")
        if self.on_indexed:
            self.on_indexed(reports)
        self.changed()
        if self._queued_all or self._queued_paths:
            paths = None if self._queued_all else self._queued_paths
            self._queued_all, self._queued_paths = False, []
            self.schedule(paths)
        elif self.library.zotero is not None and self.library.zotero.texts_pending:
            # texts left by an update that a Zotero change cut short: on with them
            self.schedule([str(self.library.zotero.folder / "zotero.sqlite")])
        self._settle()
        self._poll_later()

    # -- what is derived from the library, once it has settled ---------------------------------
    def updating(self) -> bool:
        """An update runs or is due (on the loop; another thread may ask, for a hint)."""
        return bool(self.running or self._queued_all or self._queued_paths)

    def settled(self) -> bool:
        """No update runs or is due, and no change waits for one (on the loop)."""
        return not (self.updating() or self.debouncer.pending)

    def _settle(self) -> None:
        """On the loop, whenever an update ends or a change turns out to need none: once the
        library has settled after an update, make what is derived from it (in the background)
        and tell ``on_settled``."""
        if not self._settle_due or not self.settled() or self.loop is None:
            return
        self._settle_due = False
        library = self.library
        self._lane.submit(self._derive, library, library.build_tables)   # completion's lookups
        self._lane.submit(self._derive, library, library.warm_search)    # the first search's preparation
        if not self._warmed:
            self._warmed = True
            self._lane.submit(self._warm_parsing, library)
        if self.on_settled:
            self.on_settled()

    def _derive(self, library: Library, make: Callable[[], None]) -> None:
        """On the lane: ``make()``, unless the library changed meanwhile or an update runs or
        is due (the next settle makes it for what that update commits)."""
        if library is self.library and not self.updating():
            make()
            release_free_memory()

    def _warm_parsing(self, library: Library) -> None:
        """On the lane, once: what parsing the first changed file loads (see
        :data:`FIRST_CHANGE_MODULES`), for a library with folders indexed here."""
        if library is not self.library or all(any(s is r for r in library.remote) for s in library.stores):
            return
        for module in FIRST_CHANGE_MODULES:
            importlib.import_module(module)
        from paperlens.core.parse.common import count_tokens

        count_tokens("paperlens")

    # -- a library in a database ------------------------------------------------------------
    def _poll_later(self) -> None:
        """Look at the library's database again in :data:`REMOTE_POLL_SECONDS` (on the loop)."""
        if self.loop is None or self.loop.is_closed() or not self.library.remote:
            return
        if self._polling is None or self._polling.cancelled():
            self._polling = self.loop.call_later(REMOTE_POLL_SECONDS, self._poll_now)

    def poll_remote_soon(self) -> None:
        """From any thread (a search found the database away): look at it now."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._poll_now)
            except RuntimeError:       # closed meanwhile: shutting down
                pass

    def _poll_now(self) -> None:
        """On the loop: queue a look at the database on the index thread (one at a time; it
        waits behind a running update, whose end looks at it too)."""
        if self._polling is not None:
            self._polling.cancel()
            self._polling = None
        library = self.library
        if not library.remote or self._poll_due or self.loop is None or self.loop.is_closed():
            return
        self._poll_due = True
        try:
            fut = self.loop.run_in_executor(self._executor, self._poll, library)
        except RuntimeError:           # the executor was shut down: exiting
            self._poll_due = False
            return
        fut.add_done_callback(lambda f: self._polled(f, library))

    def _poll(self, library: Library) -> bool:
        """On the index thread: what the database's writer committed, or a new connection to
        a database that was away; True when a table changed."""
        with self._serial:
            changed = library.poll_remote()
            self._check_remote(library)
            return changed

    def _polled(self, fut: asyncio.Future, library: Library) -> None:
        self._poll_due = False
        if library is not self.library or fut.cancelled():
            return
        changed = False
        try:
            changed = fut.result()
        except Exception:
            log.exception("reading the library's database failed")
        if changed:          # as after an update: completion's lookups, search, the graph
            self._settle_due = True
            if self.on_indexed:
                self.on_indexed([])
            self.changed()
            self._settle()
        self._poll_later()

    def _check_remote(self, library: Library) -> None:
        """Say once that the library's database is away (the status says it while it is), and
        log its return."""
        if library is not self.library or not library.remote:
            return
        away = library.remote_unavailable()
        if away and not self._away_said:
            self._away_said = away
            if any(s.outdated for s in library.remote):      # it answers: its tables are old
                then = "search waits until the library is indexed again"
            else:
                then = "search cannot reach the library until it is back (paperlens reconnects by itself)"
            self.warn(f"paperlens: {away}. Completion and hover answer from the papers read before; {then}")
            self.changed()
        elif not away and self._away_said:
            self._away_said = ""
            log.info("the library's database answers again")
            self.changed()

    # -- file changes ------------------------------------------------------------------------
    def notify_changed(self, paths: list[str], rescan: bool = False, settle: Optional[float] = None) -> None:
        """Files changed on disk (from any thread): re-index them once no event came for
        ``settle`` seconds (None: the debouncer's default, for raw file-system events;
        :data:`EDITOR_SETTLE` for the editor's notifications)."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.debouncer.add, paths, rescan, self.loop.call_later, settle)

    def _flush_changes(self, paths: Optional[list[str]]) -> None:
        if paths is None:
            self.schedule()
            return
        # files and folders alike: a folder created, moved or deleted is looked at alone
        # (corpus.diff walks what is under it), never the whole paper folder again
        # (a folder whose index is in a database is indexed by its writer, not here)
        relevant = [p for p in paths if (store := self.library.store_for(p)) is not None
                    and not any(store is r for r in self.library.remote)]
        if relevant:
            self.schedule(relevant)
        else:            # nothing to index: what waited for these changes goes on
            self._settle()

    def _new_watcher(self, folders: list[str]) -> FolderWatcher:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        return FolderWatcher(folders, lambda paths, rescan: self.notify_changed(paths, rescan))

    def watch_with_watchdog(self, folders: list[str]) -> None:
        """Watch ``folders`` with watchdog (for editors that cannot watch files for us)."""
        watcher = self._new_watcher(folders)
        self.watcher = watcher if watcher.start() else None

    async def watch_with_watchdog_async(self, folders: list[str]) -> None:
        """:meth:`watch_with_watchdog`, started on a worker thread: watchdog adds an inotify
        watch to every folder under the paper folders as it starts, in the caller's thread."""
        watcher = self._new_watcher(folders)
        self.watcher = watcher if await asyncio.to_thread(watcher.start) else None

    def shutdown(self) -> None:
        """A running update stops now (its parser workers are killed, nothing is committed);
        exit never waits for it."""
        self.stop_updates()
        if self._polling is not None:
            self._polling.cancel()
            self._polling = None
        if self.watcher is not None:
            self.watcher.stop()
        if self.zotero_watcher is not None:
            self.zotero_watcher.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._changes_executor.shutdown(wait=False, cancel_futures=True)
        self.library.close()
