"""The library: every configured paper folder, each with its own index, seen as one.

Features reach the indexes through the methods here (or a folder's ``SearchIndex``, from
``stores`` / ``store_for``), never through the index's implementation."""
from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

from paperlens.config import default_index_root, index_dir_for, redacted_backend
from paperlens.core.index import open_index
from paperlens.core.index.base import IndexReport, Progress, SearchIndex
from paperlens.core.index.table import Row, fold, year_int
from paperlens.core.graph import CitationGraph
from paperlens.core.saved_graph import file_for as saved_graph_file
from paperlens.core.models import Paper, Reference

if TYPE_CHECKING:
    from paperlens.core.index.base import SearchHit
    from paperlens.core.references import LibraryEntry, ReferenceMatcher

log = logging.getLogger(__name__)


def event_path(path: str | os.PathLike[str]) -> Path:
    """A path from a file event or a request, made absolute with its folders resolved but its
    last part kept: a symbolic link stands for itself (the index decides whether it may be read),
    not for the file it leads to."""
    p = Path(path).expanduser()
    if p.name in ("", ".", ".."):
        return p.resolve()
    return p.absolute().parent.resolve() / p.name


def schema_for(folder: Path) -> str:
    """The PostgreSQL schema of a paper folder's tables: ``paperlens_`` and the folder's name
    (lowercase letters, digits, ``_``), the same on every machine whatever the folder's
    place there (team members mount the library where they like, under the same name)."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.name.lower()).strip("_")[:40]
    return f"paperlens_{name or 'library'}"


def _ranked(scored: tuple[float, Row]) -> tuple:
    """The order of completion's rows: best score first, then newest, then by key."""
    return -scored[0], -(year_int(scored[1].year) or 0), scored[1].key


