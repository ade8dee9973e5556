"""IndexStore: a paper folder's index in Whoosh, the one owner of every file in its directory.

Layout of an index directory (``IndexStore.FILES``; nothing else writes there)::

    meta.json      index format version and the folder it indexes
    whoosh/        the Whoosh index (paper docs + passage docs), Whoosh's files only
    topk/          search side files, one per large segment (fast.py)
    table.json     the compact paper table (completion, key lookup)
    manifest.json  mtime/size/hash of every indexed file
    references.jsonl  per paper, one line "<paper id>\t<JSON object of columns>": what the
                   citation graph needs of its reference list (label, title, doi, arxiv,
                   year, and the author list and years as the matcher's evidence), one
                   named list per field (an index written before has a list of objects
                   per line: read as well), streamed, never held in memory as a whole
    heads.jsonl    per paper text, the top of its first page (joins.py)
    texts/         read-only text views of PDFs (``views_dir``)
    update.lock    held by the process updating the index

Writes go through one writer at a time (a thread lock here, Whoosh's file lock across
processes). Order of a commit: Whoosh, then the table, then the manifest; after a crash the
manifest is older than the index, so the next start re-does that work and nothing is missed.
A full rebuild is written aside and swapped in.

Whoosh is reached through ``storage.Storage`` (segments read without copies) and
``writing.Writer`` (faster writing), passed to it explicitly.
"""
from __future__ import annotations

import functools
import hashlib
import heapq
import json
import logging
import os
import shutil
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional


from paperlens.core import corpus, joins
from paperlens.core.corpus import read_regular
from paperlens.core.index import workers as workers_mod
from paperlens.core.index.base import (IndexReport, IndexUnavailable, Progress, SearchHit, SearchIndex,
                                       write_error)
from paperlens.core.index.table import PaperTable, Row, copy_bytes, record_text
from paperlens.core.index.version import SCHEMA_VERSION
from paperlens.core.index.workers import Aborted, Parsers, WorkersFailed
from paperlens.core.keys import base_key, unique_key
from paperlens.core.models import Paper, Passage, Reference, references_of_columns
from paperlens.core.parse import ParseError, ParseResult, parse_file

log = logging.getLogger(__name__)

__all__ = ["IndexStore", "IndexReport", "IndexUnavailable", "POOL_MIN_FILES", "write_error"]

# Below this many files, parsing in the calling thread (text files) and one worker process
# (PDFs, big files) beats starting a pool of worker processes.
POOL_MIN_FILES = 24
# Files parsed in the calling thread: small text files (bounded work). A PDF (C code that
# cannot be interrupted) or a bigger file is parsed in a worker process that can be timed out
# and killed (workers.py), whatever the size of the batch.
INPROCESS_MAX_BYTES = 1024 * 1024
# Postings an update pools in memory (MB) before spilling a sorted run to a temporary file:
# small in the server's own process (incremental updates), larger in the build's workers.
INCREMENTAL_POOL_MB = 32


def _parse_job(folder: str, rel: str) -> tuple[str, Optional[ParseResult], str]:
    """Parse one file: (rel, result or None, reason when skipped)."""
    try:
        _parse_fault(rel)
        return rel, parse_file(Path(folder) / rel), ""
    except ParseError as exc:
        return rel, None, str(exc)
    except MemoryError:        # a worker's memory is capped (workers.py)
        return rel, None, "parsing needed more memory than a parser process may use; skipped"
    except Exception as exc:   # one bad file never stops the rest
        log.exception("failed to parse %s", rel)
        return rel, None, f"parser error: {exc.__class__.__name__}: {exc}"


def _parse_fault(rel: str) -> None:
    """Fault injection for the tests, in worker processes only: PAPERLENS_FAULT_CRASH_ON=<end
    of a file name> makes the worker die on that file; PAPERLENS_FAULT_HANG_ON=<end> makes it
    block for good (as pdfium on a hostile PDF), after appending its pid to the file named by
    PAPERLENS_FAULT_HANG_MARK (so that a test can wait for it); PAPERLENS_FAULT_GROW_ON=<end>
    makes it allocate memory until it cannot."""
    crash = os.environ.get("PAPERLENS_FAULT_CRASH_ON")
    hang = os.environ.get("PAPERLENS_FAULT_HANG_ON")
    if not (crash or hang or os.environ.get("PAPERLENS_FAULT_GROW_ON")) or not multiprocessing_child():
        return
    if crash and rel.endswith(crash):
        os._exit(70)
    grow = os.environ.get("PAPERLENS_FAULT_GROW_ON")
    if grow and rel.endswith(grow):     # a parse whose memory grows without bound
        held = []
        while True:
            held.append(bytearray(64 * 1024 * 1024))
    if hang and rel.endswith(hang):
        mark = os.environ.get("PAPERLENS_FAULT_HANG_MARK")
        if mark:
            with open(mark, "a", encoding="utf-8") as f:
                f.write(f"{os.getpid()}\n")
        threading.Event().wait()


ENTRY_KINDS = ("bib", "csl", "table")     # bibliography records (their abstract starts at the entry)


def add_docs(writer, rel: str, res: ParseResult) -> None:
    """Write one file's documents: per paper its stored record (``p:``), its passages (``s:``)
    and its searchable record (``r:``, see schema.py). Keys in the index may be provisional (a
    generated key is made unique later, its base is written here): readers take keys from the
    paper table. Only a paper doc's ``doc`` id is a term (``IndexStore.paper`` looks it up);
    passages and records store theirs (``_stored_doc``, see writing.Writer.add_document)."""
    counters: dict[str, int] = {}
    titles = {p.id: p for p in res.papers}
    ends: dict[str, int] = {}          # a bibliography entry's last line (its abstract's span)
    for p in res.papers:   # stored records are looked up by id, never searched
        writer.add_document(doc=f"p:{p.id}", kind="paper", path=rel, paper_id=p.id, key=p.key,
                            data=p.to_dict())
    for s in res.passages:
        paper = titles.get(s.paper_id)
        n = counters.get(s.paper_id, 0)
        counters[s.paper_id] = n + 1
        if paper is not None and s.line_start == paper.source_line and paper.source_kind in ENTRY_KINDS:
            ends[s.paper_id] = max(ends.get(s.paper_id, s.line_end), s.line_end)
        fields = {"abstract": s.text} if s.section.startswith("abstract") else {"body": s.text}
        writer.add_document(_stored_doc=f"s:{s.paper_id}:{n}", kind="passage", path=rel,
                            paper_id=s.paper_id, key=paper.key if paper else "",
                            title=paper.title if paper else "", text=s.text, section=s.section,
                            line_start=s.line_start, line_end=s.line_end, page=s.page, **fields)
    page = 1 if rel.lower().endswith(".pdf") else None
    for p in res.papers:
        key = p.key or base_key(p)
        writer.add_document(_stored_doc=f"r:{p.id}", kind="record", path=rel, paper_id=p.id, key=key,
                            title=p.title, authors="; ".join(p.authors),
                            meta=" ".join(v for v in (key, p.year, p.venue) if v),
                            text=record_text(p.title, p.surnames(), p.venue, p.year, key),
                            section="record", line_start=p.source_line,
                            line_end=ends.get(p.id, p.source_line), page=page)


