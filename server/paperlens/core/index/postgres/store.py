"""PostgresIndex: a paper folder's index in a PostgreSQL database (schema.py has the tables).

Writing: one writer at a time across every machine (a session advisory lock on the database:
a second writer is refused at once, its report says ``busy``, as a second Whoosh writer is);
each change set (an update of a few files, or a rebuild) is one transaction, so a reader never
sees half of it; its commit raises the generation in ``meta`` and sends a NOTIFY on
``schema.CHANNEL`` (payload "<schema> <generation>") to every listening editor.

What changed and how files are parsed is the Whoosh store's: ``corpus.diff`` against the
``files`` table, the same parser processes and timeouts (the parsing steps of
:class:`~paperlens.core.index.whoosh.store.IndexStore` are shared; they do not touch Whoosh).

Reading: the paper table is loaded whole (one statement, so one snapshot) and reloaded when a
NOTIFY says the generation changed (``reload_if_changed`` polls the listening connection
without waiting; one reload at a time: the server's poller and a request never interleave, so
an older table never replaces a newer one); searches, paper records, passages and reference
lines are queries. When the server cannot be reached, the last table is kept, reads find
nothing at once and ``unavailable`` says why; they never wait for the server: connecting
again is done in the background (``reconnect_soon``, one attempt at a time) or by the next
``reload_if_changed`` (the server's poller).

Paths are stored relative to the folder (team members mount the library in different places);
the password of the URL is never logged: messages name the server by ``redact(url)``.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

from paperlens.core import corpus, joins
from paperlens.core.index import workers as workers_mod
from paperlens.core.index.base import IndexReport, IndexUnavailable, Progress, SearchHit, SearchIndex
from paperlens.core.index.postgres import schema as sch
from paperlens.core.index.postgres import text as txt
from paperlens.core.index.table import PaperTable, Row, record_text
from paperlens.core.index.whoosh.store import ENTRY_KINDS, REF_FIELDS, IndexStore, default_workers, graph_reference
from paperlens.core.index.workers import Aborted
from paperlens.core.keys import base_key
from paperlens.core.models import Paper, Passage, Reference
from paperlens.core.parse import ParseResult

log = logging.getLogger(__name__)

__all__ = ["PostgresIndex", "redact"]

CONNECT_TIMEOUT = 5          # seconds: an editor must not wait long for a server that is away
REF_PAGE = 500               # papers per query of reference_lines
ANALYZE_AFTER = 500          # files changed in one change set after which the passages are analyzed
CANDIDATES = 200             # passages a search takes from each way of matching (see _SEARCH)
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PATH_FIELDS = (6, 9, 13)    # source, file, fulltext in a table row's list


def redact(url: str) -> str:
    """The server a URL (or conninfo string) names, without its password:
    ``postgresql://user@host:port/dbname``."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        d = conninfo_to_dict(url)
    except Exception:
        return "the configured PostgreSQL server"
    user = f"{d['user']}@" if d.get("user") else ""
    port = f":{d['port']}" if d.get("port") else ""
    return f"postgresql://{user}{d.get('host') or 'localhost'}{port}/{d.get('dbname') or ''}"


def _password(url: str) -> str:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return str(conninfo_to_dict(url).get("password") or "")
    except Exception:
        return ""


