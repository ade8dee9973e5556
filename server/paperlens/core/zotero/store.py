"""The Zotero library as one more index of the library (:class:`ZoteroStore`), beside the
paper folders' indexes.

It is the Whoosh :class:`~paperlens.core.index.whoosh.store.IndexStore` (its reading, search,
paper table, reference lines and files are the same), kept in its own index folder, with its
own update: the documents come from Zotero's items (:mod:`.reader`) instead of a folder's files.

- an item is a paper of the table (its citation key, title, authors, year, venue, DOI, arXiv
  id; ``source`` is ``zotero.sqlite``, ``file`` its PDF or snapshot); its record, abstract and
  child notes are searchable;
- its PDF (or HTML snapshot) under ``storage/<key>/`` is parsed in the index's parser processes
  (pages kept): its passages are searchable and point at the file, its reference list feeds
  the citation graph.

An update reads what changed in Zotero (:func:`~paperlens.core.zotero.changes`, a few stats
when nothing did), then writes in two steps: first every new or changed item's metadata (one
commit: a new item is citable at once), then the attachments' texts in small batches, each
committed, stopping early when :meth:`ZoteroStore.hurry` is called (a newer change waits) and
telling :attr:`ZoteroStore.texts_pending` (the caller updates again). The manifest has one
entry per item, ``items/<library id>/<item key>``: a fingerprint of its metadata and the
state (mtime, size) of the attachment whose text is indexed.

Nothing is written to Zotero's folder: the database is copied into this index's folder
(``zotero-copy/``) and read there.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core import corpus
from paperlens.core.index import workers as workers_mod
from paperlens.core.index.base import IndexReport, IndexUnavailable, Progress, write_error
from paperlens.core.index.table import PaperTable, Row
from paperlens.core.index.version import SCHEMA_VERSION
from paperlens.core.index.whoosh import store as whoosh_store
from paperlens.core.index.whoosh.store import IndexStore, add_docs, slim
from paperlens.core.index.workers import Aborted
from paperlens.core.models import Passage
from paperlens.core.parse.common import ParseError, ParseResult
from paperlens.core.zotero.reader import (HTML, PDF, ZoteroError, ZoteroItem, ZoteroLibrary, changes,
                                          read_library)

log = logging.getLogger(__name__)

__all__ = ["ZoteroStore", "TEXT_BATCH"]

EARLY_TABLE_ITEMS = 2000     # this many items to write: their table is served before their documents
TEXT_BATCH = 24              # attachments parsed and committed at a time (the pool's batch size)
NOTE_CHARS = 20_000          # of each child note, searchable


def _fingerprint(item: ZoteroItem, att_rel: str) -> str:
    data = [item.paper.to_dict(), item.notes, item.tags, item.collections, att_rel, item.select_url]
    return hashlib.sha1(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                   default=str).encode("utf-8")).hexdigest()


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
        return st.st_mtime_ns, st.st_size
    except OSError:
        return 0, 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def metadata_result(item: ZoteroItem, paper=None) -> ParseResult:
    """The item without its attachment's text: its paper (``paper``, default the item's), its
    abstract and notes as passages."""
    paper = paper or item.paper
    passages = []
    if paper.abstract:
        passages.append(Passage(paper.id, paper.abstract, paper.source, 0, 0, "abstract"))
    for note in item.notes:
        if note.strip():
            passages.append(Passage(paper.id, note[:NOTE_CHARS], paper.source, 0, 0, "note"))
    return ParseResult(papers=[paper], passages=passages)


class ZoteroStore(IndexStore):
    """The index of a Zotero library (see the module docstring). ``folder`` is Zotero's data
    folder (its PDFs are under it); ``default`` says it was found, not configured."""

    FILES = {**IndexStore.FILES, "zotero-copy": "private copies of Zotero's database"}
    joins_entries = True          # Library joins its rows to the folders' .bib entries

    def __init__(self, data_dir, index_dir, collections: Optional[Iterable[str]] = None,
                 workers: Optional[int] = None, default: bool = False):
        self.collections = tuple(collections) if collections else None
        self.default = default
        self.zotero: Optional[ZoteroLibrary] = None
        self.error = ""                       # why the library could not be read last time
        self.texts_pending = 0                # attachments whose text is not indexed yet
        self._hurry = threading.Event()
        self._own_table = PaperTable()
        # item key -> (the ZoteroItem, its fingerprint, attachment rel, its Paper, its Row): an
        # item that did not change is the same object in the next read (reader.changes)
        self._items: dict[str, tuple] = {}
        self._by_file: dict[str, str] = {}    # attachment path -> manifest entry
        self._row_text: dict[str, tuple] = {}     # paper id -> (row, its JSON in table.json)
        self._state_json: dict[str, tuple] = {}   # manifest entry -> (FileState, its JSON)
        self._joined: Optional[tuple] = None  # (own table, the table with its rows joined)
        super().__init__(Path(data_dir).expanduser(), index_dir, workers)

    # -- the table: its own, or the one Library joined to the folders' entries ---------------
    @property
    def table(self) -> PaperTable:
        joined = self._joined
        own = self._own_table
        return joined[1] if joined is not None and joined[0] is own else own

    @table.setter
    def table(self, value: PaperTable) -> None:
        self._own_table = value

    @property
    def own_table(self) -> PaperTable:
        return self._own_table

    def join(self, own: PaperTable, entries) -> None:
        """Serve ``own`` (the table as read) with each row that is the same paper as a folder's
        bibliography entry (``entries``: an identity.PaperKeys of their ids) merged into it, as
        a paper text is into its entry: one paper, the entry's key."""
        if not (entries.by_doi or entries.by_arxiv or entries.by_title):
            self._joined = (own, own)
            return
        rows = []
        changed = False
        for r in own.rows:
            target = entries.find(r.doi, r.arxiv, r.title)
            alias = target or ""
            if alias != r.alias_of:
                r = Row(r.id, r.key, r.title, r.surnames, r.year, r.venue, r.source, r.source_line,
                        r.source_kind, r.file, r.doi, r.arxiv, alias, r.fulltext)
                changed = True
            rows.append(r)
        self._joined = (own, PaperTable(rows) if changed else own)

    def owns(self, name: str) -> bool:
        return name == "zotero-copy" or super().owns(name)

    def item_link(self, row: Row) -> str:
        """``zotero://select/...`` of a row's item ("" when it is not one of this library's)."""
        lib = self.zotero
        if lib is None:
            return ""
        for item in lib.items.values():
            if item.paper.id == row.id:
                return item.select_url
        return ""

    def describe(self) -> str:
        """Which Zotero library is read, for the status."""
        how = "found at the default location" if self.default else "configured"
        return f"{self.folder} ({how})"

    # -- updating -----------------------------------------------------------------------------
    def hurry(self) -> None:
        """A newer change waits: the running update stops after its current batch of texts."""
        self._hurry.set()

    def _copies(self) -> Path:
        """This process's folder for the private copies of Zotero's database; those of
        processes that ended without removing theirs (killed) are removed."""
        root = self.index_dir / "zotero-copy"
        try:
            for d in root.iterdir():
                if d.name.isdigit() and int(d.name) != os.getpid() and not _alive(int(d.name)):
                    shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass
        return root / str(os.getpid())

    def _read(self) -> ZoteroLibrary:
        if self.zotero is None:
            lib = read_library(self.folder, self.collections, workdir=self._copies())
        else:
            lib = changes(self.zotero).library
        self.zotero = lib
        for w in lib.warnings:
            log.warning("Zotero: %s", w)
        return lib

    def update(self, only: Optional[list[str]] = None, progress: Optional[Progress] = None,
               force_rebuild: bool = False) -> IndexReport:
        """Bring the index in line with Zotero (``only`` is ignored: the database says what
        changed)."""
        t0 = time.perf_counter()
        report = IndexReport(folder=str(self.folder))
        workers_mod.register_exit_hook()
        self._hurry.clear()
        with self._write_lock:
            try:
                self._check_abort()
                try:
                    lib = self._read()
                    self.error = ""
                except ZoteroError as exc:
                    self.error = str(exc)
                    raise
                except Exception as exc:     # a damaged database: said, the folders go on
                    log.exception("reading the Zotero library in %s failed", self.folder)
                    self.error = f"cannot read it ({exc.__class__.__name__}: {exc})"
                    raise ZoteroError(self.error) from None
                lock = self._process_lock()
                if lock is None:
                    report.busy = True
                else:
                    try:
                        self.reload_if_changed()
                        reason = "requested" if force_rebuild else self.needs_rebuild()
                        self._sync(report, lib, reason, progress)
                    finally:
                        lock.close()
            except ZoteroError as exc:
                report.error = f"the Zotero library was not read: {exc}"
                log.warning("%s", report.error)
            except Aborted:
                report.error = "indexing stopped: paperlens is exiting"
                self._after_failure()
            except IndexUnavailable as exc:
                report.error = str(exc)
            except OSError as exc:
                report.error = write_error(exc, self.index_dir)
                report.papers_indexed = 0
                self._after_failure()
            self.reload_if_changed()
        if report.error or report.busy:
            self.texts_pending = 0     # not "more to do at once": the next change or start retries
        report.papers_total = len(self.table.rows)
        report.unusable = sum(1 for st in self.manifest.values() if st.error)
        report.seconds = time.perf_counter() - t0
        return report

    def _att_rel(self, item: ZoteroItem) -> str:
        att = item.full_text()
        if att is None:
            return ""
        try:
            return Path(att.path).relative_to(self.folder).as_posix()
        except ValueError:
            return ""

    def _entry(self, item: ZoteroItem) -> tuple:
        """(item, fingerprint, attachment rel, paper, row) of an item, computed once per read of
        it. The paper's ``source`` is its attachment when it has one (the paper text that file
        is: what a PDF's text view and its reference list are looked up by), else the database."""
        cached = self._items.get(item.item_key)
        if cached is not None and cached[0] is item:
            return cached
        att_rel = self._att_rel(item)
        paper = item.paper
        if att_rel:
            paper = replace(paper, source=str(self.folder / att_rel), file=str(self.folder / att_rel))
        entry = (item, _fingerprint(item, att_rel), att_rel, paper, Row.from_paper(paper))
        self._items[item.item_key] = entry
        return entry

    def content_hash(self, path: str) -> str:
        """The state of an attachment whose text is indexed ("" when unknown): summaries of
        the item are cached under it."""
        rel = self._by_file.get(str(path))
        st = self.manifest.get(rel) if rel else None
        return f"{st.sha1}:{st.mtime_ns}:{st.size}" if st and st.mtime_ns and not st.error else ""

    def _sync(self, report: IndexReport, lib: ZoteroLibrary, reason: str,
              progress: Optional[Progress]) -> None:
        wanted: dict[str, tuple] = {}
        for item in lib.items.values():
            wanted[f"items/{item.library_id}/{item.item_key}"] = self._entry(item)
        for key in [k for k in self._items if k not in lib.items]:
            del self._items[key]
        self._by_file = {str(self.folder / e[2]): rel for rel, e in wanted.items() if e[2]}
        report.files_seen = len(wanted)
        if reason:
            self._fresh_index(report, reason)
            manifest: dict[str, corpus.FileState] = {}
        else:
            manifest = dict(self.manifest)
        meta_todo = [rel for rel, (_item, fp, _a, _p, _r) in wanted.items()
                     if rel not in manifest or manifest[rel].sha1 != fp]
        gone = [rel for rel in manifest if rel not in wanted]
        if meta_todo or gone or reason:
            self._write_metadata(report, wanted, manifest, meta_todo, gone, full=bool(reason), progress=progress)
        elif len(self._row_text) < len(wanted) // 2:
            self._warm(wanted, manifest)
        self._write_texts(report, wanted, progress)

    def _warm(self, wanted: dict, manifest: dict) -> None:
        """The JSON of every row and manifest entry, remembered now (the first update after a
        start, when nothing changed) rather than by the first change (+1.5 s at 25k items)."""
        for e in wanted.values():
            self._row_json(e[4])
        for k, st in manifest.items():
            self._state_text(k, st)

    def _fresh_index(self, report: IndexReport, reason: str) -> None:
        """An empty index in place of the old one (whose files are not usable as they are)."""
        report.rebuilt = reason
        log.info("building the index of the Zotero library %s: %s", self.folder, reason)
        self._close()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        (self.index_dir / "meta.json").unlink(missing_ok=True)
        for name in ("whoosh", "topk"):
            shutil.rmtree(self.index_dir / name, ignore_errors=True)
        self.whoosh_dir.mkdir(parents=True)
        whoosh_store._create_index(self.whoosh_dir)
        meta = {"schema": SCHEMA_VERSION, "folder": str(self.folder), "zotero": True, "built": time.time()}
        self._publish_state(self._prepare_state([], {}, full=True))
        (self.index_dir / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        self._state_stamp = None

    def _prepare_state(self, rows: list[Row], manifest: dict[str, corpus.FileState],
                       new_papers=(), full: bool = False, heads: Optional[dict[str, str]] = None) -> tuple:
        """IndexStore's, for a table of Zotero items: no joins inside it (its rows are all
        records; Library joins them to the folders' entries), and the table and manifest
        written by one C-encoded ``json.dumps`` each (the same bytes as PaperTable.write and
        corpus.manifest_chunks, without a Python call per row: 1 s less per change at 25k
        items)."""
        ids = {r.id for r in rows}
        self._write_refs(ids, new_papers, full)
        self._write_heads(ids, {p.id for p in new_papers}, heads or {}, full)
        table = PaperTable(rows)
        with open(self.index_dir / "table.tmp", "w", encoding="utf-8") as f:
            f.write("[" + ",".join(self._row_json(r) for r in rows) + "]")
        dumps = self._dumps
        known = self._state_json
        parts = []
        for k in sorted(manifest):
            parts.append(self._state_text(k, manifest[k]))
        for k in [k for k in known if k not in manifest]:
            del known[k]
        with open(self.index_dir / "manifest.tmp", "w", encoding="utf-8") as f:
            f.write(dumps({"folder": str(self.folder)})[:-1] + ',"files":{' + ",".join(parts) + "}}")
        return table, manifest

    def _state_text(self, k: str, st: corpus.FileState) -> str:
        """A manifest entry as corpus.manifest_chunks writes it, remembered with its state."""
        done = self._state_json.get(k)
        if done is None or done[0] is not st:
            dumps = self._dumps
            done = self._state_json[k] = (st, dumps(k) + ":" + dumps({
                "mtime_ns": st.mtime_ns, "size": st.size, "sha1": st.sha1, "paper_ids": st.paper_ids,
                "error": st.error}))
        return done[1]

    _dumps = staticmethod(functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":")))

    def _row_json(self, r: Row) -> str:
        """A row as PaperTable.write writes it (paths in the data folder relative to it),
        remembered with the row (rows of unchanged items are the same objects)."""
        cached = self._row_text.get(r.id)
        if cached is not None and cached[0] is r:
            return cached[1]
        prefix = str(self.folder).rstrip("/") + "/"
        mark = PaperTable.REL

        def rel(p: str) -> str:
            return mark + p[len(prefix):] if p.startswith(prefix) else p

        text = self._dumps([r.id, r.key, r.title, r.surnames, r.year, r.venue, rel(r.source), r.source_line,
                            r.source_kind, rel(r.file), r.doi, r.arxiv, r.alias_of, rel(r.fulltext)])
        if len(self._row_text) > 4 * len(self._items) + 1000:
            self._row_text.clear()
        self._row_text[r.id] = (r, text)
        return text

    def _commit(self, writer, rows: list[Row], manifest: dict, new_papers: list, full: bool = False) -> None:
        try:
            state = self._prepare_state(rows, manifest, new_papers, full=full)
            self._check_abort()
            writer.commit()
        except BaseException:
            writer.abandon()
            raise
        self._publish_state(state)

    def _write_metadata(self, report: IndexReport, wanted: dict, manifest: dict, todo: list[str],
                        gone: list[str], full: bool, progress: Optional[Progress] = None) -> None:
        """One commit: the new and changed items' metadata (their text, if any, is written
        again next), the items gone removed. Many items (a first read: 2 min at 25k items) are
        citable from the start of it: the table with their rows is served (in memory) while
        their documents are written; the hover shows the table's fields meanwhile."""
        if len(todo) >= EARLY_TABLE_ITEMS:
            self.table = PaperTable([e[4] for e in wanted.values()])
        writer = whoosh_store._new_writer(self.ix(), timeout=30.0, limitmb=whoosh_store.INCREMENTAL_POOL_MB)
        try:
            dropped = set()
            for rel in todo + gone:
                st = manifest.get(rel)
                for pid in (st.paper_ids if st else ()):
                    writer.delete_by_term("paper_id", pid)
                    dropped.add(pid)
            papers = []
            for rel in todo:
                item, fp, att_rel, paper, _row = wanted[rel]
                res = metadata_result(item, paper)
                add_docs(writer, att_rel or "zotero.sqlite", res)
                papers.extend(res.papers)
                manifest[rel] = corpus.FileState(0, 0, fp, [paper.id])
                report.papers_indexed += 1
                if progress and report.papers_indexed % 500 == 0:
                    self._check_abort()
                    progress(report.papers_indexed, len(todo), rel)
            for rel in gone:
                manifest.pop(rel, None)
                report.files_removed += 1
        except BaseException:
            writer.abandon()
            raise
        rows = self._rows(wanted, manifest)
        self._commit(writer, rows, manifest, papers, full=full)

    def _rows(self, wanted: dict, manifest: dict) -> list[Row]:
        return [e[4] for rel, e in wanted.items() if rel in manifest]

    def _write_texts(self, report: IndexReport, wanted: dict, progress: Optional[Progress]) -> None:
        """The attachments' texts not indexed yet, a batch per commit (see the module
        docstring)."""
        manifest = self.manifest
        todo = []
        for rel, (item, _fp, att_rel, _p, _r) in wanted.items():
            st = manifest.get(rel)
            if not att_rel or st is None:
                continue
            if (st.mtime_ns, st.size) != _stat(str(self.folder / att_rel)):
                todo.append(rel)
        total = len(todo)
        self.texts_pending = total
        done = 0
        while todo:
            if self._hurry.is_set():
                log.info("Zotero: %d attachment texts left for the next update", len(todo))
                return
            self._check_abort()
            batch, todo = todo[:TEXT_BATCH], todo[TEXT_BATCH:]
            self._text_batch(report, wanted, batch)
            done += len(batch)
            self.texts_pending = len(todo)
            if progress:
                progress(done, total, batch[-1])

    def _text_batch(self, report: IndexReport, wanted: dict, batch: list[str]) -> None:
        from paperlens.core.zotero.fulltext import as_item_text, parse_item_text

        by_att = {wanted[rel][2]: rel for rel in batch}
        results: dict[str, tuple[Optional[ParseResult], str]] = {}
        pdfs = [a for a in by_att if wanted[by_att[a]][0].full_text().content_type == PDF]
        for att_rel, res, why in (self._jobs(pdfs) if pdfs else ()):
            results[att_rel] = (res, why)
        for att_rel, rel in by_att.items():
            if att_rel in results:
                continue
            item = wanted[rel][0]
            try:
                results[att_rel] = (parse_item_text(item) if item.full_text().content_type == HTML
                                    else None, "")
            except (ParseError, OSError) as exc:
                results[att_rel] = (None, str(exc))
        manifest = dict(self.manifest)
        writer = whoosh_store._new_writer(self.ix(), timeout=30.0, limitmb=whoosh_store.INCREMENTAL_POOL_MB)
        papers = []
        try:
            for att_rel, rel in by_att.items():
                item, fp, _a, paper, _row = wanted[rel]
                res, why = results.get(att_rel, (None, "not parsed"))
                mtime, size = _stat(str(self.folder / att_rel))
                if res is None:
                    why = why or "no text"
                    report.skipped.append((att_rel, why))
                    manifest[rel] = corpus.FileState(mtime, size, fp, [item.paper.id], why)
                    continue
                report.files_parsed += 1
                report.warnings.extend(res.warnings)
                res = as_item_text(replace(item, paper=paper), res, str(self.folder / att_rel))
                writer.delete_by_term("paper_id", item.paper.id)
                add_docs(writer, att_rel, res)
                res = slim(res)
                papers.extend(res.papers)
                manifest[rel] = corpus.FileState(mtime, size, fp, [item.paper.id])
        except BaseException:
            writer.abandon()
            raise
        self._commit(writer, self._rows(wanted, manifest), manifest, papers)

    def release(self) -> None:
        """Let go of the private copy of Zotero's database (the library is no longer served)."""
        lib, self.zotero = self.zotero, None
        if lib is not None:
            lib.close()