# What the citation graph needs of a reference: its identity, and the evidence the matcher
# reads in its text (stored_evidence: the author list, the years). "authors" is written for
# every entry (possibly ""): an entry without it was written before it was kept, and the graph
# reads that entry's text again when the evidence would decide.
REF_FIELDS = ("label", "title", "doi", "arxiv", "year", "authors", "after", "years")

_BAD = object()
_REF_NAMES = frozenset(REF_FIELDS)


def graph_reference(r: Reference) -> Reference:
    """What references.jsonl keeps of an entry (its text goes: see stored_evidence)."""
    if r.authors is not None:
        authors, after, years = r.authors, r.after, r.years
    else:       # (rare: the matcher's module and its patterns are not loaded by opening a library)
        from paperlens.core.references.matcher import stored_evidence

        authors, after, years = stored_evidence(r)
    return Reference(r.label, title=r.title, doi=r.doi, arxiv=r.arxiv, year=r.year, authors=authors,
                     after=after, years=years)


def reference_line(refs: list[Reference]) -> str:
    """The JSON object references.jsonl keeps for a paper's references: one list per field of
    REF_FIELDS, an entry's value at its place in each (``{"label": ["1", "2"], "title": [...],
    ...}``). A field empty in every entry is left out, but for "authors" (see REF_FIELDS). A
    list of strings is decoded into far fewer objects than a list of objects (10k papers: 275k
    entries), and the citation graph reads the titles first (:func:`reference_columns`)."""
    kept = [graph_reference(r) for r in refs]
    out = {}
    for k in REF_FIELDS:
        column = [getattr(g, k) for g in kept]
        if k == "authors" or any(column):
            out[k] = column
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


_STR_OR_NONE = frozenset((str, type(None)))


def reference_columns(value):
    """A line of references.jsonl (decoded JSON) as the lists of its fields, in the order of
    REF_FIELDS, all of one length (a field the line leaves out: "" for each entry, ``None`` for
    "authors": not known), or _BAD. Reads both shapes: an object of columns (written now) and
    a list of objects (written before); an entry's "authors" may be null (not known)."""
    if type(value) is dict:
        if not value.keys() <= _REF_NAMES:
            return _BAD
        n = -1
        for k, column in value.items():
            if type(column) is not list or (n >= 0 and len(column) != n) or not _strings(column, k):
                return _BAD
            n = len(column)
        if n < 0:
            n = 0
        get = value.get
        return tuple(get(k) or ([None] * n if k == "authors" else [""] * n) for k in REF_FIELDS)
    if type(value) is not list:
        return _BAD
    names = _REF_NAMES
    for r in value:
        if type(r) is not dict or not r.keys() <= names:
            return _BAD
    out = []
    for k in REF_FIELDS:
        column = [r.get(k) for r in value] if k == "authors" else [r.get(k, "") for r in value]
        if not _strings(column, k):
            return _BAD
        out.append(column)
    return tuple(out)


def _strings(column: list, field: str) -> bool:
    """Whether a column of a decoded line holds strings only (``None`` too for "authors"):
    joining them checks that in C, ~2.5x faster than a set of their types, the most of a
    line's check (decoded JSON holds no subclass of str: any other value is not a string)."""
    try:
        "".join(column)
        return True
    except TypeError:
        return field == "authors" and set(map(type, column)) <= _STR_OR_NONE


def _references(value):
    """A line of references.jsonl as References (either shape, see :func:`reference_columns`),
    or _BAD. An entry without "authors" (written before the evidence was kept) gives
    ``authors=None``."""
    columns = reference_columns(value)
    return _BAD if columns is _BAD else references_of_columns(columns)


class _LazyLine:
    """A line of references.jsonl read when called: its References, or None when it is damaged
    (the index says so). :meth:`columns` reads it as the lists of its fields instead
    (:func:`reference_columns`): the citation graph makes a Reference only of the entries that
    may name a library paper."""

    __slots__ = ("_decode", "_name", "_n", "_data")

    def __init__(self, decode, name: str, n: int, data: bytes) -> None:
        self._decode, self._name, self._n, self._data = decode, name, n, data

    def __call__(self) -> Optional[list[Reference]]:
        value = self._decode(self._name, self._n, self._data)
        return None if value is _BAD else value

    def columns(self) -> Optional[tuple]:
        value = self._decode(self._name, self._n, self._data, reference_columns)
        return None if value is _BAD else value


def _kept_ranges(f, ids: set[str], new: set[str]) -> list[tuple[int, int]]:
    """The byte ranges of a side file's lines to keep: those of papers in ``ids`` and not in
    ``new``, runs of neighbouring lines joined (one changed paper: two ranges)."""
    keep_ids = {i.encode("utf-8") for i in ids - new}
    ranges: list[tuple[int, int]] = []
    pos, start = 0, -1
    for line in f:
        if line.partition(b"\t")[0] in keep_ids:
            if start < 0:
                start = pos
        elif start >= 0:
            ranges.append((start, pos))
            start = -1
        pos += len(line)
    if start >= 0:
        ranges.append((start, pos))
    return ranges


def _copy_ranges(f, out, ranges: list[tuple[int, int]]) -> None:
    """Copy byte ranges of ``f`` to ``out`` as bytes (a side file's unchanged lines: 77 MB of
    references at 10k papers, not decoded and encoded again for each changed file)."""
    for start, end in ranges:
        if copy_bytes(f, out, start, end) != end - start:
            return


# what a line of each side file holds, as read (a line that holds anything else is damage: _BAD)
_SIDE_VALUES = {
    "references.jsonl": _references,
    "heads.jsonl": lambda v: v if type(v) is str else _BAD,
}


def slim(res: ParseResult) -> ParseResult:
    """What is left to do once a file's documents are written: the paper table and the
    reference lines of the citation graph. Passages and full reference entries go (at 10k
    papers, keeping them until the commit took 1.7 GB in one process)."""
    for p in res.papers:
        p.references = [graph_reference(r) for r in p.references]
    return ParseResult(papers=res.papers, warnings=res.warnings, draft=res.draft, heads=res.heads)


def _for_parent(res: ParseResult) -> ParseResult:
    """A worker's result as the parent gets it: what the parent would do with each paper
    alone (its reference line, its key's base) done here, in parallel, and the references
    left out (less to send; the parent only writes their line)."""
    res.reference_lines = {p.id: reference_line(p.references) for p in res.papers if p.references}
    res.base_keys = {p.id: base_key(p) for p in res.papers if not p.key}
    for p in res.papers:
        p.references = []
    return res


def _reference_lines(results: dict) -> dict[str, str]:
    return {pid: line for res in results.values() if res for pid, line in res.reference_lines.items()}


def _heads(results: dict) -> dict[str, str]:
    return {pid: head for res in results.values() if res for pid, head in res.heads.items()}


def _whoosh():
    """The Whoosh parts of the store, imported on first use (the paper table answers without
    them); IndexUnavailable when the installed Whoosh is not the one required."""
    from paperlens.core.index.whoosh import require

    require()
    from paperlens.core.index.whoosh import storage, writing

    return storage, writing


def _open_index(path: Path):
    storage, _ = _whoosh()
    return storage.Storage(str(path)).open_index()