class PostgresIndex(SearchIndex):
    """The index of ``folder`` in the database at ``url`` (tables in ``schema``). Text views
    of PDFs are written locally, in ``index_dir``."""

    # the parsing steps of the Whoosh store (what changed is parsed the same way; no Whoosh)
    _heavy = IndexStore._heavy
    _jobs = IndexStore._jobs
    _parsers_for = IndexStore._parsers_for
    _pool_jobs = IndexStore._pool_jobs
    _record = IndexStore._record
    _parse_all = IndexStore._parse_all
    _assign_keys = IndexStore._assign_keys
    _check_abort = IndexStore._check_abort
    abort = IndexStore.abort

    def __init__(self, folder: Path, url: str, index_dir: Optional[Path] = None,
                 schema: str = "paperlens", workers: Optional[int] = None):
        if not _SCHEMA_RE.fullmatch(schema):
            raise ValueError(f"not a schema name paperlens uses: {schema!r}")
        self.folder = Path(folder).resolve()
        self.url = url
        self.where = redact(url)
        self._secret = _password(url)
        self.schema = schema
        self.index_dir = Path(index_dir) if index_dir else self.folder / ".paperlens-index"
        self.workers = default_workers() if workers is None else max(1, workers)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._reload_lock = threading.RLock()    # one reload_if_changed at a time (update's inside it)
        self._reconnector: Optional[threading.Thread] = None
        self._reconnect_lock = threading.Lock()  # (not the read lock: a connect holds that one)
        self._closed = False
        self._aborted = threading.Event()
        self._parsers = None
        workers_mod.track(self)
        self._conn = None              # readers' connection (autocommit: a statement, a snapshot)
        self._listen = None            # LISTEN schema.CHANNEL
        self._generation: Optional[int] = None
        self._polling = False          # a replica (no LISTEN): each reload asks the generation
        self._outdated = ""            # the tables' format is not this paperlens's: why (see _reload)
        self._pending: dict[str, tuple] = {}     # update: paper id -> (path, data, head)
        self.table = PaperTable()
        self.unavailable = ""
        self.reload_if_changed()

    @property
    def outdated(self) -> str:
        """Why the database's tables cannot be searched although it answers (they are of
        another index format: written by another paperlens), or ""."""
        return self._outdated

    # -- connections --------------------------------------------------------------------------
    def _say(self, exc: BaseException) -> str:
        msg = " ".join(str(exc).split()) or exc.__class__.__name__
        return msg.replace(self._secret, "***") if self._secret else msg

    def _connect(self):
        import psycopg

        try:
            # a server that stops answering on an open connection is found out too (the kernel
            # gives up on unacknowledged data after the timeout; idle connections are probed)
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                   keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
                                   tcp_user_timeout=CONNECT_TIMEOUT * 1000)
            conn.execute("SET jit = off")    # compiling a plan costs more than a search's work
            conn.execute("SET plan_cache_mode = force_custom_plan")     # see _SEARCH
            conn.prepare_threshold = None
            return conn
        except psycopg.Error as exc:
            raise IndexUnavailable(f"cannot reach the library's database at {self.where}: {self._say(exc)}") from None

    def _away(self, exc: BaseException) -> IndexUnavailable:
        """Forget the connections after an error; the next read connects again."""
        self._close_connections()
        msg = exc if isinstance(exc, IndexUnavailable) else IndexUnavailable(
            f"lost the library's database at {self.where}: {self._say(exc)}")
        if self.unavailable != str(msg):
            self.unavailable = str(msg)
            log.warning("%s; completion keeps the last paper table", msg)
        return msg

    def _read(self, fn, connect: bool = False):
        """``fn(connection)`` on the readers' connection; IndexUnavailable when the server is away.
        A request's read (``connect`` False) never connects again to a server found away: it
        fails at once and the reconnect runs in the background (``reconnect_soon``)."""
        import psycopg

        if not connect and self.unavailable and (self._conn is None or self._conn.closed):
            self.reconnect_soon()
            raise IndexUnavailable(self.unavailable)
        with self._read_lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                out = fn(self._conn)
            except (psycopg.OperationalError, psycopg.InterfaceError, IndexUnavailable) as exc:
                raise self._away(exc) from None
            self.unavailable = self._outdated
            return out

    def _q(self, sql: str) -> str:
        return sql.replace("S.", f'"{self.schema}".')

    def _close_connections(self) -> None:
        for conn in (self._conn, self._listen):
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
        self._conn = self._listen = None

    # -- state ----------------------------------------------------------------------------------
    @property
    def stamp(self):
        return ("postgresql", self.where, self.schema, self._generation)

    @property
    def damaged(self) -> str:
        return ""

    def owns(self, name: str) -> bool:
        return name == "texts"

    def is_ready(self) -> bool:
        """Whether the index can be searched now. Never waits for a server found away (a
        search then says at once that it cannot reach the library): the reconnect runs in
        the background (``reconnect_soon``), and the next search after it uses the database."""
        if self._generation is not None and not self.unavailable:
            return True
        if self.unavailable and self.unavailable != self._outdated:
            self.reconnect_soon()
            return False
        if self._outdated:            # the database answers; its tables wait for a rebuild
            return False
        # nothing read yet and nothing wrong (an empty schema): ask, unless a reload is running
        if self._reload_lock.acquire(blocking=False):
            try:
                self._reload()
            finally:
                self._reload_lock.release()
        return self._generation is not None and not self.unavailable

    def reconnect_soon(self) -> None:
        """Connect again to a server found away, in a background thread (one attempt at a
        time): the table is reloaded if it changed meanwhile, ``unavailable`` cleared."""
        with self._reconnect_lock:
            if self._closed or (self._reconnector is not None and self._reconnector.is_alive()):
                return
            self._reconnector = threading.Thread(target=self._reconnect, name="paperlens-pg-reconnect",
                                                 daemon=True)
            self._reconnector.start()

    def _reconnect(self) -> None:
        try:
            self.reload_if_changed()
        except Exception:
            log.exception("reconnecting to %s failed", self.where)

    def _notified(self) -> bool:
        """Whether a NOTIFY about this schema arrived (True when not listening: then ask the
        database)."""
        if self._listen is None or self._listen.closed:
            return True
        changed = False
        for n in self._listen.notifies(timeout=0):
            changed |= n.payload.split(" ")[0] == self.schema
        return changed

    def reload_if_changed(self) -> bool:
        """Reload the paper table when a committed change set was announced (see the module
        docstring); False, the last table kept, when the server is away (this connects again:
        background work, the server's poller calls it)."""
        with self._reload_lock:
            return self._reload()

    def _reload(self) -> bool:
        import psycopg

        try:
            if self._generation is not None and not self._notified():
                return False

            def load(conn):
                if self._listen is None and not self._polling:
                    self._listen = self._connect()
                    try:
                        self._listen.execute(f"LISTEN {sch.CHANNEL}")
                    except psycopg.errors.ReadOnlySqlTransaction:    # a hot standby: no NOTIFY
                        self._listen.close()
                        self._listen, self._polling = None, True
                        log.info("%s is a read replica: the paper table is checked for changes "
                                 "on each reload (no LISTEN there)", self.where)
                with conn.transaction():    # the generation and the rows of one snapshot
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    try:
                        gen = conn.execute(self._q("SELECT generation, format FROM S.meta")).fetchone()
                    except psycopg.errors.UndefinedTable:
                        raise _Empty() from None
                    self._outdated = self._format_message(gen[1] if gen else sch.FORMAT)
                    if gen is None or gen[0] == self._generation:
                        return gen[0] if gen else None, None
                    rows = conn.execute(self._q("SELECT row FROM S.papers ORDER BY id")).fetchall()
                return gen[0], [self._row(r[0]) for r in rows]

            gen, rows = self._read(load, connect=True)
        except _Empty:
            self.unavailable = self._outdated = ""
            return False
        except (IndexUnavailable, psycopg.Error) as exc:
            if not isinstance(exc, IndexUnavailable):
                self._away(exc)
            return False
        if rows is None:
            self._generation = gen
            return False
        self._generation = gen
        table = PaperTable(rows)
        # its key and id lookups made here (the poller's thread; 15-250 ms at 20k rows), before
        # it is in place: not by the first completion, hover or definition after a reload
        table.get("")
        self.table = table
        return True

    def _format_message(self, found: int) -> str:
        """Why the tables (of format ``found``) cannot be searched by this paperlens ("" when
        they can): their words were indexed otherwise, so its searches would not find them."""
        if found == sch.FORMAT:
            return ""
        formats = f"(its index format {found}, this paperlens's {sch.FORMAT})"
        if found < sch.FORMAT:
            return (f"the library's database was written by an older paperlens; run paperlens index --backend "
                    f"{self.where} {formats}")
        return f"the library's database was written by a newer paperlens; update paperlens {formats}"

    # -- rows and paths ---------------------------------------------------------------------------
    def _rel(self, path: str) -> str:
        base = str(self.folder) + "/"
        return PaperTable.REL + path[len(base):] if path.startswith(base) else path

    def _abs(self, path: str) -> str:
        return str(self.folder / path[1:]) if path.startswith(PaperTable.REL) else path

    def _row(self, values: list) -> Row:
        values = list(values)
        for i in _PATH_FIELDS:
            values[i] = self._abs(values[i])
        return Row(*values)

    def _row_json(self, r: Row) -> str:
        return json.dumps([r.id, r.key, r.title, r.surnames, r.year, r.venue, self._rel(r.source),
                           r.source_line, r.source_kind, self._rel(r.file), r.doi, r.arxiv, r.alias_of,
                           self._rel(r.fulltext)], ensure_ascii=False)

    # -- updating -------------------------------------------------------------------------------
    def update(self, only: Optional[list[str]] = None, progress: Optional[Progress] = None,
               force_rebuild: bool = False) -> IndexReport:
        """One change set (see the module docstring); ``busy`` when another writer holds the
        lock, ``error`` (and nothing changed) when the database failed."""
        started = time.perf_counter()
        report = IndexReport(folder=str(self.folder))
        workers_mod.register_exit_hook()
        with self._write_lock:
            self._guarded(report, only, progress, force_rebuild)
            if report.error:
                self._generation = None
            self._reload_now()
        report.papers_total = len(self.table.rows)
        try:
            report.unusable = self._read(lambda c: c.execute(
                self._q("SELECT count(*) FROM S.files WHERE error <> ''")).fetchone()[0])
        except IndexUnavailable:
            pass
        report.seconds = time.perf_counter() - started
        return report

    def _guarded(self, report: IndexReport, only, progress, force_rebuild: bool) -> None:
        import psycopg

        try:
            self._check_abort()
            with self._connect() as conn:
                key = f"paperlens:{self.schema}"
                if conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
                    try:
                        self._update(conn, report, only, progress, force_rebuild)
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
                else:
                    report.busy = True
                    log.info("another paperlens process is updating %s (schema %s); using its results",
                             self.where, self.schema)
        except Aborted:
            report.error = "indexing stopped: paperlens is exiting"
        except IndexUnavailable as exc:
            report.error = str(exc)
            log.warning("%s; the index stays as it was", exc)
        except psycopg.Error as exc:
            report.error = f"cannot write the index at {self.where}: {self._say(exc)}"
            report.papers_indexed = report.files_removed = 0      # rolled back
            log.warning("%s; the index stays as it was", report.error)

    def _reload_now(self) -> None:
        with self._reload_lock:
            listen, self._listen = self._listen, None     # ask the database, not the notifications
            try:
                self._reload()
            finally:
                if self._listen is None:
                    self._listen = listen
                elif listen is not None:
                    listen.close()

    def _format(self, conn) -> Optional[int]:
        import psycopg

        try:
            with conn.transaction():
                got = conn.execute(self._q("SELECT format FROM S.meta")).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        return got[0] if got else None

    def _update(self, conn, report: IndexReport, only, progress, force_rebuild: bool) -> None:
        found = self._format(conn)
        reason = ("requested" if force_rebuild else "" if found in (None, sch.FORMAT)
                  else f"index format {found} -> {sch.FORMAT}")
        full = found is None or bool(reason)
        report.rebuilt = reason
        manifest = {} if full else self._manifest(conn)
        changes, skipped = corpus.diff(self.folder, manifest, None if full else only)
        report.skipped.extend(skipped)
        report.files_seen = changes.unchanged + len(changes.added) + len(changes.changed) + len(changes.touched)
        if changes.empty and not full:
            return
        to_parse = changes.added + changes.changed
        redo = sorted(set(changes.removed) | set(to_parse))
        self._check_abort()
        with conn.transaction():
            cur = conn.cursor()
            if full:
                # the generation goes on from the tables replaced: an editor that read generation
                # g of them must see the rebuild's as a change (and its new format)
                prev = cur.execute(self._q("SELECT generation FROM S.meta")).fetchone() if found is not None else None
                for stmt in sch.drop(self.schema) + sch.ddl(self.schema):
                    cur.execute(stmt)
                cur.execute(self._q("INSERT INTO S.meta (format, folder, generation) VALUES (%s, %s, %s)"),
                            (sch.FORMAT, str(self.folder), prev[0] if prev else 0))
            old_rows = {r.id: r for r in self._rows(cur, "WHERE path = ANY(%s)", (redo,))}
            cur.execute(self._q("DELETE FROM S.refs WHERE paper_id IN (SELECT id FROM S.papers WHERE path = ANY(%s))"),
                        (redo,))
            for table in ("papers", "passages", "files"):
                cur.execute(self._q(f"DELETE FROM S.{table} WHERE path = ANY(%s)"), (redo,))
            self._pending = {}
            results = self._parse_all(to_parse, report, progress, 0, len(to_parse), writer=cur)
            new = [p for rel in to_parse if results.get(rel) for p in results[rel].papers]
            kept = self._rows(cur, "", ())
            taken = {r.key for r in kept} | {p.key for p in new if p.key}
            self._assign_keys(new, taken, old_rows)
            files = self._file_states(changes, results, report)
            cur.executemany(self._q("INSERT INTO S.files VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (path) DO UPDATE"
                                    " SET mtime_ns = excluded.mtime_ns, size = excluded.size"),
                            [(rel, st.mtime_ns, st.size, st.sha1, st.paper_ids, st.error) for rel, st in files.items()])
            report.files_removed = len(changes.removed)
            report.papers_indexed = len(new)
            rows = kept + [Row.from_paper(p) for p in new]
            self._insert_papers(cur, new, rows)
            self._check_abort()
            gen = cur.execute(self._q("UPDATE S.meta SET generation = generation + 1 RETURNING generation")).fetchone()[0]
            cur.execute("SELECT pg_notify(%s, %s)", (sch.CHANNEL, f"{self.schema} {gen}"))
        self._pending = {}
        if full or len(redo) >= ANALYZE_AFTER:
            # the words' statistics, which the search's plans are chosen by (see _SEARCH), now
            # rather than when autovacuum comes by: the searches right after a rebuild would not
            # know which words are common (GIN bitmaps of hundreds of thousands of passages)
            conn.execute(self._q("ANALYZE S.passages"))
        if progress:
            progress(len(to_parse), len(to_parse), "")

    def _rows(self, cur, where: str, params: tuple) -> list[Row]:
        cur.execute(self._q(f"SELECT row FROM S.papers {where} ORDER BY id"), params)
        return [self._row(r[0]) for r in cur.fetchall()]

    def _manifest(self, conn) -> dict[str, corpus.FileState]:
        rows = conn.execute(self._q("SELECT path, mtime_ns, size, sha1, paper_ids, error FROM S.files")).fetchall()
        return {r[0]: corpus.FileState(r[1], r[2], r[3], list(r[4]), r[5]) for r in rows}

    def _file_states(self, changes: corpus.ChangeSet, results: dict,
                     report: IndexReport) -> dict[str, corpus.FileState]:
        """The ``files`` rows this change set writes (those of ``changes.touched`` included);
        a file is recorded with the stat and hash taken before it was parsed."""
        why = dict(report.skipped)
        out = dict(changes.touched)
        for rel, res in results.items():
            if not (self.folder / rel).exists():
                continue
            mtime, size = changes.stats.get(rel, (0, 0))
            ids = [p.id for p in res.papers] if res is not None else []
            out[rel] = corpus.FileState(mtime, size, changes.hashes.get(rel, ""), ids,
                                        "" if res is not None else why.get(rel, "skipped"))
        return out

    def _insert_papers(self, cur, new: list[Paper], rows: list[Row]) -> None:
        """The new papers' rows, and the rows whose join (joins.py) changed."""
        before = {r.id: (r.alias_of, r.fulltext) for r in rows}

        def heads(ids):
            ids = list(ids)
            got = {pid: self._pending[pid][2] for pid in ids if pid in self._pending and self._pending[pid][2]}
            cur.execute(self._q("SELECT id, head FROM S.papers WHERE id = ANY(%s) AND head <> ''"), (ids,))
            got.update(cur.fetchall())
            return got
        joins.link(rows, heads)
        fresh = {p.id for p in new}
        cur.executemany(self._q("INSERT INTO S.papers (id, path, row, data, head) VALUES (%s, %s, %s, %s, %s)"
                                " ON CONFLICT (id) DO NOTHING"),
                        [(r.id, self._pending[r.id][0], self._row_json(r), self._pending[r.id][1], self._pending[r.id][2])
                         for r in rows if r.id in fresh and r.id in self._pending])
        changed = [r for r in rows if r.id not in fresh and before[r.id] != (r.alias_of, r.fulltext)]
        cur.executemany(self._q("UPDATE S.papers SET row = %s WHERE id = %s"),
                        [(self._row_json(r), r.id) for r in changed])
        # an entry's passages are shadowed while its paper text is merged into it (see _SEARCH)
        moved = {r.id for r in changed}
        for flag in (True, False):
            ids = [r.id for r in rows if bool(r.fulltext) == flag and (r.id in moved or (flag and r.id in fresh))]
            if ids:
                cur.execute(self._q("UPDATE S.passages SET shadowed = %s WHERE paper_id = ANY(%s) AND kind = %s"
                                    " AND shadowed <> %s"), (flag, ids, sch.PASSAGE, flag))

    _INSERT = ("INSERT INTO S.passages (paper_id, n, path, kind, section, line_start, line_end, page, text,"
               " seg, tsv) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
               f" setweight(to_tsvector('{txt.CONFIG}', %s), 'A') || setweight(to_tsvector('{txt.CONFIG}', %s), 'B')"
               f" || setweight(to_tsvector('{txt.CONFIG}', %s), 'C') || setweight(to_tsvector('{txt.CONFIG}', %s), 'D'))"
               " ON CONFLICT DO NOTHING")

    def _add_docs(self, cur, rel: str, res: ParseResult) -> None:
        """One parsed file into the tables (in the update's transaction): its passages, each
        paper's record and reference list; the papers' rows wait for their final keys."""
        papers = {p.id: p for p in res.papers}
        counts: dict[str, int] = {}
        ends: dict[str, int] = {}
        docs = []
        for s in res.passages:
            p = papers.get(s.paper_id)
            n = counts[s.paper_id] = counts.get(s.paper_id, -1) + 1
            if p is not None and p.source_kind in ENTRY_KINDS and s.line_start == p.source_line:
                ends[p.id] = max(ends.get(p.id, s.line_end), s.line_end)
            abstract = s.section.startswith("abstract")
            seg = txt.segmented(s.text, stops=True)
            # the title only in the heads (the record, the abstract: one or two rows a paper):
            # in every passage, a title's words were in each of the paper's tens of passages,
            # the posting lists of common words ~17x longer than their body's (schema FORMAT 4)
            docs.append((s.paper_id, n, rel, sch.PASSAGE, s.section, s.line_start, s.line_end, s.page, s.text,
                         seg if seg != s.text else None, txt.index_text(p.title if p and abstract else ""),
                         txt.index_text(s.text) if abstract else "", "", "" if abstract else txt.index_text(s.text)))
        page = 1 if rel.lower().endswith(".pdf") else None
        for p in res.papers:
            key = p.key or base_key(p)
            shown = record_text(p.title, p.surnames(), p.venue, p.year, key)
            seg = txt.segmented(shown, stops=True)
            docs.append((p.id, 0, rel, sch.RECORD, "record", p.source_line, ends.get(p.id, p.source_line), page,
                         shown, seg if seg != shown else None, txt.index_text(f"{p.title} {key}"), "",
                         txt.index_text("; ".join(p.authors)), " ".join(v for v in (p.year, p.venue) if v)))
            data = p.to_dict()
            data["source"], data["file"] = self._rel(p.source), self._rel(p.file)
            self._pending[p.id] = (rel, json.dumps(data, ensure_ascii=False), res.heads.get(p.id, ""))
        cur.executemany(self._q(self._INSERT), docs)
        cur.executemany(self._q("INSERT INTO S.refs VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                                " ON CONFLICT DO NOTHING"),
                        [(p.id, n, g.label, g.title, g.doi, g.arxiv, g.year, g.authors, g.after, g.years)
                         for p in res.papers for n, g in enumerate(map(graph_reference, p.references))])

    def close(self) -> None:
        with self._read_lock:
            self._closed = True
            self._close_connections()

    # -- reading ----------------------------------------------------------------------------------
    def prepare(self) -> None:
        self.is_ready()

    def warm(self) -> None:
        self.is_ready()

    def paper(self, paper_id: str) -> Optional[Paper]:
        try:
            got = self._read(lambda c: c.execute(self._q("SELECT data FROM S.papers WHERE id = %s"),
                                                 (paper_id,)).fetchone())
        except IndexUnavailable:
            return None
        if got is None:
            return None
        paper = Paper.from_dict(got[0])
        paper.source, paper.file = self._abs(paper.source), self._abs(paper.file)
        row = self.table.get(paper_id)
        if row is not None:            # the table has the final key
            paper.key = row.key
        return paper

    def passages(self, paper_id: str) -> list[Passage]:
        try:
            rows = self._read(lambda c: c.execute(self._q(
                "SELECT text, path, line_start, line_end, section, page FROM S.passages"
                " WHERE paper_id = %s AND kind = %s ORDER BY n"), (paper_id, sch.PASSAGE)).fetchall())
        except IndexUnavailable:
            return []
        return [Passage(paper_id=paper_id, text=t, path=str(self.folder / p), line_start=a, line_end=b,
                        section=s, page=pg) for t, p, a, b, s, pg in rows]

    def content_hash(self, path: str) -> str:
        try:
            rel = Path(path).resolve().relative_to(self.folder).as_posix()
            got = self._read(lambda c: c.execute(self._q("SELECT sha1 FROM S.files WHERE path = %s"),
                                                 (rel,)).fetchone())
        except (ValueError, IndexUnavailable):
            return ""
        return got[0] if got else ""

    def reference_lines(self) -> Iterator[tuple[str, list[Reference]]]:
        """Streamed a page of papers at a time (no reader lock held between pages)."""
        last = ""
        while True:
            try:
                page = self._read(lambda c: c.execute(self._q(
                    "SELECT paper_id, array_agg(json_build_array(label, title, doi, arxiv, year, authors, after, years)"
                    " ORDER BY n)"
                    " FROM S.refs WHERE paper_id > %s GROUP BY paper_id ORDER BY paper_id LIMIT %s"),
                    (last, REF_PAGE)).fetchall())
            except IndexUnavailable:
                return
            for pid, refs in page:
                yield pid, [Reference(r[0], title=r[1], doi=r[2], arxiv=r[3], year=r[4], authors=r[5],
                                      after=r[6], years=r[7])
                            for r in refs]
            if len(page) < REF_PAGE:
                return
            last = page[-1][0]

    # Bounded work (a search runs while the editor waits): at most CANDIDATES passages from each
    # way of matching, the most telling first. In the heads (records and abstracts, under a GIN
    # index of their own, sch.HEADS: one or two rows a paper): a plain query's words as a phrase
    # in a title (a title typed out; weight A), every word in the title or abstract (tsquery
    # weights A/B), any word there; in every passage: every word, then (only while those are
    # fewer than the pool ranked) any word. Only their union is ranked (ts_rank; words as a
    # phrase first among those having every word), in the scans themselves; the text of the
    # ``pool`` best is read after. Below the bound that union is every match: exact.
    # The tsqueries are made first (_QUERIES) and sent back as constants: the planner then sees
    # how common their words are (the statistics of the tsv column) and takes the first matches
    # by a sequential scan when the words are everywhere (a GIN bitmap would list every one of
    # hundreds of thousands of passages first), by the GIN index when they are rare. (Custom
    # plans only, see _connect: a prepared statement's generic plan would not know the words.)
    _AB = "regexp_replace({}::text, $r$'[^']*(?:''[^']*)*'$r$, $r$\\&:{}$r$, 'g')"
    _QUERIES = (f"WITH q AS (SELECT websearch_to_tsquery('{txt.CONFIG}', %(all)s)"
                f" && websearch_to_tsquery('{txt.CONFIG}', %(without)s) AS qa,"
                f" websearch_to_tsquery('{txt.CONFIG}', %(any)s) && websearch_to_tsquery('{txt.CONFIG}', %(without)s) AS qo,"
                f" phraseto_tsquery('{txt.CONFIG}', %(phrase)s) AS qp)"
                f" SELECT qa::text, qo::text, {_AB.format('qp', 'A')}, {_AB.format('qa', 'AB')}, {_AB.format('qo', 'AB')}"
                " FROM q")
    # (``shadowed``: a bibliography entry's passages when the entry's paper text is in the
    # library: the text has them too, and search() would drop them)
    _RANKED = ("SELECT paper_id, kind, n, tsv @@ %(qa)s::tsquery AS every, tsv @@ %(qp)s::tsquery AS phrase,"
               f" ts_rank(%(weights)s::float4[], tsv, %(qo)s::tsquery) AS score, {sch.HEADS} AS head"
               " FROM S.passages WHERE NOT shadowed")
    _SEARCH = (f"WITH h AS MATERIALIZED (({_RANKED} AND {sch.HEADS} AND tsv @@ %(qp)s::tsquery LIMIT %(cap)s)"
               f" UNION ({_RANKED} AND {sch.HEADS} AND tsv @@ %(qa_ab)s::tsquery LIMIT %(cap)s)),"
               f" e AS MATERIALIZED ({_RANKED} AND tsv @@ %(qa)s::tsquery LIMIT %(cap)s),"
               # any word: only while fewer than the pool have every word (they come first)
               " few AS (SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM h) < %(pool)s AS yes),"
               f" oh AS MATERIALIZED ({_RANKED} AND (SELECT yes FROM few) AND {sch.HEADS}"
               " AND tsv @@ %(qo_ab)s::tsquery LIMIT %(cap)s),"
               f" o AS MATERIALIZED ({_RANKED} AND (SELECT yes FROM few) AND tsv @@ %(qo)s::tsquery LIMIT %(cap)s),"
               # the papers whose title has every word (or the phrase): their records in h; the
               # body passages of the best of them having any word (by the primary key: tens a paper)
               " t AS MATERIALIZED (SELECT paper_id, phrase, score FROM h WHERE kind = 1),"
               f" b AS MATERIALIZED ({_RANKED} AND kind = 0 AND NOT {sch.HEADS} AND paper_id IN"
               " (SELECT paper_id FROM t ORDER BY phrase DESC, score DESC LIMIT %(titled)s)"
               # (coalesce: not through the GIN index, which would list every passage having the
               # word for each paper)
               " AND coalesce(tsv @@ %(qo)s::tsquery, false) LIMIT %(cap)s),"
               # a body passage of such a paper is ranked as if it had its title (as each Whoosh
               # passage has): every word, the phrase if the title has it, the title's score added
               " a AS (SELECT u.paper_id, u.kind, u.n, u.every OR (t.paper_id IS NOT NULL AND NOT u.head) AS every,"
               " u.phrase OR (NOT u.head AND coalesce(t.phrase, false)) AS phrase,"
               " u.score + CASE WHEN u.head THEN 0 ELSE coalesce(t.score, 0) END AS score"
               " FROM (SELECT * FROM h UNION SELECT * FROM e UNION SELECT * FROM oh UNION SELECT * FROM o"
               " UNION SELECT * FROM b) u LEFT JOIN t USING (paper_id)),"
               # at most per_paper + 1 of a paper (one more: search() may skip one), then the best
               " r AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY paper_id"
               " ORDER BY every DESC, phrase DESC, score DESC) AS k"
               " FROM a) v"
               " WHERE k <= %(per)s"
               " ORDER BY every DESC, phrase DESC, score DESC LIMIT %(pool)s)"
               " SELECT p.paper_id, p.path, p.kind, p.section, p.line_start, p.line_end, p.page, p.text, p.seg,"
               " r.every, r.phrase, r.score, GREATEST((SELECT count(*) FROM e), (SELECT count(*) FROM o)) AS matched"
               " FROM r JOIN S.passages p USING (paper_id, kind, n)"
               " ORDER BY r.every DESC, r.phrase DESC, r.score DESC")
    _HEADLINE = (f"SELECT ts_headline('{txt.CONFIG}', d, websearch_to_tsquery('{txt.CONFIG}', %s),"
                 " CASE WHEN k = 1 THEN %s ELSE %s END)"
                 " FROM unnest(%s::text[], %s::int[]) WITH ORDINALITY AS t(d, k, i) ORDER BY i")
    _OPTIONS = 'StartSel=**, StopSel=**, MaxWords=35, MinWords=15, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'

    def search(self, query: str, limit: int, per_paper: int, highlight: int,
               notes: set[str]) -> list[tuple[int, SearchHit]]:
        """Passages having every word and phrase of the query first (tier 0 when the words of a
        plain query are their paper's title or a phrase of it, else tier 1), then those
        having any (tier 2); ranked by ``ts_rank`` with the field weights, at most ``per_paper`` of one
        paper; the first ``highlight`` hits get ``ts_headline`` snippets (``**`` around words)."""
        if self._outdated:
            raise IndexUnavailable(self._outdated)
        everything, anything, without = txt.query_texts(query)
        if not anything:
            notes.add("the query names no word to look for")
            return []
        plain = '"' not in everything and not without and " " in everything
        words = {"all": everything, "any": anything, "without": without, "phrase": everything if plain else ""}

        def run(c):
            qa, qo, qp, qa_ab, qo_ab = c.execute(self._QUERIES, words).fetchone()
            return c.execute(self._q(self._SEARCH), {
                "qa": qa, "qo": qo, "qp": qp, "qa_ab": qa_ab, "qo_ab": qo_ab, "weights": sch.WEIGHTS,
                "pool": limit * (per_paper + 3), "per": per_paper + 1, "cap": CANDIDATES,
                "titled": limit}).fetchall()
        found = self._read(run)
        if found and found[0][-1] >= CANDIDATES:
            notes.add(f"the query's words are in more than {CANDIDATES} passages: it was ranked among "
                      "those where they are in the title or abstract first (a phrase or a rarer word narrows it)")
        text_of = self.table.text_of()
        seen: dict[str, int] = {}
        picked = []
        for pid, path, kind, section, a, b, page, text, seg, every, phrase, score, _ in found:
            sid = text_of.get(pid, pid)
            if sid != pid and kind == sch.PASSAGE:
                continue        # an entry's abstract: the paper text merged into it has it too
            seen[sid] = seen.get(sid, 0) + 1
            if seen[sid] > per_paper:
                continue
            row = self.table.get(sid)
            if sid != pid and row is not None:      # the text's own record stands for the entry's
                path, a, b = self._rel(row.source)[1:], row.source_line, row.source_line
            picked.append((0 if every and phrase else 1 if every else 2, sid, row, path, kind, section, a, b, page, text, seg, score))
            if len(picked) >= limit:
                break
        lit = picked[:max(0, highlight)]
        lines = []
        if lit:
            docs = [seg or text for *_, text, seg, _ in lit]
            kinds = [h[4] for h in lit]
            lines = self._read(lambda c: [r[0] for r in c.execute(self._HEADLINE, (
                anything, self._OPTIONS + ", HighlightAll=true", self._OPTIONS, docs, kinds)).fetchall()])
        out = []
        for n, (tier, sid, row, path, kind, section, a, b, page, text, seg, score) in enumerate(picked):
            snippet = txt.unsegment(lines[n]) if n < len(lines) else text[:200]
            out.append((tier, SearchHit(
                paper_id=sid, key=row.key if row else "", title=row.title if row else "",
                path=str(self.folder / path), line_start=a or 0, line_end=b or 0, page=page,
                section=section or "", score=float(score), snippet=" ".join(snippet.split()), text=text)))
        return out


class _Empty(Exception):
    """The schema has no tables yet (nothing was indexed)."""


assert REF_FIELDS == ("label", "title", "doi", "arxiv", "year", "authors", "after", "years")   # refs' columns