class Library:
    """``zotero``: (Zotero data folder, collections or None, whether it is the default one
    found rather than a configured one), or None: a Zotero library read beside the folders
    (:class:`~paperlens.core.zotero.store.ZoteroStore`), its items joined to the folders'
    bibliography entries of the same papers.

    ``backend``: ``whoosh`` (or None) keeps each folder's index in files under ``index_path``;
    a ``postgresql://`` URL keeps it in that database, a library shared by a team (its
    ``remote`` indexes; ``index_path`` then holds the local text views of PDFs). Such a library
    is written by one writer (``paperlens index --backend URL``); a library with
    ``writes_remote`` False (the server, the command line's readers) only reads them: its
    updates reload their tables instead of indexing the folders into the database."""

    # (class defaults too: a Library made without __init__, as a test's stand-in, has them)
    backend: Optional[str] = None
    remote: "list[SearchIndex] | tuple" = ()
    writes_remote = True
    remote_polled_behind = False
    on_remote_unavailable = None
    zotero = None
    tables_built_behind = False
    _joined = None
    _keys = None
    _building: "set[int] | frozenset" = frozenset()
    graph_file: Optional[Path] = None

    def __init__(self, folders: Iterable[str | os.PathLike[str]], index_path: str | None = None,
                 workers: Optional[int] = None, zotero: Optional[tuple] = None,
                 backend: Optional[str] = None):
        self.backend = backend if backend and backend != "whoosh" else None
        self.stores: list[SearchIndex] = []
        seen = set()
        schemas: set[str] = set()
        for folder in folders:
            f = Path(folder).expanduser().resolve()
            if f in seen:
                continue
            seen.add(f)
            schema = None
            if self.backend:         # one schema per folder: several folders in one database
                schema = base = schema_for(f)
                n = 1
                while schema in schemas:
                    n += 1
                    schema = f"{base}_{n}"
                if n > 1:
                    log.warning("two paper folders are named %s: %s's tables are in schema %s",
                                f.name, f, schema)
                schemas.add(schema)
            self.stores.append(open_index(f, index_dir_for(f, index_path), workers=workers or None,
                                          backend=self.backend, schema=schema))
        self.remote: list[SearchIndex] = list(self.stores) if self.backend else []
        self.writes_remote = True
        # set by a caller that reloads the remote tables off its requests (the server's index
        # thread, see poll_remote): then refresh() leaves them alone (a request never waits
        # for a database), and an index known to be away is not read by a hover
        self.remote_polled_behind = False
        self.on_remote_unavailable = None       # called when a search found the database away
        self.zotero = None
        if zotero is not None:
            from paperlens.core.zotero.store import ZoteroStore

            data_dir, collections, default = zotero
            d = Path(data_dir).expanduser().resolve()
            # its own index folder: named after the database, never after a paper folder's
            self.zotero = ZoteroStore(d, index_dir_for(d / "zotero.sqlite", index_path), collections,
                                      workers=workers or None, default=default)
            self.stores.append(self.zotero)
        self._join_lock = threading.Lock()
        self._joined: Optional[tuple] = None
        # set by a caller that builds the tables' word indexes in the background after each
        # update (the server): meanwhile a changed Zotero table is matched by keys (see complete)
        self.tables_built_behind = False
        self._keys: Optional[tuple] = None          # (tables, frozenset of keys, {key: suggestions})
        self._graph_lock = threading.Lock()
        self.graph_builds = 0
        # where the citation graph is kept between sessions (beside the indexes)
        root = Path(index_path).expanduser() if index_path else default_index_root()
        self.graph_file: Optional[Path] = saved_graph_file(root, self.stores) if self.stores else None
        self._building: set[int] = set()             # ids of tables whose word index is being built

    # -- indexing ------------------------------------------------------------------------
    def update(self, progress: Optional[Progress] = None, force_rebuild: bool = False) -> list[IndexReport]:
        reports = []
        for store in self.stores:
            if self._reads_only(store):
                reports.append(self._reload_report(store))
                continue
            if not store.folder.is_dir():
                report = IndexReport(folder=str(store.folder))
                report.skipped.append((str(store.folder), "folder does not exist"))
                reports.append(report)
                continue
            reports.append(store.update(progress=progress, force_rebuild=force_rebuild))
        self.join_zotero()
        return reports

    def update_paths(self, paths: Iterable[str | os.PathLike[str]]) -> list[IndexReport]:
        """Re-check just these files (changed, created or deleted)."""
        by_store: dict[int, list[str]] = {}
        for p in paths:
            store = self.store_for(p)
            if store is not None and not self._reads_only(store):
                rel = event_path(p).relative_to(store.folder).as_posix()
                by_store.setdefault(id(store), []).append(rel)
        reports = [s.update(only=by_store[id(s)]) for s in self.stores if id(s) in by_store]
        self.join_zotero()
        if self.zotero is not None and id(self.zotero) in by_store:
            self.zotero.table.get("")      # its key and id lookups here, not in the next request
        return reports

    def store_for(self, path: str | os.PathLike[str]) -> Optional[SearchIndex]:
        """The index of the folder ``path`` is in (the innermost one), or None."""
        p = event_path(path)
        best = None
        for store in self.stores:
            if p == store.folder or store.folder in p.parents:
                if best is None or len(store.folder.parts) > len(best.folder.parts):
                    best = store
        return best

    # -- a library in a database -------------------------------------------------------------
    def _reads_only(self, store: SearchIndex) -> bool:
        return not self.writes_remote and any(store is r for r in self.remote)

    def _reload_report(self, store: SearchIndex) -> IndexReport:
        """What an update of a remote index read by this library (not written) reports: its
        table reloaded when the database says it changed, or why the database is away."""
        report = IndexReport(folder=str(store.folder))
        store.reload_if_changed()
        report.papers_total = len(store.table.rows)
        report.error = self._said(store.unavailable)
        return report

    def _said(self, message: str) -> str:
        """A remote index's message with its server named as every paperlens message names it
        (config.redacted_backend: no user name or password)."""
        where = [getattr(s, "where", "") for s in self.remote]
        for w in where:
            if w and w in message:
                message = message.replace(w, redacted_backend(self.backend))
        return message

    def remote_unavailable(self) -> str:
        """Why the library's database cannot be read now ("" when it can, or there is none)."""
        for s in self.remote:
            if s.unavailable:
                return self._said(s.unavailable)
        return ""

    def poll_remote(self) -> bool:
        """Pick up what the database's writer committed (its NOTIFY) and connect again to a
        database that was away (background work: the server's index thread calls this every
        few seconds); True when a table changed."""
        changed = False
        for s in self.remote:
            try:
                changed |= bool(s.reload_if_changed())
            except Exception:
                log.exception("reading the library's database failed")
        if changed:
            self.join_zotero()
        return changed

    def backend_status(self) -> Optional[dict]:
        """The library's database for the status (None when its indexes are Whoosh files):
        its URL redacted, whether it answers (``reachable``), whether its tables are of another
        index format (``outdated``: it answers, but is not searched until indexed again), and
        the message saying why it cannot be searched (``error``, "" when it can)."""
        if not self.backend:
            return None
        error = self.remote_unavailable()
        away = any(s.unavailable and s.unavailable != getattr(s, "outdated", "") for s in self.remote)
        outdated = not away and any(getattr(s, "outdated", "") for s in self.remote)
        return {"kind": "postgresql", "url": redacted_backend(self.backend), "reachable": not away,
                "outdated": outdated, "error": error}

    # -- lookups -------------------------------------------------------------------------
    def refresh(self) -> None:
        """See what another process (a second editor window) committed: a stat per index (a
        remote index polled behind is left to its poller)."""
        for s in self.stores:
            if self.remote_polled_behind and any(s is r for r in self.remote):
                continue
            s.reload_if_changed()
        self.join_zotero()

    # -- the Zotero library -----------------------------------------------------------------
    def join_zotero(self) -> None:
        """The Zotero items that are the same paper as a folder's bibliography entry
        (:mod:`paperlens.core.identity`'s rule: DOI, arXiv id, a title of four words or more)
        merged into that entry, as a PDF is into its .bib entry: one paper, the entry's key
        (the document's .bib wins). Done once per change of a table (an identity check
        otherwise)."""
        z = self.zotero
        if z is None:
            return
        others = tuple(s.table for s in self.stores if s is not z)
        own = z.own_table
        state = self._joined
        if state is not None and state[1] is own and len(state[0]) == len(others) \
                and all(a is b for a, b in zip(state[0], others)):
            return
        with self._join_lock:
            from paperlens.core.identity import PaperKeys

            keys: PaperKeys[str] = PaperKeys()
            for t in others:
                for r in t.rows:
                    if r.is_entry and not r.alias_of:
                        keys.add(r.id, r.doi, r.arxiv, r.title)
            z.join(own, keys)
            self._joined = (others, own)

    def zotero_link(self, row: Row) -> str:
        """``zotero://select/...`` of a Zotero item's row (what its definition opens when it
        has no PDF), "" for any other row."""
        return self.zotero.item_link(row) if self.zotero is not None else ""

    def zotero_status(self) -> Optional[dict]:
        """Which Zotero library is read (for the status), None when none is."""
        z = self.zotero
        if z is None:
            return None
        error = z.error or ("" if z.folder.is_dir() else f"{z.folder} does not exist")
        return {"dataDir": str(z.folder), "found": "default" if z.default else "configured",
                "collections": list(z.collections or ()), "items": len(z.own_table.rows),
                "textsPending": z.texts_pending, "error": error}

    def rows(self) -> list[Row]:
        return [r for s in self.stores for r in s.table.rows]

    def _tables(self) -> tuple:
        return tuple(s.table for s in self.stores)

    def _key_state(self) -> tuple:
        """(tables, keys, suggestions) for the tables in use now (a table is replaced, never
        changed, when its index changes: the keys are computed once per change)."""
        tables = self._tables()
        state = self._keys
        if state is None or len(state[0]) != len(tables) or any(a is not b for a, b in zip(state[0], tables)):
            state = (tables, frozenset(r.key for t in tables for r in t.rows), {})
            self._keys = state
        return state

    def keys(self) -> frozenset[str]:
        return self._key_state()[1]

    def row(self, paper_id: str, source: str | os.PathLike[str] | None = None) -> Optional[Row]:
        """The paper table's row of ``paper_id`` (in the index of the folder of ``source``,
        a path, when it is given)."""
        if source is not None:
            store = self.store_for(source)
            return store.table.get(paper_id) if store is not None else None
        for s in self.stores:
            r = s.table.get(paper_id)
            if r is not None:
                return r
        return None

    def text_view_dir(self, path: str | os.PathLike[str]) -> Optional[Path]:
        """Where the read-only text view of the PDF ``path`` may be written (a folder its
        index owns), or None when ``path`` is in no library folder."""
        store = self.store_for(path)
        return store.views_dir() if store is not None else None

    def text_view_dirs(self) -> list[Path]:
        """Every folder text views are written to (requests may read them)."""
        return [s.views_dir() for s in self.stores]

    def readable_folders(self) -> list[Path]:
        """Folders beyond the paper folders whose files requests may read: the text views,
        and the Zotero library's ``storage/`` (its items' PDFs and snapshots)."""
        out = self.text_view_dirs()
        if self.zotero is not None:
            out.append(self.zotero.folder / "storage")
        return out

    def canonical(self, row: Row) -> Row:
        """A paper text merged into a bibliography entry stands for that entry."""
        if row.alias_of:
            return self.row(row.alias_of) or row
        return row

    def candidates(self, key: str) -> list[Row]:
        self.refresh()
        return [r for s in self.stores for r in s.table.find(key)]

    def resolve(self, key: str, preferred_bibs: Iterable[str] = ()) -> Optional[Row]:
        """The paper a key names. When several ``.bib`` files define it, the one the document
        names wins; then an entry of a ``.bib`` file over a paper text."""
        rows = self.candidates(key)
        if not rows:
            return None
        preferred = [str(Path(b).resolve()) for b in preferred_bibs]
        for bib in preferred:
            for r in rows:
                if r.source == bib:
                    return r
        rows.sort(key=lambda r: (not r.is_entry, r.source, r.source_line))
        return self.canonical(rows[0])

    def _readable(self, store: Optional[SearchIndex]) -> Optional[SearchIndex]:
        """``store``, or None when it is a remote index known to be away and its poller (not
        this request) is to connect again."""
        if store is not None and store.unavailable and self.remote_polled_behind \
                and any(store is r for r in self.remote):
            return None
        return store

    def paper(self, row: Row) -> Optional[Paper]:
        store = self._readable(self.store_for(row.source))
        paper = store.paper(row.id) if store else None
        if paper is None:   # index being rebuilt: the table row is enough for a card
            paper = Paper(id=row.id, key=row.key, title=row.title, year=row.year, venue=row.venue,
                          authors=list(row.surnames), source=row.source, source_line=row.source_line,
                          source_kind=row.source_kind, file=row.file)
        if row.fulltext:
            # bibliography metadata, the full text's file (and its abstract when the entry has none)
            paper.file = row.fulltext
            if not paper.abstract:
                text_row = next((r for r in self.rows() if r.source == row.fulltext and r.alias_of == row.id), None)
                text_paper = self.store_for(row.fulltext).paper(text_row.id) if text_row else None
                if text_paper:
                    paper.abstract = text_paper.abstract
        return paper

    SUGGESTION_CUTOFF = 75          # rapidfuzz's ratio (0-100): the difflib cutoff of 0.75 before
    SUGGESTIONS_KEPT = 20000

    def closest_keys(self, key: str, n: int = 3) -> list[str]:
        """Keys that look like a mistyped ``key`` (for unknown-key messages and quick fixes),
        best first: rapidfuzz's normalized InDel ratio of at least 75, as difflib's 0.75
        before (1-2 ms over 10k keys instead of 40).  Remembered until the library changes,
        so an unknown key is compared with the library once, not at every keystroke."""
        _tables, keys, known = self._key_state()
        if key in keys:
            return [key]
        found = known.get(key)
        if found is None:
            from rapidfuzz import fuzz, process

            scored = process.extract(key, self._sorted_keys(keys), scorer=fuzz.ratio, limit=None,
                                     score_cutoff=self.SUGGESTION_CUTOFF)
            found = [k for k, _score, _i in sorted(scored, key=lambda m: (-m[1], m[0]))]
            if len(known) >= self.SUGGESTIONS_KEPT:
                known.clear()
            known[key] = found
        return found[:n]

    def _sorted_keys(self, keys: frozenset) -> list[str]:
        """The keys in order (a tie between suggestions goes to the first in order)."""
        cached = getattr(self, "_key_list", None)
        if cached is None or cached[0] is not keys:
            cached = self._key_list = (keys, sorted(keys))
        return cached[1]

    def complete(self, query: str, limit: int = 50) -> tuple[list[Row], int]:
        """The rows matching what was typed (key prefix, surnames, title words, year), best
        first, and how many matched.  While completion's word index is being built (the
        first second after a start, on a background thread) a typed query is matched against
        the keys only, and the count says there is more (the editor asks again): a request
        never waits for the build."""
        self.refresh()
        if fold(query).strip() and (any(id(s.table) in self._building for s in self.stores)
                                    or self._zotero_unbuilt()):
            return self._complete_keys(fold(query).strip(), limit)
        lists: list[list[tuple[float, Row]]] = []
        total = 0
        for s in self.stores:
            rows, n = s.table.complete(query, limit)
            lists.append(rows)
            total += n
        # each table's list is in this order already (PaperTable.complete: best score, newest,
        # then by key): merged, ties to the first folder's, the order computed only for the
        # rows taken (a sort of every folder's rows again cost ~0.3 ms a keystroke at 10k)
        if len(lists) == 1:
            scored = lists[0][:limit]
        else:
            scored = list(itertools.islice(heapq.merge(*lists, key=_ranked), limit))
        return [r for _, r in scored], total

    def _zotero_unbuilt(self) -> bool:
        """Whether the Zotero library's table changed and its word index is not built yet
        (the server builds it in the background after each update: 25k items take ~0.7 s, and
        a new item is matched by its key meanwhile rather than waiting for it)."""
        z = self.zotero
        return self.tables_built_behind and z is not None and not getattr(z.table, "_built", True)

    def _complete_keys(self, prefix: str, limit: int) -> tuple[list[Row], int]:
        """Rows whose key starts with ``prefix`` (folded), newest first (see :meth:`complete`)."""
        _tables, keys, _known = self._key_state()
        folded = self._folded_keys(keys)
        lo = bisect.bisect_left(folded, (prefix,))
        hi = bisect.bisect_left(folded, (prefix + "\U0010ffff",))
        rows = [r for _f, key in folded[lo:hi] for s in self.stores for r in s.table.find(key)
                if not r.alias_of]
        rows.sort(key=lambda r: (-(year_int(r.year) or 0), r.key))
        return rows[:limit], len(rows) + 1

    def _folded_keys(self, keys: frozenset) -> list[tuple[str, str]]:
        """(folded key, key) of every key, sorted; after a change of a few keys (a new Zotero
        item) the previous list is updated rather than every key folded and sorted again."""
        cached = getattr(self, "_folded", None)
        if cached is None or cached[0] is not keys:
            folded = None
            if cached is not None:
                added, removed = keys - cached[0], cached[0] - keys
                if len(added) + len(removed) <= 64:
                    folded = list(cached[1])
                    for k in removed:
                        i = bisect.bisect_left(folded, (fold(k), k))
                        if i < len(folded) and folded[i][1] == k:
                            del folded[i]
                    for k in added:
                        bisect.insort(folded, (fold(k), k))
            if folded is None:
                folded = sorted((fold(k), k) for k in keys)
            cached = self._folded = (keys, folded)
        return cached[1]

    def prepare(self) -> None:
        """What the first requests need, done ahead of them (background work at start): the
        tables' key and id lookups, the list of keys, the index reader a hover card reads,
        then completion's word index."""
        for s in self.stores:
            s.table.get("")                       # key and id lookups (quick, under the table's lock)
        self._folded_keys(self.keys())
        for s in self.stores:
            try:
                s.prepare()
            except Exception:
                log.exception("opening the index of %s failed", s.folder)
        self.build_tables()

    def build_tables(self) -> None:
        """Build completion's word index of every table (background work; meanwhile
        :meth:`complete` answers from the keys instead of waiting)."""
        for s in self.stores:
            table = s.table
            table.get("")          # the key and id lookups first: a request never waits for the rest
            self._building.add(id(table))
            try:
                table.ensure_built()
            finally:
                self._building.discard(id(table))

    def search(self, query: str, limit: int = 10, per_paper: int = 2) -> list["SearchHit"]:
        """The best passages for ``query`` in every folder (``note`` of the result: how the
        query was limited)."""
        from paperlens.core.index.search import search

        self.refresh()
        hits = search(self.stores, query, limit=limit, per_paper=per_paper)
        away = self.remote_unavailable()
        if away:          # searched without it: say so (the table still answers completion)
            hits.note = "; ".join(n for n in (f"the library cannot be searched: {away}", hits.note) if n)
            if self.on_remote_unavailable is not None:
                self.on_remote_unavailable()
        if not any(s.table.text_of() for s in self.stores):
            return hits      # (no paper text is merged into an entry: the hits stand as they are)
        for h in hits:       # passages of a merged paper text belong to its bibliography entry
            row = self.row(h.paper_id)
            if row is not None and row.alias_of:
                entry = self.canonical(row)
                h.key, h.title = entry.key, entry.title
        return hits

    def warm_search(self) -> None:
        """Load what the first search needs, ahead of it (background work)."""
        from paperlens.core.index.search import warm

        self.refresh()
        warm(self.stores)

    def summary_inputs(self, row: Row):
        """(text paper, its passages, content hash) to summarise ``row``, or None when the
        library has no full text for it. The server's cards and ``paperlens summarize`` both
        use this, so they share cache entries."""
        text_row = self.row_for_file(row.fulltext) if row.fulltext else (None if row.is_entry else row)
        if text_row is None:
            return None
        store = self.store_for(text_row.source)
        content = store.content_hash(text_row.source) if store else ""
        paper = store.paper(text_row.id) if store else None
        if paper is None or not content:
            return None
        return paper, store.passages(text_row.id), f"{content}:{text_row.id}"

    # -- reading inside papers: reference lists and the citation graph ---------------------------
    def _stamps(self):
        return tuple(s.stamp for s in self.stores)

    def row_for_file(self, path: str | os.PathLike[str]) -> Optional[Row]:
        """The library paper whose full text is this file (a paper text or PDF)."""
        p = str(Path(path).resolve())
        store = self.store_for(p)
        if store is None:
            return None
        return store.table.text_row(p)

    def references_of(self, row: Row) -> list[Reference]:
        """The reference list of a paper text."""
        store = self.store_for(row.source)
        return store.references(row.id) if store else []

    def matcher_entries(self) -> list["LibraryEntry"]:
        """The library's papers as the reference matcher reads them (one per paper, merged
        texts once), in the order of the folders, then of their files and lines, whatever order
        an index's updates left its table in: the matcher breaks ties by this order (the same
        title twice in the library is the first paper), so an update of one file does not move
        the others. The same list object while they stay as they are."""
        stamps = self._stamps()
        cached = getattr(self, "_entries", None)
        if cached is not None and cached[0] == stamps:
            return cached[1]
        from paperlens.core.references import LibraryEntry

        rows = [(n, r.source, r.source_line, r.id, r) for n, s in enumerate(self.stores) for r in s.table.rows
                if not r.alias_of and (r.title or r.doi or r.arxiv)]
        rows.sort(key=lambda t: t[:4])
        entries = [LibraryEntry(id=r.id, title=r.title, doi=r.doi, arxiv=r.arxiv, year=r.year,
                                surnames=list(r.surnames)) for *_, r in rows]
        if cached is not None and cached[1] == entries:
            # a change that left every paper's title, ids, year and authors as they were (a
            # paper text edited): the same list, and the same matcher with what it remembers
            entries = cached[1]
        self._entries = (stamps, entries)
        return entries

    def matcher(self, entries: Optional[list["LibraryEntry"]] = None) -> "ReferenceMatcher":
        """A ReferenceMatcher over the library's papers (:meth:`matcher_entries`, or
        ``entries``, a list it gave), built once for them."""
        if entries is None:
            entries = self.matcher_entries()
        cached = getattr(self, "_matcher", None)
        if cached is not None and cached[0] is entries:
            return cached[1]
        from paperlens.core.references import ReferenceMatcher

        matcher = ReferenceMatcher(entries)
        self._matcher = (entries, matcher)
        return matcher

    def match_reference(self, ref: Reference, citing: Optional[Row] = None) -> Optional[Row]:
        """The library paper a reference entry cites (never the citing paper itself): what the
        citation graph links. For an entry of a library paper whose graph is built, the graph
        answers (its entries as the index stores them); otherwise the same matcher decides."""
        ref = Reference.coerce(ref)
        graph = self.graph_if_ready() if citing is not None else None
        if graph is not None:
            row = self.canonical(citing)
            if row.id in graph.read:
                cited = graph.cited_by_label.get(row.id, {}).get(ref.label)
                return self.row(cited) if cited else None
        m = self.matcher().match_reference(ref)
        if m is None:
            return None
        row = self.canonical(self.row(m[0]) or Row(*([""] * 10)))
        if not row.id or (citing is not None and row.id in (citing.id, citing.alias_of)):
            return None
        return row

    def graph(self) -> "CitationGraph":
        """Which library papers each paper cites, and is cited by (computed once per change).

        Each reference entry is matched by the library's :class:`ReferenceMatcher` (DOI, arXiv
        id, then title with surnames and year as evidence), the rule hovers use too. Most
        entries cite papers outside the library and cost a few dictionary lookups (the matcher
        compares strings only for library titles whose words the entry mostly holds): 10k papers
        with 28 references each take a few seconds, in the background. After a change the graph
        is updated from the previous one (:func:`paperlens.core.graph.update`: the reference
        lists that changed, and the entries that could name a library paper that changed, are
        matched again), a second or so at 10k papers. A session's first graph is updated the
        same way from the one the last session kept (:mod:`paperlens.core.saved_graph`, in
        :attr:`graph_file`). Thread-safe: one build at a time, a second caller waits for it."""
        cached = self._graph_cached()
        if cached is not None:
            return cached
        with self._graph_lock:       # one build at a time: a second caller waits for the first
            cached = self._graph_cached()
            if cached is not None:
                return cached
            return self._build_graph()

    def _graph_version(self) -> tuple:
        return self._stamps() + tuple(id(t) for t in self._tables())

    def _graph_cached(self) -> Optional["CitationGraph"]:
        cached = getattr(self, "_graph", None)
        return cached[1] if cached is not None and cached[0] == self._graph_version() else None

    def _build_graph(self) -> "CitationGraph":
        """The graph of the library as it is now, updated from the previous one (the reference
        lists that changed, and the entries that could name a library paper that changed, are
        matched again: the same graph as a build from scratch)."""
        from paperlens.core import saved_graph
        from paperlens.core.graph import update

        self.graph_builds += 1
        version = self._graph_version()
        previous = getattr(self, "_graph", None)
        self._graph = None
        cpu = time.thread_time()
        if previous is not None:
            start = previous[1]
        elif self.graph_file is not None:       # the session's first: from the last session's
            start = saved_graph.load(self.graph_file, self.stores, self.matcher_entries())
        else:
            start = None
        graph = update(self, start)
        log.info("citation graph: %d papers' reference lists, %d matched (%s), %.2f CPU-s",
                 len(graph.read), graph.matched, "from scratch" if start is None else
                 "the others as in the last session" if previous is None else "the others as they were",
                 time.thread_time() - cpu)
        if self.graph_file is not None and graph.changed:
            saved_graph.save(self.graph_file, graph)
        self._graph = (version, graph)
        return graph

    def graph_if_ready(self) -> Optional["CitationGraph"]:
        """The citation graph when it is built for the library as it is now, else None."""
        return self._graph_cached()

    def close(self) -> None:
        for s in self.stores:
            s.close()
        if self.zotero is not None:
            self.zotero.release()