def _create_index(path: Path):
    from paperlens.core.index.whoosh.schema import make_schema

    storage, _ = _whoosh()
    return storage.Storage(str(path)).create_index(make_schema())


def _index_exists(path: Path) -> bool:
    storage, _ = _whoosh()
    return path.is_dir() and storage.Storage(str(path)).index_exists()


def _new_writer(ix, timeout: float = 0.0, lock: bool = True, **kwargs):
    _, writing = _whoosh()
    return writing.Writer.open(ix, timeout=timeout, lock=lock, **kwargs)


# Words whose token counts a worker process remembers (tokens.set_word_cache_limit): about 25 MB
# of a worker's 2 GB; the server keeps tokens' smaller default.
WORKER_WORD_CACHE = 1 << 18


def _worker_tokens() -> None:
    from paperlens.core import tokens

    if tokens.WORD_CACHE_MAX != WORKER_WORD_CACHE:
        tokens.set_word_cache_limit(WORKER_WORD_CACHE)


def _worker_parse(folder: str, rel: str) -> tuple[str, Optional[ParseResult], str]:
    """A parser process's job (what the process imports, never a test's replacement)."""
    _worker_tokens()
    return _parse_job(folder, rel)


def _segment_job(folder: str, rels: list[str], index_dir: str, side_dir: str,
                 started: Optional[Callable[[str], None]] = None,
                 finished: Optional[Callable[[str], None]] = None):
    """Worker process: parse a batch of files and write them as one Whoosh segment of the
    index being built aside (with its search side file in ``side_dir``). Returns the segment
    and, per file, what the parent needs to finish the paper table (papers without passages)
    or why the file was skipped. ``started``/``finished`` are told each file (the parent times
    each one)."""
    _worker_tokens()
    ix = _open_index(Path(index_dir))
    writer = _new_writer(ix, lock=False, limitmb=96)   # the parent holds the index's lock
    from paperlens.core.index.whoosh import fast

    writer.side_data = side = fast.SideFileData()     # the side file, gathered while writing
    out = []
    try:
        for rel in rels:
            if started:
                started(rel)
            rel_, res, reason = _parse_job(folder, rel)
            if res is not None:
                add_docs(writer, rel, res)
                res = _for_parent(slim(res))
            out.append((rel, res, reason))
            if finished:
                finished(rel)
        segment = writer.finish_segment()
        if segment is not None:
            fast.write_side_file_of_segment(ix.storage, ix.schema, segment, Path(side_dir), side)
    except BaseException:
        writer.abandon()
        raise
    return segment, out


# What a file costs to index, in bytes of text file: a PDF's text is a fraction of its bytes,
# and every file has a fixed cost (opening, parsing, its paper docs).
PDF_BYTES_PER_TEXT_BYTE = 4
FILE_COST_BYTES = 8192


def balanced_batches(folder: Path, rels: list[str], n: int) -> list[list[str]]:
    """``rels`` cut into at most ``n`` batches (one per worker: one segment each) of about the
    same indexing cost, biggest files first into the cheapest batch; each batch in name order.
    Batches of every n-th file left the one holding a big bibliography (library.bib, 14.6 MB
    at 10k papers) 1.5x the others, its worker alone on the last minute; and more segments
    than workers made every search slower."""
    n = max(1, min(n, len(rels)))
    costs = []
    for rel in rels:
        try:
            size = (Path(folder) / rel).stat().st_size
        except OSError:
            size = 0
        if rel.lower().endswith(".pdf"):
            size //= PDF_BYTES_PER_TEXT_BYTE
        costs.append((size + FILE_COST_BYTES, rel))
    costs.sort(key=lambda c: (-c[0], c[1]))
    heap = [(0, i) for i in range(n)]
    batches: list[list[str]] = [[] for _ in range(n)]
    for cost, rel in costs:
        total, i = heapq.heappop(heap)
        batches[i].append(rel)
        heapq.heappush(heap, (total + cost, i))
    return [sorted(b) for b in batches if b]


# An update of at most this many files (a changed file, a few saved at once) commits without
# merging segments (see IndexStore._merge_small_segments).
QUICK_COMMIT_FILES = 16


def drop_emptied(writer, segments) -> list:
    """A Whoosh merge policy (``commit(mergetype=...)``) for the quick commit of a few changed
    files: no segment merged, those whose documents are all deleted left out. A file saved
    again deletes its documents from the segment of its previous version: a file edited ten
    times between two merges left ten empty segments, each a lookup of every query word."""
    return [s for s in segments if s.doc_count() > 0]


def small_merge_due(segments) -> bool:
    """Whether Whoosh's MERGE_SMALL policy would merge some of ``segments`` (its rule: the
    smallest segments up to the first ``i > 3`` whose documents together are fewer than
    ``fib(i + 5)``)."""
    from whoosh.util import fib

    total = 0
    for i, count in enumerate(sorted(s.doc_count_all() for s in segments)):
        total += max(count, 0)
        if i > 3 and total < fib(i + 5):
            return True
    return False


def _fault(point: str) -> None:
    """Fault injection for the crash-safety tests: PAPERLENS_FAULT_KILL_AT=<point> kills this
    process with SIGKILL when it reaches that point of an update."""
    if os.environ.get("PAPERLENS_FAULT_KILL_AT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def multiprocessing_child() -> bool:
    import multiprocessing

    return multiprocessing.parent_process() is not None


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class IndexStore(SearchIndex):
    # every entry of the index directory, and what it is (see the module docstring)
    FILES = {"meta.json": "index format and folder", "whoosh": "the Whoosh index",
             "topk": "search side files", "table.json": "the paper table",
             "manifest.json": "the indexed files' states", "references.jsonl": "reference lines",
             "heads.jsonl": "first-page heads", "texts": "text views of PDFs",
             "update.lock": "the updating process's lock"}
    REFS = "references.jsonl"
    HEADS = "heads.jsonl"

    def __init__(self, folder: Path, index_dir: Path, workers: Optional[int] = None):
        self.folder = Path(folder).resolve()
        self.workers = default_workers() if workers is None else max(1, workers)
        self.index_dir = Path(index_dir)
        self._write_lock = threading.Lock()
        self._aborted = threading.Event()
        self._parsers = None            # the worker processes of the running update, if any
        workers_mod.track(self)
        self._ix = None
        self._searcher = None
        self._search_lock = threading.Lock()
        # searchers in use by a reader (id -> [searcher, readers]): one replaced (a newer
        # commit, a failed update) is closed when its last reader is done, never under it
        self._leases: dict[int, list] = {}
        self._cache = None              # fast.SearchCache: what searches read once, until close()
        self._state_stamp = None
        self.table = PaperTable()
        self._manifest: Optional[dict[str, corpus.FileState]] = {}
        self.unavailable = ""           # why the index could not be opened last time ("" if it could)
        self._manifest_damage = ""      # why manifest.json could not be used
        self._side_damage = ""          # why a line of references.jsonl or heads.jsonl could not
        self.reload_if_changed()

    # -- the files ---------------------------------------------------------------------------
    @property
    def whoosh_dir(self) -> Path:
        return self.index_dir / "whoosh"

    @property
    def side_dir(self) -> Path:
        """The search side files (fast.py): kept apart from Whoosh's files."""
        return self.index_dir / "topk"

    def owns(self, name: str) -> bool:
        """Whether ``name`` is an entry of the index directory this store writes: ``FILES``,
        and while an update runs (or after one was killed: removed by the next) their
        ``*.tmp`` versions and the rebuilt index aside (``whoosh.new-<pid>``, ``whoosh.old-<pid>``)."""
        if name in self.FILES:
            return True
        base, dot, ext = name.rpartition(".")
        if dot and ext == "tmp" and (base in self.FILES or base in ("table", "manifest", "meta")):
            return True
        kind, _, pid = name.partition("-")
        return kind in ("whoosh.new", "whoosh.old") and pid.isdigit()

    def _meta(self) -> dict:
        """meta.json, or {} when there is none or it is damaged (then the index is rebuilt)."""
        try:
            meta = json.loads(read_regular(self.index_dir / "meta.json", 1 << 20).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return meta if isinstance(meta, dict) else {}

    @property
    def damaged(self) -> str:
        """Why a file of the index that was read is damaged ("" when none is known to be): the
        next update rebuilds the index (see needs_rebuild)."""
        if self.table.damaged:
            return f"paper table damaged ({self.table.damaged})"
        return self._manifest_damage or self._side_damage

    def _found_damage(self, what: str) -> None:
        log.warning("the index of %s is damaged: %s; it is rebuilt by the next update", self.folder, what)

    def needs_rebuild(self) -> str:
        """Why the on-disk index cannot be used as it is ("" when it can)."""
        meta = self._meta()
        if not meta:
            return "no index yet"
        if meta.get("schema") != SCHEMA_VERSION:
            return f"schema changed ({meta.get('schema')} -> {SCHEMA_VERSION})"
        if not _index_exists(self.whoosh_dir):
            return "index files missing"
        if not all((self.index_dir / name).is_file() for name in ("table.json", "manifest.json", self.REFS, self.HEADS)):
            return "paper table, manifest or side files missing"
        self.manifest                      # read (and checked) when not yet
        if self.damaged:
            return self.damaged
        try:
            _open_index(self.whoosh_dir).doc_count()
        except IndexUnavailable:
            raise
        except Exception as exc:  # a damaged index must not stop anything
            return f"index damaged ({exc.__class__.__name__})"
        return ""

    # -- reading Whoosh's files ------------------------------------------------------------------
    def ix(self):
        if self._ix is None:
            self._ix = _open_index(self.whoosh_dir)
        return self._ix

    def searcher(self):
        """A searcher that sees the latest commit (of this or another process). When the index
        cannot be opened (its files deleted or damaged under a running server), the searcher
        already open keeps answering from the files it holds; without one, IndexUnavailable.
        Either way it is said once in the log, and the next update rebuilds the index
        (needs_rebuild looks at the files). Code that reads with it across calls holds it
        with :meth:`using` instead, so that a newer commit does not close it meanwhile."""
        with self._search_lock:
            return self._latest_searcher()

    def _latest_searcher(self):
        """:meth:`searcher` with ``_search_lock`` held."""
        try:
            if self._searcher is None:
                self._searcher = self.ix().searcher()
            elif not self._searcher.up_to_date():
                # not Searcher.refresh(): reusing segment readers keeps stale deletions
                new = self.ix().searcher()
                old, self._searcher = self._searcher, new
                self._retire(old)
        except Exception as exc:  # noqa: BLE001 - Whoosh raises many kinds on missing files
            why = str(exc) if isinstance(exc, IndexUnavailable) else f"{exc.__class__.__name__}: {exc}"
            if self.unavailable != why:
                self.unavailable = why
                log.warning("the index of %s cannot be opened (%s); %s; it is rebuilt by the next update",
                            self.folder, why, "answering from the files already open"
                            if self._searcher is not None else "searches find nothing meanwhile")
            if self._searcher is None:
                raise IndexUnavailable(why) from None
            return self._searcher
        self.unavailable = ""
        return self._searcher

    def _retire(self, searcher) -> None:
        """No longer the current searcher (``_search_lock`` held): closed now, or by the last
        reader that holds it (a search on another thread reading its segment files)."""
        lease = self._leases.get(id(searcher))
        if lease is not None and lease[0] is searcher:
            lease.append(True)            # closed when its readers are done
        else:
            searcher.close()

    @contextmanager
    def using(self):
        """The latest searcher, held for the block: a newer commit or a failed update that
        replaces it meanwhile closes it only when the block ends (a search reading a segment
        file that was closed under it found nothing)."""
        with self._search_lock:
            searcher = self._latest_searcher()
            lease = self._leases.setdefault(id(searcher), [searcher, 0])
            lease[1] += 1
        try:
            yield searcher
        finally:
            close = False
            with self._search_lock:
                lease[1] -= 1
                if lease[1] == 0:
                    del self._leases[id(searcher)]
                    close = len(lease) > 2
            if close:
                searcher.close()

    @contextmanager
    def reading(self):
        """What a search reads (queries.Reading) for the block: the searcher of the latest
        commit (held, see :meth:`using`), the paper table, and the search cache this store
        keeps until it closes."""
        from paperlens.core.index.whoosh import fast, queries

        with self.using() as searcher:
            with self._search_lock:
                if self._cache is None:
                    self._cache = fast.SearchCache(self.side_dir)
                cache = self._cache
            yield queries.Reading(searcher, self.table, self.folder, cache)

    def is_ready(self) -> bool:
        """Whether the index proper can be read: it exists, in this version's format (an index
        of another format is rebuilt by the next update; until then the table answers)."""
        if self._ix is not None:          # opened and not closed since: no files to look at
            return True
        meta = self._meta()
        if not meta or meta.get("schema") != SCHEMA_VERSION:
            return False
        try:
            return _index_exists(self.whoosh_dir)
        except IndexUnavailable as exc:
            if self.unavailable != str(exc):
                self.unavailable = str(exc)
                log.warning("the index of %s cannot be read: %s", self.folder, exc)
            return False

    def _stamp(self):
        try:
            st = (self.index_dir / "manifest.json").stat()
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def reload_if_changed(self) -> bool:
        """Pick up the table and manifest another process wrote (a second editor window on the
        same library). A stat per call; the files are read only when they changed."""
        stamp = self._stamp()
        if stamp == self._state_stamp:
            return False
        self._state_stamp = stamp
        table = PaperTable.load(self.index_dir / "table.json", str(self.folder))
        if table.damaged:
            self._found_damage(f"table.json {table.damaged}")
        self.table = table
        self._manifest = None    # read when first needed: the first completion does not
        self._manifest_damage = self._side_damage = ""
        return True

    @property
    def manifest(self) -> dict[str, corpus.FileState]:
        if self._manifest is None:
            self._manifest = self._load_manifest()
        return self._manifest

    def _table_ids(self) -> dict[str, int]:
        table = self.table
        table.get("")                 # the table's id lookup (made once per table)
        return table.by_id or {}

    _MANIFEST_FIELDS = {"mtime_ns": int, "size": int, "sha1": str, "paper_ids": list, "error": str}

    def _load_manifest(self) -> dict[str, corpus.FileState]:
        """manifest.json as corpus.manifest_chunks writes it. A damaged one reads as empty (and
        ``damaged`` says so): every file then counts as new until the rebuild."""
        path = self.index_dir / "manifest.json"
        try:
            raw = json.loads(read_regular(path, PaperTable.MAX_BYTES).decode("utf-8"))
            files = raw.get("files") if isinstance(raw, dict) else None
            if not isinstance(files, dict):
                raise ValueError("no list of files")
            out = {}
            types = self._MANIFEST_FIELDS
            # a paper's id as the paper table holds it, not a copy (20k ids at 10k papers)
            rows, by_id = self.table.rows, self._table_ids()
            for rel, st in files.items():
                if type(st) is not dict or not st.keys() <= types.keys() \
                        or any(type(v) is not types[k] for k, v in st.items()) \
                        or not all(type(p) is str for p in st.get("paper_ids", ())):
                    raise ValueError(f"the entry of {rel!r} is not a file's state")
                ids = st.get("paper_ids")
                if ids:
                    for n, pid in enumerate(ids):
                        i = by_id.get(pid)
                        if i is not None:
                            ids[n] = rows[i].id
                out[rel] = corpus.FileState(**st)
            return out
        except FileNotFoundError:
            return {}
        except RecursionError:
            why = "nested too deeply"
        except (OSError, ValueError, TypeError) as exc:
            why = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, UnicodeError) \
                else exc.__class__.__name__
        self._manifest_damage = f"manifest damaged ({why})"
        self._found_damage(f"manifest.json: {why}")
        return {}

    @manifest.setter
    def manifest(self, value: dict[str, corpus.FileState]) -> None:
        self._manifest = value
        self._manifest_damage = ""

    def reference_lines(self):
        """(paper id, [Reference with label, title, doi, arxiv, year, and the evidence of
        stored_evidence]) of every paper with a reference list, read line by line: 10k papers have ~25 MB of them, too much to keep as Python
        objects at once. An index of another format has none (until it is rebuilt)."""
        if self._meta().get("schema") != SCHEMA_VERSION:
            return
        yield from self._iter_keyed(self.REFS)

    def reference_lines_lazily(self):
        """(paper id, the SHA-1 digest of its line, the list read when called or None when its
        line is damaged): an unchanged list costs the graph's update a digest of its line, not
        the JSON decoding and the References (most of an update's time at 10k papers). The
        digest is the same in every process (a graph saved for the next session keeps it). What
        is called (:class:`_LazyLine`) also reads the list as the lists of its fields
        (``columns()``), which the graph's build reads instead."""
        if self._meta().get("schema") != SCHEMA_VERSION:
            return iter(())
        decode, sha1, name = self._decode, hashlib.sha1, self.REFS
        return ((pid, sha1(data, usedforsecurity=False).digest(), _LazyLine(decode, name, n, data))
                for pid, n, data in self._iter_raw(name, binary=True))

    @property
    def stamp(self):
        """Changes whenever this index's papers change (for caches built on top of it)."""
        return self._state_stamp

    def _process_lock(self):
        """An exclusive lock on this index across processes, or None when another process
        holds it (that process is updating the index; we read what it commits)."""
        import fcntl

        self.index_dir.mkdir(parents=True, exist_ok=True)
        f = open(self.index_dir / "update.lock", "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return None
        return f

    def update(self, only: Optional[list[str]] = None, progress: Optional[Progress] = None,
               force_rebuild: bool = False) -> IndexReport:
        """Bring the index up to date with the folder (or with the files in ``only``)."""
        t0 = time.perf_counter()
        report = IndexReport(folder=str(self.folder))
        workers_mod.register_exit_hook()
        with self._write_lock:
            try:
                self._check_abort()
                lock = self._process_lock()
                if lock is None:
                    report.busy = True
                    log.info("another paperlens process is updating %s; using its results", self.index_dir)
                else:
                    try:
                        self.reload_if_changed()
                        reason = "requested" if force_rebuild else self.needs_rebuild()
                        if reason:
                            self._rebuild(report, reason, progress)
                        else:
                            self._incremental(report, only, progress)
                    finally:
                        lock.close()
            except Aborted:
                report.error = "indexing stopped: paperlens is exiting"
                self._after_failure()
            except IndexUnavailable as exc:      # the Whoosh installed is not the one needed
                report.error = str(exc)
                log.warning("%s; the index of %s stays as it was", exc, self.folder)
            except OSError as exc:     # the files of the papers are read elsewhere: this is the index
                report.error = write_error(exc, self.index_dir)
                report.papers_indexed = report.files_removed = 0      # nothing was written
                log.info("%s (%s); the index stays as it was", report.error, exc)
                self._after_failure()
            self.reload_if_changed()
        report.papers_total = len(self.table.rows)
        report.unusable = sum(1 for st in self.manifest.values() if st.error)
        report.seconds = time.perf_counter() - t0
        return report

    def abort(self) -> None:
        """Stop a running update of this store now (from any thread) and any later one: its
        workers are killed, nothing more is committed. For a process that is ending."""
        self._aborted.set()
        parsers = self._parsers
        if parsers is not None:
            parsers.kill()

    def _check_abort(self) -> None:
        if self._aborted.is_set():
            raise Aborted()

    def _after_failure(self) -> None:
        """After an update failed midway: what is on disk is the truth again (the old index,
        or what a crash at that point would have left, which the next update completes)."""
        for tmp in self.index_dir.glob("*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass
        self._close()
        self._state_stamp = None

    def _heavy(self, rel: str) -> bool:
        """Whether a file is parsed in a worker process even in a small batch."""
        if rel.lower().endswith(".pdf"):
            return True
        try:
            return (self.folder / rel).stat().st_size > INPROCESS_MAX_BYTES
        except OSError:
            return False        # the parser says why it cannot be read

    def _jobs(self, rels: list[str]):
        """(rel, result, reason) for each file: in worker processes for big batches (PDF
        extraction is CPU-bound and pdfium is not thread-safe); in a small batch, small text
        files in this thread and the others (PDFs, big files) in one worker process, so that
        every parse that can take long is time-limited (workers.py)."""
        if self.workers > 1 and len(rels) >= POOL_MIN_FILES:
            yield from self._pool_jobs(rels, self.workers)
            return
        heavy = [r for r in rels if self._heavy(r)]
        if heavy:
            yield from self._pool_jobs(heavy, 1)
        light = set(rels) - set(heavy)
        for rel in rels:
            if rel in light:
                self._check_abort()
                yield _parse_job(str(self.folder), rel)

    def _parsers_for(self, n: int, aside: Optional[Path] = None) -> Parsers:
        """Parser processes; with ``aside`` (an index being built), they also write segments of it."""
        segment = None
        if aside is not None:
            segment = functools.partial(_segment_job, index_dir=str(aside), side_dir=str(self.side_dir))
        parsers = Parsers(str(self.folder), n, _worker_parse, segment, aborted=self._aborted)
        self._parsers = parsers
        if self._aborted.is_set():       # abort() ran before the line above
            parsers.close()
            raise Aborted()
        return parsers

    def _pool_jobs(self, rels: list[str], n: int):
        """Parse in worker processes. A worker that dies (a crash inside pdfium) or hangs costs
        only the file it was parsing (workers.py); the rest is parsed by a fresh worker."""
        parsers = self._parsers_for(n)
        done: set[str] = set()
        try:
            for event in parsers.run([[rel] for rel in rels], "parse"):
                if event[0] == "parsed":
                    item = event[1]
                else:                              # ("skipped", rel, reason)
                    item = (event[1], None, event[2])
                done.add(item[0])
                yield item
        except WorkersFailed as exc:               # cannot run processes here: parse in this one
            log.warning("parser processes failed (%s); parsing in this process", exc)
            parsers.close()
            for rel in rels:
                if rel not in done:
                    self._check_abort()
                    yield _parse_job(str(self.folder), rel)
        finally:
            parsers.close()
            self._parsers = None

    def _parallel_segments(self, rels: list[str], aside: Path, report: IndexReport,
                           progress: Optional[Progress]):
        """Parse and index in worker processes, each batch of files into its own segment."""
        batches = balanced_batches(self.folder, rels, self.workers)
        results: dict[str, Optional[ParseResult]] = {}
        segments = []
        done = 0
        parsers = self._parsers_for(self.workers, aside)
        try:
            for event in parsers.run(batches, "segment"):
                if event[0] == "segment":
                    segment, items = event[1], event[2]
                    if segment is not None:
                        segments.append(segment)
                else:                              # ("skipped", rel, reason)
                    items = [(event[1], None, event[2])]
                for rel, res, reason in items:
                    done += 1
                    if progress:
                        progress(done, len(rels), rel)
                    self._record(rel, res, reason, report)
                    results[rel] = res
        finally:
            parsers.close()
            self._parsers = None
        return results, segments

    def _record(self, rel: str, res: Optional[ParseResult], reason: str, report: IndexReport) -> None:
        if res is None:
            report.skipped.append((rel, reason))
            log.warning("skipped %s: %s", rel, reason)
            return
        report.files_parsed += 1
        if res.draft:
            report.drafts += 1
        report.warnings.extend(res.warnings)
        for w in res.warnings:
            log.warning("%s", w)

    def _parse_all(self, rels: list[str], report: IndexReport, progress: Optional[Progress],
                   done0: int, total: int, writer=None) -> dict[str, Optional[ParseResult]]:
        """Parse ``rels``; with a ``writer``, each file's documents are written as soon as it is
        parsed and only what the commit needs is kept (see ``slim``)."""
        results: dict[str, Optional[ParseResult]] = {}
        for n, (rel, res, reason) in enumerate(self._jobs(rels)):
            if progress:
                progress(done0 + n + 1, total, rel)
            self._record(rel, res, reason, report)
            if writer is not None and res is not None:
                self._add_docs(writer, rel, res)
                res = slim(res)
            results[rel] = res
        return results

    def _assign_keys(self, papers: list[Paper], taken: set[str], old_rows: dict[str, Row],
                     bases: Optional[dict[str, str]] = None) -> None:
        for p in papers:
            if p.key:
                continue
            base = bases.get(p.id) if bases else None
            if base is None:
                base = base_key(p)
            old = old_rows.get(p.id)
            if old is not None and old.key.startswith(base) and old.key not in taken:
                p.key = old.key          # keep a generated key stable across re-parses
            else:
                p.key = unique_key(base, taken)
            p.key_generated = True
            taken.add(p.key)

    def _add_docs(self, writer, rel: str, res: ParseResult) -> None:
        add_docs(writer, rel, res)

    def _prepare_state(self, rows: list[Row], manifest: dict[str, corpus.FileState],
                       new_papers: list[Paper] = (), full: bool = False,
                       heads: Optional[dict[str, str]] = None,
                       lines: Optional[dict[str, str]] = None) -> tuple:
        """Write the next paper table, manifest and side files aside (``*.tmp``): everything
        that needs disk space is written before anything is replaced, so that a full disk
        leaves the old index whole. ``_publish_state`` then only renames."""
        ids = {r.id for r in rows}
        self._write_refs(ids, new_papers, full, lines)
        self._write_heads(ids, {p.id for p in new_papers}, heads or {}, full)
        # a paper's full text merges into its entry (the heads being written)
        changed = joins.link(rows, lambda want: dict(self._iter_keyed(self.HEADS + ".tmp", set(want))))
        table = PaperTable(rows)
        # the rows of the table in use that neither the update nor the joins changed: copied
        # from its file (a changed file's update encodes its own rows, not the library's)
        table.write(self.index_dir / "table.tmp", str(self.folder), previous=None if full else self.table,
                    changed=changed)
        with open(self.index_dir / "manifest.tmp", "w", encoding="utf-8") as f:
            f.writelines(corpus.manifest_chunks(manifest, folder=str(self.folder)))
        return table, manifest

    def _publish_state(self, prepared: tuple) -> None:
        """Order: side files, the table, then the manifest (see the module docstring)."""
        table, manifest = prepared
        d = self.index_dir
        for name in (self.REFS, self.HEADS):
            (d / (name + ".tmp")).replace(d / name)
        self.table = table
        (d / "table.tmp").replace(d / "table.json")
        table.written(d / "table.json")
        _fault("after-table")
        self.manifest = manifest
        (d / "manifest.tmp").replace(d / "manifest.json")
        self._state_stamp = self._stamp()

    def _rewrite_keyed(self, name: str, ids: set[str], new: set[str], lines, full: bool) -> None:
        """Write ``name.tmp``, the next version of a side file of ``paper id<TAB>json`` lines:
        the lines of papers still in the index and not re-parsed are copied as text (not
        parsed), then ``lines`` are added."""
        tmp = self.index_dir / (name + ".tmp")
        with open(tmp, "wb") as out:
            if not full:
                try:
                    with open(self.index_dir / name, "rb") as f:
                        _copy_ranges(f, out, _kept_ranges(f, ids, new))
                except FileNotFoundError:
                    pass
            out.writelines(line.encode("utf-8") for line in lines)

    def _iter_keyed(self, name: str, wanted: Optional[set[str]] = None):
        """(paper id, value) of a side file's lines, read line by line (those ``wanted`` only).
        A line that is not what the file holds is skipped, and makes the index damaged (the
        next update rebuilds it)."""
        for pid, n, data in self._iter_raw(name, wanted):
            value = self._decode(name, n, data)
            if value is not _BAD:
                yield pid, value

    def _iter_raw(self, name: str, wanted: Optional[set[str]] = None, binary: bool = False):
        """(paper id, line number, the line's JSON text) of a side file, not decoded (the JSON
        as bytes when ``binary``: what json.loads reads as well, and what a digest is made of)."""
        path = self.index_dir / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file")
            f = open(fd, "rb") if binary else open(fd, encoding="utf-8", errors="replace")
        except OSError as exc:
            os.close(fd)
            self._side_damaged(name, str(exc))
            return
        tab = b"\t" if binary else "\t"
        with f:
            for n, line in enumerate(f, 1):
                pid, _, data = line.partition(tab)
                if binary:
                    pid = pid.decode("utf-8", "replace")
                if wanted is not None and pid not in wanted:
                    continue
                yield pid, n, data

    def _decode(self, name: str, n: int, data: str | bytes, value_of=None):
        """A side file's line ``n`` (its JSON text) as the value the file holds (as ``value_of``
        makes it of the decoded JSON, when given), or _BAD (and the index is marked damaged)."""
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            value = _BAD
        if value is not _BAD:
            value = (value_of or _SIDE_VALUES.get(name.removesuffix(".tmp"), lambda v: v))(value)
        if value is _BAD:
            self._side_damaged(name, f"line {n}")
        return value

    def _side_damaged(self, name: str, where: str) -> None:
        if not self._side_damage:
            self._side_damage = f"{name} damaged ({where})"
            self._found_damage(f"{name}, {where}")

    def _write_refs(self, ids: set[str], new_papers: list[Paper], full: bool,
                    lines: Optional[dict[str, str]] = None) -> None:
        """The next references.jsonl, compact: what the citation graph needs (the full entries
        are in the paper docs). ``lines``: papers' lines made by the workers (_for_parent)."""
        lines = lines or {}
        self._rewrite_keyed(self.REFS, ids, {p.id for p in new_papers}, (
            p.id + "\t" + (lines.get(p.id) or reference_line(p.references)) + "\n"
            for p in new_papers if p.references or p.id in lines), full)

    def _write_heads(self, ids: set[str], new: set[str], heads: dict[str, str], full: bool) -> None:
        """The next heads.jsonl: the top of each full text's first page, for joins.py."""
        self._rewrite_keyed(self.HEADS, ids, new, (
            pid + "\t" + json.dumps(head, ensure_ascii=False) + "\n"
            for pid, head in heads.items() if pid in new and head), full)

    def _incremental(self, report: IndexReport, only: Optional[list[str]],
                     progress: Optional[Progress]) -> None:
        changes, skipped = corpus.diff(self.folder, self.manifest, only)
        report.skipped.extend(skipped)
        report.files_seen = changes.unchanged + len(changes.added) + len(changes.changed) + len(changes.touched)
        if changes.empty:
            if self.is_ready():     # a search side file found damaged (and removed) is written again
                with self.using() as searcher:
                    self._side_files(searcher.reader())
            return
        to_parse = changes.added + changes.changed
        total = len(to_parse)
        gone = set(changes.removed) | set(changes.changed)
        self._check_abort()
        # documents are written as each file is parsed, and only what the table needs is kept
        # (see slim): holding every new file's passages until the end grew with the batch
        # limitmb: the postings pooled in this (the server's) process before a run is spilled;
        # Whoosh's default, 128, was heap the server held on to after a big update
        writer = _new_writer(self.ix(), timeout=30.0, limitmb=INCREMENTAL_POOL_MB)
        try:
            for rel in sorted(gone | set(to_parse)):
                writer.delete_by_term("path", rel)
            results = self._parse_all(to_parse, report, progress, 0, total, writer=writer)
            manifest = dict(self.manifest)
            manifest.update(changes.touched)
            gone_ids = {pid for rel in gone for pid in manifest.get(rel, corpus.FileState(0, 0)).paper_ids}
            # also by source path: after a crash the table can be newer than the manifest
            base = str(self.folder)
            redone = {os.path.join(base, rel) for rel in set(gone) | set(to_parse)}
            known = {os.path.join(base, rel) for rel in manifest}
            gone_ids |= {r.id for r in self.table.rows if r.source in redone or r.source not in known}
            old_rows = {r.id: r for r in self.table.rows}
            rows = [r for r in self.table.rows if r.id not in gone_ids]
            taken = {r.key for r in rows}
            taken |= {p.key for res in results.values() if res for p in res.papers if p.key}
            for rel in to_parse:       # generated keys: the index has their base (see add_docs)
                res = results.get(rel)
                if res is not None:
                    self._assign_keys(res.papers, taken, old_rows)
            for rel in changes.removed:
                manifest.pop(rel, None)
                report.files_removed += 1
            for rel in to_parse:
                res = results.get(rel)
                # the stat and hash taken before parsing: a file that changes while it is parsed
                # then differs from the manifest and is parsed again next time
                mtime, size = changes.stats.get(rel, (0, 0))
                if not (self.folder / rel).exists():
                    manifest.pop(rel, None)
                    continue
                if res is None:
                    reason = next((r for p, r in report.skipped if p == rel), "skipped")
                    manifest[rel] = corpus.FileState(mtime, size, changes.hashes.get(rel, ""), [], reason)
                    continue
                rows.extend(Row.from_paper(p) for p in res.papers)
                report.papers_indexed += len(res.papers)
                manifest[rel] = corpus.FileState(mtime, size, changes.hashes.get(rel, ""), [p.id for p in res.papers])
            state = self._prepare_state(rows, manifest, [p for res in results.values() if res for p in res.papers],
                                        heads=_heads(results))
            self._check_abort()
            _fault("incremental-before-commit")
            # a few changed files are committed without merging segments (searchable at once;
            # emptied ones are dropped); Whoosh's merge of the small segments, when due, is a
            # commit of its own after it
            quick = only is not None and total <= QUICK_COMMIT_FILES
            writer.commit(mergetype=drop_emptied) if quick else writer.commit()
            _fault("incremental-after-commit")
        except BaseException:
            writer.abandon()
            raise
        self._publish_state(state)
        # the searcher the next search would open anyway: no extra set of segment readers
        with self.using() as searcher:
            self._side_files(searcher.reader())
        if quick:
            self._merge_small_segments()
        if progress:
            progress(total, total, "")

    def _merge_small_segments(self) -> None:
        """Whoosh's merge of small segments (MERGE_SMALL: every ~10 changed files at 10k papers,
        1-2 CPU-s), after the changed files' commit rather than in it: the change is searchable
        meanwhile. Nothing is written when no merge is due. A merge that fails is tried again
        by the next commit."""
        self._check_abort()
        try:
            writer = _new_writer(self.ix(), timeout=30.0, limitmb=INCREMENTAL_POOL_MB)
        except Exception as exc:     # the index is locked or unreadable: the next commit merges
            log.info("merging small segments of %s later: %s", self.index_dir, exc)
            return
        try:
            if not small_merge_due(writer.segments):
                writer.abandon()
                return
            writer.commit()
        except Aborted:
            writer.abandon()
            raise
        except Exception:
            writer.abandon()
            log.exception("merging small segments of %s failed; the next commit merges them", self.index_dir)
            return
        with self.using() as searcher:
            self._side_files(searcher.reader())

    def _rebuild(self, report: IndexReport, reason: str, progress: Optional[Progress]) -> None:
        """Index everything into a directory aside, then swap it in."""
        report.rebuilt = reason
        log.info("rebuilding index of %s: %s", self.folder, reason)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        found, skipped = corpus.walk(self.folder)
        report.skipped.extend(skipped)
        report.files_seen = len(found)
        rels = sorted(found)
        digests = {}          # hashed before parsing (see _incremental)
        for rel in rels:
            try:
                digests[rel] = corpus.file_sha1(self.folder / rel)
            except OSError:
                digests[rel] = ""
        (self.index_dir / "references.json").unlink(missing_ok=True)    # before schema 12
        for stale in list(self.index_dir.glob("whoosh.new-*")) + list(self.index_dir.glob("whoosh.old-*")):
            shutil.rmtree(stale, ignore_errors=True)     # left by a process killed mid-rebuild
        aside = self.index_dir / f"whoosh.new-{os.getpid()}"
        writer = None
        try:
            aside.mkdir(parents=True)
            ix = _create_index(aside)
            writer = _new_writer(ix, limitmb=128)
            results = None
            if self.workers > 1 and len(rels) >= POOL_MIN_FILES:
                try:
                    results, segments = self._parallel_segments(rels, aside, report, progress)
                except WorkersFailed as exc:   # no worker processes here: all in this one
                    log.warning("parallel indexing failed (%s); indexing again in one process", exc)
                    writer.abandon()
                    writer = None
                    shutil.rmtree(aside, ignore_errors=True)
                    aside.mkdir(parents=True)
                    ix = _create_index(aside)
                    writer = _new_writer(ix, limitmb=128)
                    report.skipped[:] = list(skipped)
                    report.files_parsed = report.drafts = 0
                    report.warnings.clear()
                    results = None
            if results is None:           # one process: documents are written while parsing
                segments = []
                results = self._parse_all(rels, report, progress, 0, len(rels), writer=writer)
            self._check_abort()
            rows: list[Row] = []
            manifest: dict[str, corpus.FileState] = {}
            old_rows = {r.id: r for r in self.table.rows}
            taken = {p.key for res in results.values() if res for p in res.papers if p.key}
            for rel in rels:
                res = results.get(rel)
                st = found[rel]
                digest = digests[rel]
                if res is None:
                    reason_ = next((r for p, r in report.skipped if p == rel), "skipped")
                    manifest[rel] = corpus.FileState(st.st_mtime_ns, st.st_size, digest, [], reason_)
                    continue
                self._assign_keys(res.papers, taken, old_rows, res.base_keys)
                rows.extend(Row.from_paper(p) for p in res.papers)
                report.papers_indexed += len(res.papers)
                manifest[rel] = corpus.FileState(st.st_mtime_ns, st.st_size, digest, [p.id for p in res.papers])
            if segments:   # the workers wrote the documents (and side files): publish them
                writer.publish(segments)
                live = {segment.segment_id() for segment in segments}
            else:
                writer.commit()
                with ix.reader() as reader:
                    live = self._side_files(reader, clean=False)
            state = self._prepare_state(rows, manifest, [p for res in results.values() if res for p in res.papers],
                                        full=True, heads=_heads(results),
                                        **({"lines": lines} if (lines := _reference_lines(results)) else {}))
            meta = {"schema": SCHEMA_VERSION, "folder": str(self.folder), "built": time.time()}
            (self.index_dir / "meta.tmp").write_text(json.dumps(meta), encoding="utf-8")
            self._check_abort()
        except BaseException:
            if writer is not None:
                writer.abandon()
            shutil.rmtree(aside, ignore_errors=True)
            raise
        # swap: old index aside, new one in, old one removed
        self._close()
        _fault("rebuild-before-swap")
        old = self.index_dir / f"whoosh.old-{os.getpid()}"
        if self.whoosh_dir.exists():
            self.whoosh_dir.rename(old)
        _fault("rebuild-mid-swap")
        aside.rename(self.whoosh_dir)
        shutil.rmtree(old, ignore_errors=True)
        self._remove_stale_side_files(live)
        self._publish_state(state)
        self._side_damage = ""          # written afresh, not copied
        (self.index_dir / "meta.tmp").replace(self.index_dir / "meta.json")
        if progress:
            progress(len(rels), len(rels), "")

    def _side_files(self, reader, clean: bool = True) -> set[str]:
        """Bounded-search side files (fast.py) for the large segments of ``reader`` that lack
        one (after a merge); with ``clean``, those of segments ``reader`` no longer has are
        removed (only an update calls this). Returns the ids of ``reader``'s segments."""
        from paperlens.core.index.whoosh import fast

        live = fast.segment_ids(reader)
        if clean:
            self._remove_stale_side_files(live)
        try:
            fast.ensure_side_files(self.side_dir, reader)
        except OSError as exc:   # a full disk: search still works without them, only slower
            log.warning("writing search side files failed in %s: %s", self.side_dir, exc)
        except Exception:      # search still works without them, only slower
            log.exception("writing search side files failed in %s", self.side_dir)
        return live

    def _remove_stale_side_files(self, live: set[str]) -> None:
        from paperlens.core.index.whoosh import fast

        fast.remove_stale_side_files(self.side_dir, live)

    def _close(self) -> None:
        """Forget the searcher and the search cache: the next read opens what is on disk. A
        searcher a reader holds (see :meth:`using`) is closed when that reader is done."""
        with self._search_lock:
            if self._searcher is not None:
                self._retire(self._searcher)
            self._searcher = None
            self._ix = None
            cache, self._cache = self._cache, None
        if cache is not None and not self._leases:
            cache.close()

    def close(self) -> None:
        """Close the searcher (its readers unmap the segments) and drop the search cache (its
        side files are closed): nothing of the index directory stays open once the reads
        under way are done."""
        self._close()

    # -- reading ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Open the searcher the first reads use (a hover card's paper record)."""
        if self.is_ready():
            self.searcher()

    def search(self, query: str, limit: int, per_paper: int, highlight: int,
               notes: set[str]) -> list[tuple[int, SearchHit]]:
        from paperlens.core.index.whoosh import queries

        with self.reading() as reading:
            return queries.search(reading, query, limit, per_paper, highlight, notes)

    def warm(self) -> None:
        from paperlens.core.index.whoosh import queries

        # the next changed file's update copies the table's unchanged rows (PaperTable.write)
        self.table.find_row_ends()
        with self.reading() as reading:
            queries.warm(reading)

    def passages(self, paper_id: str) -> list[Passage]:
        """A paper's passages in document order (for summaries)."""
        if not self.is_ready():
            return []
        try:
            with self.using() as searcher:
                # the paper's own term only: adding kind=passage made Whoosh walk every
                # passage's posting (0.1-0.6 s a card at 10k papers)
                docs = sorted(searcher.document_numbers(paper_id=paper_id))
                out = []
                for n in docs:
                    f = searcher.stored_fields(n)
                    if f.get("kind") != "passage":
                        continue
                    out.append(Passage(paper_id=paper_id, text=f.get("text") or "",
                                       path=str(self.folder / f["path"]),
                                       line_start=f.get("line_start") or 0, line_end=f.get("line_end") or 0,
                                       section=f.get("section") or "", page=f.get("page")))
            return out
        except IndexUnavailable:
            return []
        except Exception:
            log.exception("reading passages of %s", paper_id)
            return []

    def content_hash(self, path: str) -> str:
        """The manifest's hash of one of this folder's files ("" when unknown)."""
        try:
            rel = Path(path).resolve().relative_to(self.folder).as_posix()
        except ValueError:
            return ""
        st = self.manifest.get(rel)
        return st.sha1 if st else ""

    def paper(self, paper_id: str) -> Optional[Paper]:
        """The full paper record (with abstract) from the index."""
        if not self.is_ready():
            return None
        try:
            with self.using() as searcher:
                fields = searcher.document(doc=f"p:{paper_id}")
        except IndexUnavailable:
            return None
        except Exception:
            log.exception("reading paper %s", paper_id)
            return None
        if not fields or not fields.get("data"):
            return None
        paper = Paper.from_dict(fields["data"])
        row = self.table.get(paper_id)
        if row is not None:            # the table has the final key (the index may not)
            paper.key = row.key
        return paper
