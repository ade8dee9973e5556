"""Fast ranked search for plain queries: bounded work per query word, whatever the library size.

Whoosh scores a query by walking every posting of every query word in pure Python (about
1-5 µs a posting). A common word is in tens of thousands of passages at 10k papers, so a query
of common words took seconds. Here each query word costs at most ``TOPK`` postings per segment:

- a word in at most ``TOPK`` passages of a segment: its postings are read (short);
- a more common word: its ``TOPK`` best passages (by BM25 term weight) are read from a side file
  written when the segment is written (``<segment id>.topk`` in the store's ``topk`` folder,
  next to Whoosh's: the store removes it with its segment, see ``remove_stale_side_files``).

Passages accumulate BM25F scores (field boosts, Whoosh's idf and length normalisation) and a
coordination factor for how many of the query words they contain. A passage outside a word's
best ``TOPK`` of one segment misses that word's (small) contribution: the ranking is that of
BM25F on the best-matching passages, which is what a reader wants from a query of common words.
Queries with syntax (phrases, fields, boolean operators, wildcards) go to Whoosh (queries.py).

What is read once per segment or per paper table (side files, length columns, which paper each
document belongs to, the papers' title and author words) is kept in the store's ``SearchCache``
until the store closes.
"""
from __future__ import annotations

import bisect
import heapq
import json
import logging
import math
import os
import re
import struct
import threading
import weakref
from array import array
from pathlib import Path
from typing import Optional

from paperlens.core.index.whoosh import require

require()

from whoosh.filedb.structfile import BufferFile  # noqa: E402
from whoosh.matching.wrappers import FilterMatcher  # noqa: E402
from whoosh.reading import SegmentReader, TermNotFound  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402

from paperlens.core.index.whoosh.writing import Codec, LeafMatcher, PerDocReader  # noqa: E402
from paperlens.core.lru import LRU  # noqa: E402

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75                 # Whoosh's BM25F defaults
# postings kept per (field, word) and segment (the tests set a small one through the environment,
# which the index worker processes inherit)
TOPK = int(os.environ.get("PAPERLENS_SEARCH_TOPK", "200"))
MIN_SEGMENT_DOCS = 4 * TOPK       # smaller segments are read directly at query time
SUFFIX = ".topk"
FORMAT = 2          # 2: each entry carries the word's document frequency in the segment
PASSAGE_FIELDS = ("abstract", "body")          # scored from the postings (side files: these only)
# scored once per paper from the paper table (PaperFields): field -> the schema field whose
# analyzer it uses
PAPER_FIELDS = {"title": "title", "authors": "authors", "first": "authors", "key": "meta", "year": "meta",
                "venue": "meta"}
# length normalisation of paper-level fields: none for names, keys and years (the fifth author
# of eight is as much an author as the second of two)
PAPER_B = {"authors": 0.0, "first": 0.0, "key": 0.0, "year": 0.0}
FIELDS = ("title", "abstract", "body", "authors", "first", "key", "year", "venue")   # what a query word searches
_MAGIC = b"PLTK"


# -- reading a segment ------------------------------------------------------------------------------

def _leaf_matcher(m):
    while hasattr(m, "child"):           # unwrap Whoosh's deletion filter: deletions are ours to check
        m = m.child
    return m


def raw_postings(leaf, field: str, text: str) -> tuple[list, list]:
    """All (docnum, term frequency) of a word in one segment, block by block."""
    try:
        m = _leaf_matcher(leaf.postings(field, text))
    except Exception:            # TermNotFound
        return [], []
    return _all_postings(m)


def _all_postings(m) -> tuple[list, list]:
    if isinstance(m, LeafMatcher):     # a segment written by paperlens's codec (writing.py)
        return m.all_postings()
    ids: list = []                     # inlined postings, another codec: the generic way
    weights: list = []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def term_postings(leaf, field: str, text: str) -> tuple[int, list, list]:
    """``(leaf.doc_frequency(field, text), *raw_postings(leaf, field, text))`` (no postings
    when the frequency is 0), with one look-up of the word (those made three) and its
    postings read from the segment file at once: Whoosh's matcher reads a block's header a
    few bytes at a time (``pickle.load`` on the file, ~30 reads: ~40 us a word, most of what
    a title query's first search read). The same matcher decodes them, in memory."""
    terms = getattr(leaf, "_terms", None)
    codec = getattr(terms, "_codec", None)
    if not isinstance(codec, Codec) or leaf.is_closed or field not in leaf.schema:
        df = leaf.doc_frequency(field, text)
        return (df, *raw_postings(leaf, field, text)) if df else (0, [], [])
    fobj = leaf.schema[field]
    btext = fobj.to_bytes(text)
    try:
        info = terms.term_info(field, btext)
    except (TermNotFound, KeyError):
        return 0, [], []
    df = info.doc_frequency()
    if not df:
        return 0, [], []
    if info.is_inlined():             # (the postings are in the term's entry: nothing to read)
        m = codec.postings_reader(terms._postfile, info, fobj.format, term=(field, btext))
    else:
        offset, length = info.extent()
        if isinstance(length, tuple):       # (as Whoosh's W3TermInfo.from_bytes reads it)
            length = length[0]
        data = terms._postfile.get(offset, length)
        m = LeafMatcher(BufferFile(data), 0, length, fobj.format, term=(field, btext))
    deleted = leaf.deleted_docs_set
    if deleted:               # as leaf.postings gives them (the filter skips deleted postings first)
        m = _leaf_matcher(FilterMatcher(m, deleted, exclude=True))
    return (df, *_all_postings(m))


def field_lengths(leaf, field: str) -> Optional[bytes]:
    """The segment's length column of a field: one byte a document (Whoosh's length code)."""
    try:
        perdoc = leaf.codec().per_document_reader(leaf.storage(), leaf.segment())
    except Exception:
        return None
    try:
        if isinstance(perdoc, PerDocReader):
            codes = perdoc.length_codes(field)
            if codes is None:
                return None
            return codes + bytes(max(0, leaf.doc_count_all() - len(codes)))
        column = PerDocReader.lengths_column(field)         # another codec: value by value
        if not perdoc.has_column(column):
            return None
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN

        return bytes(bytearray(min(255, int(v)) for v in perdoc.column_reader(column, LENGTHS_COLUMN)))
    except Exception:
        return None
    finally:
        perdoc.close()


def _length_table() -> list[float]:
    return _LENGTH


_LENGTH = [float(byte_to_length(i)) for i in range(256)]


def term_parts(ids, weights, lengths: Optional[bytes], avg: float) -> list[float]:
    """BM25's term-frequency part of each posting (without idf and boost)."""
    table = _length_table()
    k1p, a, bavg = K1 + 1, K1 * (1 - B), (K1 * B / avg if avg > 0 else 0.0)
    if lengths is None:
        return [w * k1p / (w + K1) for w in weights]
    return [w * k1p / (w + a + bavg * table[lengths[d]]) for d, w in zip(ids, weights)]


def _best(ids, parts):
    """The ``TOPK`` postings with the largest BM25 parts, in docnum order."""
    best = sorted(heapq.nlargest(TOPK, range(len(ids)), key=parts.__getitem__))
    return [ids[i] for i in best], [parts[i] for i in best]


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _idf(n_docs: int, df: int) -> float:
    """Whoosh's idf."""
    return math.log(n_docs / (df + 1)) + 1.0


def _leaves(reader) -> list:
    """(segment reader, docnum offset) of each segment of ``reader``. An index without any
    segment (an empty library) has none: its reader is Whoosh's EmptyReader, no segment's."""
    leaves = [(reader, 0)] if reader.is_atomic() else reader.leaf_readers()
    return [(leaf, offset) for leaf, offset in leaves if leaf.segment() is not None]


def _avg(leaf, field: str) -> float:
    n = leaf.doc_count_all() or 1
    return (leaf.field_length(field) / n) or 1.0


# -- the side file ------------------------------------------------------------------------------------

def paper_ordinals(leaf) -> tuple[list[str], array, array]:
    """Which paper each document of a segment belongs to (from the paper_id postings): the
    papers' ids, each document's paper (an index into them, -1 for none) and each paper's
    number of documents."""
    names: list[str] = []
    of = array("i", [-1]) * leaf.doc_count_all()
    docs = array("i")
    for text, _ in leaf.iter_field("paper_id"):
        ids, _ = raw_postings(leaf, "paper_id", text)
        names.append(_text(text))
        n = len(names) - 1
        for d in ids:
            of[d] = n
        docs.append(len(ids))
    return names, of, docs


def side_path(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


def write_side_file(folder: Path, leaf) -> Optional[Path]:
    """Write the ``TOPK`` best postings of each common word of a segment into ``folder``
    (atomic). Only the passage fields: title and author words are scored from the paper table."""
    data = SideFileData()
    for field in PASSAGE_FIELDS:
        if field not in leaf.schema:
            continue
        lengths, avg = field_lengths(leaf, field), _avg(leaf, field)
        for text, info in leaf.iter_field(field):
            if info.doc_frequency() <= TOPK:
                continue
            ids, weights = raw_postings(leaf, field, text)
            data.add(field, text, ids, term_parts(ids, weights, lengths, avg))
    # which paper each document belongs to: read from 10k papers' paper_id postings, it was
    # ~3 CPU-s of a server's start at 10k papers (once per segment, here while indexing)
    data.papers = paper_ordinals(leaf)
    return data.write(folder, leaf.segment().segment_id())


class SideFileData:
    """What a segment's side file holds: each common word's best postings per passage field,
    and which paper each document belongs to. ``write_side_file`` reads it back from a
    segment; a writer gathers it from the terms it writes instead (``Writer.side_data``:
    ``start`` with the segment's lengths, then ``watch`` the terms going by), the same file
    without reading the segment's postings again."""

    def __init__(self) -> None:
        self.lists: dict[str, list] = {field: [] for field in PASSAGE_FIELDS}
        self.papers: Optional[tuple[list[str], array, array]] = None
        self.complete = False          # every term watched (else the segment is read instead)
        self._norms: dict[str, tuple] = {}

    def add(self, field: str, text, ids, parts) -> None:
        best_ids, best_parts = _best(ids, parts)
        self.lists[field].append((_text(text), best_ids, best_parts, len(ids)))

    def start(self, perdoc) -> None:
        """The segment's documents are written: its length columns can be read."""
        doccount = perdoc.doc_count_all()
        for field in PASSAGE_FIELDS:
            codes = perdoc.length_codes(field)
            lengths = None if codes is None else codes + bytes(max(0, doccount - len(codes)))
            self._norms[field] = (lengths, (perdoc.field_length(field) / (doccount or 1)) or 1.0)
        self._doccount = doccount

    def watch(self, terms):
        """``terms`` (fieldname, btext, docnums, weights, values) as they are written, passed on."""
        norms = self._norms
        names: list[str] = []
        of = array("i", [-1]) * self._doccount
        docs = array("i")
        for term in terms:
            field = term[0]
            if field in norms:
                ids = term[2]
                if len(ids) > TOPK:
                    if -1 in ids:         # spelling postings: not what the segment keeps
                        self._norms = {}
                        norms = {}
                        yield term
                        continue
                    lengths, avg = norms[field]
                    self.add(field, term[1], ids, term_parts(ids, array("f", term[3]), lengths, avg))
            elif field == "paper_id":
                names.append(_text(term[1]))
                n = len(names) - 1
                for d in term[2]:
                    of[d] = n
                docs.append(len(term[2]))
            yield term
        self.papers = (names, of, docs)
        self.complete = bool(norms)

    def write(self, folder: Path, segment_id: str) -> Path:
        entries: dict[str, dict[str, list[int]]] = {}
        blob = bytearray()
        for field in PASSAGE_FIELDS:
            for text, best_ids, best_parts, df in self.lists[field]:
                entries.setdefault(field, {})[text] = [len(blob), len(best_ids), df]
                blob += array("I", best_ids).tobytes()
                blob += array("f", best_parts).tobytes()
        names, of, docs = self.papers
        papers = {"names": names, "of": [len(blob), len(of)], "docs": [len(blob) + 4 * len(of), len(docs)]}
        blob += of.tobytes()
        blob += docs.tobytes()
        header = json.dumps({"format": FORMAT, "topk": TOPK, "fields": entries, "papers": papers},
                            ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = side_path(folder, segment_id)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(_MAGIC + struct.pack("<Q", len(header)))
            f.write(header)
            f.write(blob)
        os.replace(tmp, path)
        return path


def ensure_side_files(folder: Path, reader) -> int:
    """Write the side file of each large segment of ``reader`` that lacks one (after merges);
    returns how many."""
    written = 0
    for leaf, _ in _leaves(reader):
        if leaf.doc_count_all() >= MIN_SEGMENT_DOCS and not side_path(folder, leaf.segment().segment_id()).exists():
            write_side_file(folder, leaf)
            written += 1
    return written


def segment_ids(reader) -> set[str]:
    return {leaf.segment().segment_id() for leaf, _ in _leaves(reader)}


def remove_stale_side_files(folder: Path, live: set[str]) -> None:
    """Remove from ``folder`` everything but the side files of the ``live`` segments: those of
    segments merged away or replaced, and what a process killed while writing one left. Only
    an update may call this (it holds the index's update lock: no other process writes here)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.endswith(SUFFIX) and name[:-len(SUFFIX)] in live:
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def write_side_file_of_segment(storage, schema, segment, folder: Path,
                               data: Optional[SideFileData] = None) -> None:
    """A worker's part: the side file of the segment it just wrote (not committed yet), from
    ``data`` when its writer gathered it (``Writer.side_data``), else read from the segment."""
    if segment.doc_count_all() < MIN_SEGMENT_DOCS:
        return
    if data is not None and data.complete:
        data.write(folder, segment.segment_id())
        return
    leaf = SegmentReader(storage, schema, segment)
    try:
        write_side_file(folder, leaf)
    finally:
        leaf.close()


class _Side:
    """A segment's side file. Its header is read once; each list a query reads is read from the
    file then (``os.pread``: a file truncated under a running server is a read error, where a
    memory map of it stopped the process with SIGBUS). A file that is not what
    ``write_side_file`` writes raises ValueError."""

    def __init__(self, path: Path):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            import stat

            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError("not a regular file")
            head = os.pread(fd, 12, 0)
            if len(head) != 12 or head[:4] != _MAGIC:
                raise ValueError("not a paperlens top-k file")
            (hlen,) = struct.unpack("<Q", head[4:12])
            if hlen > st.st_size - 12:
                raise ValueError("header longer than the file")
            raw = os.pread(fd, hlen, 12)
            try:
                header = json.loads(raw.decode("utf-8"))
            except RecursionError:
                raise ValueError("header nested too deeply") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ValueError("old top-k file format")
            entries = header.get("fields")
            if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
                raise ValueError("no word lists")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._entries = entries
        self._papers = header.get("papers")
        self._base = 12 + hlen
        self._size = st.st_size - self._base
        self._st_size = st.st_size

    def intact(self) -> bool:
        """Whether the file still has the size it had when opened (a file truncated or
        rewritten under a running server is damaged: the lists read from it before stay good,
        they were checked when read)."""
        try:
            return os.fstat(self._fd).st_size == self._st_size
        except OSError:
            return False

    def paper_ordinals(self, doc_count: int) -> Optional[tuple[list[str], array, array]]:
        """:func:`paper_ordinals` as written with the file (None in a file written before it
        was; ValueError when damaged)."""
        got = self._papers
        if got is None:
            return None
        try:
            names, (of_at, of_n), (docs_at, docs_n) = got["names"], got["of"], got["docs"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("damaged paper list") from None
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)
                and all(type(v) is int and v >= 0 for v in (of_at, of_n, docs_at, docs_n))
                and of_n == doc_count and docs_n == len(names)
                and of_at + 4 * of_n <= self._size and docs_at + 4 * docs_n <= self._size):
            raise ValueError("damaged paper list")
        of, docs = array("i"), array("i")
        of.frombytes(os.pread(self._fd, 4 * of_n, self._base + of_at))
        docs.frombytes(os.pread(self._fd, 4 * docs_n, self._base + docs_at))
        if len(of) != of_n or len(docs) != docs_n or (of_n and not -1 <= min(of) <= max(of) < len(names)):
            raise ValueError("damaged paper list")
        return names, of, docs

    def entry(self, field: str, text: str):
        """(offset, length, document frequency) of a common word's list, or None."""
        return self._entries.get(field, {}).get(text)

    def read(self, e):
        """The list's docnums and BM25 parts (ValueError when the entry or the file is damaged)."""
        if not (isinstance(e, list) and len(e) == 3 and all(type(v) is int and v >= 0 for v in e)) \
                or e[0] + 8 * e[1] > self._size:
            raise ValueError("damaged entry")
        off, n = e[0], e[1]
        data = os.pread(self._fd, 8 * n, self._base + off)
        if len(data) != 8 * n:
            raise ValueError("file shorter than its header says")
        ids, parts = array("I"), array("f")
        ids.frombytes(data[:4 * n])
        parts.frombytes(data[4 * n:])
        return ids, parts

    def close(self):
        """Closed when the last reference goes (``__del__``): a thread reading a list holds one,
        so a descriptor is never closed under a read (and never reused for another file then)."""

    def __del__(self):
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


class _Segment:
    """What search reads once from a segment: its side file, length columns, which paper each
    document belongs to, recently read short lists."""

    def __init__(self, folder: Path, leaf, short: Optional[LRU] = None):
        self.id = leaf.segment().segment_id()
        # its documents deleted when its lists were read (a paper changed or gone deletes its
        # documents where they are: the segment keeps its id); see SearchCache.segments
        self.deleted = leaf.segment().deleted_count()
        self._lock = threading.Lock()
        self.side: Optional[_Side] = None
        path = self.path = side_path(folder, self.id)
        if path.exists():
            try:
                self.side = _Side(path)
            except Exception as exc:     # damaged: written again by the next update
                log.warning("ignoring the search side file %s: %s", path.name, exc)
                try:
                    path.unlink()
                except OSError:
                    pass
        self._lengths: dict[str, tuple[Optional[bytes], float]] = {}
        self._short = short if short is not None else short_lists()
        self._pids: Optional[tuple[list[str], array]] = None
        self._docs = array("i")
        self._records: Optional[tuple[dict[str, int], set[str]]] = None

    def _drop_side(self, exc: Exception) -> None:
        """A side file found damaged while reading it: searched without it from now on, and
        removed so that the next update writes it again (ensure_side_files)."""
        side, self.side = self.side, None
        if side is None:
            return
        forget_segment(self._short, self.id)     # its lists read before: read again (without it)
        log.warning("the search side file %s is damaged (%s); searching without it, it is written "
                    "again by the next update", self.path.name, exc)
        try:
            self.path.unlink()
        except OSError:
            pass

    def lengths(self, leaf, field: str):
        got = self._lengths.get(field)
        if got is None:
            got = self._lengths[field] = (field_lengths(leaf, field), _avg(leaf, field))
        return got

    def check_side(self) -> None:
        """Before a query: a side file whose size changed is damaged (``_drop_side``)."""
        side = self.side
        if side is not None and not side.intact():
            self._drop_side(ValueError("the file changed under the server"))

    def postings(self, leaf, field: str, text: str):
        """(document frequency, docnums, BM25 parts) of a word in this segment: all its postings,
        or its best ``TOPK`` when it is common (from the side file: a damaged one is found
        when read, or by its size before a query, ``check_side``). The lists read lately are
        kept (``short_lists``: reading and checking a side file's list was ~7 µs, 36 of them
        for a title of 9 words)."""
        key = (self.id, field, text)
        got = self._short.get(key)
        if got is not None:
            return got
        side = self.side.entry(field, text) if self.side is not None else None
        if side is not None:
            try:
                ids, parts = self.side.read(side)
                if ids and max(ids) >= leaf.doc_count_all():
                    raise ValueError("a document number beyond the segment")
                got = (side[2], ids, parts)
                self._short.put(key, got)
                return got
            except (OSError, ValueError) as exc:     # read the postings instead
                self._drop_side(exc)
        df, ids, weights = term_postings(leaf, field, text)
        if not df:
            got = (0, (), ())
        else:
            lengths, avg = self.lengths(leaf, field)
            parts = term_parts(ids, weights, lengths, avg)
            if len(ids) > TOPK:            # a large segment without its side file (yet)
                ids, parts = _best(ids, parts)
            got = (df, array("I", ids), array("f", parts))
        self._short.put(key, got)
        return got

    def paper_ordinals(self, leaf) -> tuple[list[str], array]:
        """Which paper each document of the segment belongs to (from the paper_id postings):
        ranking needs the paper of a few hundred candidates, which stored fields give slowly."""
        if self._pids is None:
            got = None
            side = self.side
            if side is not None:
                try:
                    got = side.paper_ordinals(leaf.doc_count_all())
                except (OSError, ValueError) as exc:
                    self._drop_side(exc)
            if got is None:
                got = paper_ordinals(leaf)
            names, of, self._docs = got
            self._pids = (names, of)
        return self._pids

    def records(self, leaf) -> tuple[dict[str, int], set[str]]:
        """Each paper's record document in this segment, and the papers that have passages (a
        paper's documents are written together, so they are all in one segment)."""
        if self._records is None:
            names, of = self.paper_ordinals(leaf)
            other = array("i", [0]) * len(names)      # a paper's documents that are no passage
            rec: dict[str, int] = {}
            for kind in ("record", "paper"):
                ids, _ = raw_postings(leaf, "kind", kind)
                for d in ids:
                    n = of[d]
                    if n >= 0:
                        other[n] += 1
                        if kind == "record":
                            rec[names[n]] = d
            texts = {names[n] for n, k in enumerate(self._docs) if k > other[n]}
            self._records = (rec, texts)
        return self._records


# recently read lists kept (arrays, ~1.6 KB at most each: a short list, or a common word's best
# TOPK from a side file), all segments
SHORT_LISTS = 4096
WORD_LISTS = 1024      # words whose lists in every segment are kept (SearchCache.passage_scores)
# postings of the words searched again lately whose global docnum and weighted part (BM25 part
# x idf x boost) a SearchCache keeps as Python ints and floats (passage_scores: its loop then
# makes no objects and no products for them: ~20% of it, 0.1-0.15 of a title query's ~3 CPU-ms),
# ~70 bytes a posting: 4.5 MB at most (the bench's 40 queries have 49k postings in 166 lists:
# the RSS of a process that searched them twice is 3.1 MB more). 0: none kept
BOXED_POSTINGS = 1 << 16
STORED = 512           # stored documents kept (SearchCache.stored_of: a passage's text, ~1-2 KB)
# records made from the paper table kept (SearchCache.made_records: ~0.7 KB each, 1.5 MB at
# most; a title query's hits are ~45 records, ~5 us each to make; the bench's 40 queries make
# ~900)
RECORDS = 2048
RECORD_TEXT_MOST = 2048     # a record with a longer text (a text file's first line is its title) is not kept


def short_lists(bound: Optional[int] = None) -> LRU:
    """What was read lately of every segment of a store, keyed by (segment id, ...): one bound
    however many segments the index has (each edit adds a small one); a segment's entries
    are let go with it (``forget_segment``). The short posting lists (bound SHORT_LISTS) and
    the stored documents (STORED, see SearchCache.stored_of)."""
    return LRU(SHORT_LISTS if bound is None else bound)


def forget_segment(kept: LRU, segment_id: str) -> None:
    """Let go of what ``kept`` holds of a segment merged away or replaced."""
    kept.forget(lambda key: key[0] == segment_id)


# -- querying -----------------------------------------------------------------------------------------

def _analyzer(schema, field: str):
    name = PAPER_FIELDS.get(field, field)
    if name not in schema:
        name = "title" if field in PAPER_FIELDS and "title" in schema else name
    return schema[name].analyzer if name in schema else None


MAX_WORDS = 64      # query words searched (a Chinese run is a word per term): the rest is cut


def query_words(schema, words: list[str]) -> list[tuple[tuple[str, str], ...]]:
    """Each query word as the (field, term) pairs it searches, at most MAX_WORDS of them; stop
    words drop out."""
    out: list[tuple[tuple[str, str], ...]] = []
    for w in words:
        if len(out) >= MAX_WORDS:
            break
        out.extend(_analysed(schema, w)[0])
    return out[:MAX_WORDS]


# a word's groups of (field, term) pairs and its number of body terms, per schema: a title of 10
# words ran ~30 analyzers (~0.15 ms); the words come back as a query is typed, and from query
# to query ("learning", "model"). Emptied when full.
_ANALYSED: dict[tuple[int, str], tuple] = {}
ANALYSED = 4096


def _analysed(schema, w: str) -> tuple[list[tuple[tuple[str, str], ...]], int]:
    key = (id(schema), w)
    got = _ANALYSED.get(key)
    if got is not None and got[0]() is schema:
        return got[1], got[2]
    pairs = []
    done: dict[int, list[str]] = {}        # fields share analyzers: each runs once a word
    for field in FIELDS:
        an = _analyzer(schema, field)
        if an is None:
            continue
        terms = done.get(id(an))
        if terms is None:
            terms = done[id(an)] = [tok.text for tok in an(w, mode="query")]
        for text in terms:
            if (field, text) not in pairs:
                pairs.append((field, text))
    # a Chinese run or a hyphenated word gives several terms: each counts as a word
    by_term: dict[str, list[tuple[str, str]]] = {}
    for field, text in pairs:
        by_term.setdefault(text, []).append((field, text))
    whole = whole_key(w)           # a key as typed ("csl-1", "he2016-deep") is part of each
    for group in by_term.values():
        if whole and ("key", whole) not in group:
            group.append(("key", whole))
    body = schema["body"].analyzer if "body" in schema else None
    if body is None:
        n_body = 0
    else:
        terms = done.get(id(body))
        n_body = len(set(terms if terms is not None else (t.text for t in body(w, mode="query"))))
    groups = [tuple(g) for g in by_term.values()]       # shared between queries: not to change
    if len(_ANALYSED) >= ANALYSED:
        _ANALYSED.clear()
    _ANALYSED[key] = (weakref.ref(schema), groups, n_body)
    return groups, n_body


_PUNCT = "\"'“”‘’«»()[]{}<>,;.!?"


def whole_key(word: str) -> str:
    """A citation key as one term, lower case: the key field holds it next to its words."""
    return word.strip(_PUNCT).lower()


def runs(schema, words: list[str]) -> list[tuple[str, int]]:
    """The query words that analyse to several terms (a Chinese run, a hyphenated word), lower
    case, with their number of terms: a passage that has one of them as written ranks above
    one with its terms apart."""
    out = []
    for w in words:
        n = _analysed(schema, w)[1]
        if n > 1:
            out.append((w.lower(), n))
    return out


# score x (1 + RUN_BONUS x the terms of the runs found as written): like a record with every
# query word (META_BONUS), the more words found together, the surer the match
RUN_BONUS = 1.0
RUN_CHECKED = 60       # best candidates whose text is checked for the runs


META_BONUS = 1.0       # a record with every query word: its score x (1 + META_BONUS x words)
class PaperFields:
    """The record of every paper of a table (title, author surnames, key, year, venue), scored
    with BM25 at paper level.

    Every passage carries its paper's title in Whoosh, so a title word's postings are those of
    all the paper's passages: scoring the title once per paper is exact and 30x less work. A
    paper without any passage (a bibliography entry without abstract, a text that is only a
    title) is found here and shown through its record document (``r:<id>``). After a change
    only the papers that changed are analysed again (``sync``)."""

    def __init__(self, analyzers: dict[str, object]):
        self.analyzers = analyzers
        self.lock = threading.Lock()
        self.text_of: dict[str, str] = {}
        self._sig: dict[str, tuple] = {}                          # paper id -> its values
        self._avg: dict[str, float] = {}
        # each field's total length (its words in all papers) and, in a length-normalised
        # field (title, venue), each paper's: an incremental sync gives every paper the parts
        # a fresh build would, with the new average length (_repart)
        self._total: dict[str, int] = {}
        self._lens: dict[str, dict[str, int]] = {}
        self._parts: dict[float, float] = {}      # one float object for each BM25 part value
        # a word of one paper (most keys, many surnames): (paper id, part), not a dict of one
        self._single: dict[tuple[str, str], tuple[str, float]] = {}
        self._maxes: dict[int, tuple[dict, float]] = {}    # id(list) -> (list, its largest part)
        self.postings: dict[tuple[str, str], dict[str, float]] = {}
        self._table = lambda: None       # weak: an old table (and its word index) must be freed
        self._fresh: Optional[set] = None     # the lists copied in this sync (_own)

    @staticmethod
    def _values(r, entry=None) -> tuple[str, ...]:
        """The paper's text of each of PAPER_FIELDS, in that order. A paper text merged into a
        bibliography entry is described by the entry (and found by either key)."""
        src = entry if entry is not None else r
        key = src.key if src.key == r.key else f"{src.key} {r.key}"
        first = src.surnames[0] if src.surnames else ""
        return (src.title or "", " ".join(src.surnames), first, key or "", src.year or "", src.venue or "")

    # the fields whose values repeat from paper to paper (analysed once each, through the
    # memo); a title, author list or key is nearly always a paper's own: remembering each
    # one's words until the sync ended added 4.5 MB to a server's peak RSS at 10k papers
    MEMO_FIELDS = frozenset(("first", "year", "venue"))

    def _analyse(self, field: str, value: str, memo: dict) -> tuple:
        got = memo.get((field, value)) if field in self.MEMO_FIELDS else None
        if got is None:
            toks = tuple(tok.text for tok in self.analyzers[field](value))
            if field in ("authors", "first"):    # "Muller" and "Gross" find Müller and Groß
                toks += tuple(f for t in toks if (f := ascii_fold(t)) != t)
            elif field == "key":                  # and each key whole (see query_words)
                toks += tuple(k for k in (whole_key(k) for k in value.split()) if k and k not in toks)
            got = toks
            if field in self.MEMO_FIELDS:
                memo[(field, value)] = toks
        return got

    def _drop(self, rid: str, fields, memo: dict) -> None:
        """Remove a paper's postings (its words analysed again from its values: keeping every
        paper's tokens cost ~10 MB at 10k papers)."""
        sig = self._sig.get(rid)
        if sig is None:
            return
        for i, field in fields:
            toks = self._analyse(field, sig[i], memo)
            self._total[field] = self._total.get(field, 0) - len(toks)
            lens = self._lens.get(field)
            if lens is not None:
                lens.pop(rid, None)
            for t in set(toks):
                key = (field, t)
                d = self.postings.get(key)
                if d is not None:
                    d = self._own(key, d)
                    d.pop(rid, None)
                    if not d:
                        del self.postings[key]
                elif self._single.get(key, ("",))[0] == rid:
                    del self._single[key]

    def _add(self, rid: str, field: str, toks: tuple) -> None:
        if not toks:
            return
        avg = self._avg.get(field) or 1.0
        b = PAPER_B.get(field, B)
        norm = K1 * (1 - b + b * len(toks) / avg)
        if b:
            self._lens.setdefault(field, {})[rid] = len(toks)
        counts: dict[str, int] = {}
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
        one, postings, single = self._parts.setdefault, self.postings, self._single
        for t, tf in counts.items():
            part = tf * (K1 + 1) / (tf + norm)
            part = one(part, part)
            key = (field, t)
            d = postings.get(key)
            if d is not None:
                self._own(key, d)[rid] = part
                continue
            got = single.get(key)
            if got is None or got[0] == rid:
                single[key] = (rid, part)
            else:
                del single[key]
                postings[key] = {got[0]: got[1], rid: part}
                if self._fresh is not None:
                    self._fresh.add(key)

    def _own(self, key, d: dict) -> dict:
        """The list of ``key`` to change in this sync: a copy the first time (a search's
        masks and lazy scores read the lists ``scores`` gave it after the lock: never changed)."""
        fresh = self._fresh
        if fresh is None or key in fresh:
            return d
        d = self.postings[key] = dict(d)
        fresh.add(key)
        return d

    def plist(self, field: str, text: str) -> Optional[dict[str, float]]:
        """Paper id -> BM25 part of a word in a field (None: in no paper)."""
        key = (field, text)
        d = self.postings.get(key)
        if d is None:
            got = self._single.get(key)
            if got is not None:
                d = {got[0]: got[1]}
        return d

    def sync(self, table) -> None:
        """Bring the postings in line with ``table``: a merged paper text and its entry are one
        paper, scored under the text (what the reader opens)."""
        with self.lock:
            if table is self._table():
                return
            rows = list(table.rows)
            text_of = table.text_of()
            sigs = {r.id: self._values(r, table.get(r.alias_of) if r.alias_of else None)
                    for r in rows if r.id not in text_of}
            changed = [rid for rid, sig in sigs.items() if self._sig.get(rid) != sig]
            gone = [rid for rid in self._sig if rid not in sigs]
            fields = [(i, f) for i, f in enumerate(PAPER_FIELDS) if f in self.analyzers]
            memo: dict = {}                 # years and venues repeat: each analysed once
            if not self._sig or len(changed) + len(gone) > max(50, len(sigs) // 4) \
                    or not self._incremental(sigs, changed, gone, fields, memo):
                # the first time, or much changed: all afresh, average lengths included
                self.postings, self._avg, self._parts, self._single = {}, {}, {}, {}
                self._total, self._lens = {}, {}
                for i, field in fields:
                    cur = {rid: self._analyse(field, sig[i], memo) for rid, sig in sigs.items()}
                    self._total[field] = sum(len(t) for t in cur.values())
                    self._avg[field] = (self._total[field] / len(cur)) if cur else 1.0
                    for rid, toks in cur.items():
                        self._add(rid, field, toks)
                    del cur
            self._sig = sigs
            self._maxes = {}
            self.text_of = text_of
            self._table = weakref.ref(table)

    def _incremental(self, sigs: dict, changed: list, gone: list, fields, memo: dict) -> bool:
        """Drop the papers gone and changed, and add the changed ones again. A length-normalised
        field whose average length changed has every other paper's parts made again with the
        new average (``_repart``), as a fresh build makes them. False: do a fresh build."""
        self._fresh = set()
        try:
            for rid in gone + changed:
                self._drop(rid, fields, memo)
            toks = {rid: [self._analyse(field, sigs[rid][i], memo) for i, field in fields]
                    for rid in changed}
            parts: Optional[dict] = None
            for j, (_, field) in enumerate(fields):
                total = self._total[field] = self._total.get(field, 0) + sum(len(t[j]) for t in toks.values())
                avg = (total / len(sigs)) if sigs else 1.0
                old, self._avg[field] = self._avg.get(field) or 1.0, avg
                if PAPER_B.get(field, B) and (avg or 1.0) != old:
                    if parts is None:
                        parts = self._parts = {}      # the old parts' values are not kept
                    if not self._repart(field, old, avg or 1.0):
                        return False
            for rid, ts in toks.items():
                for j, (_, field) in enumerate(fields):
                    self._add(rid, field, ts[j])
            return True
        finally:
            self._fresh = None

    def _repart(self, field: str, old: float, avg: float) -> bool:
        """Make the parts of every paper in ``field`` (computed with the average length
        ``old``) again with ``avg``: a part's term frequency is found from it and the paper's
        length, each (part, length) once. The lists are new (a search in flight keeps its own).
        False: a part that is not what its length and ``old`` give (do a fresh build)."""
        b = PAPER_B.get(field, B)
        lens = self._lens.get(field, {})
        one = self._parts.setdefault

        class Remap(dict):
            def __missing__(remap, pn: tuple[float, int]) -> float:
                part, n = pn
                norm = K1 * (1 - b + b * n / old)
                tf = round(part * norm / (K1 + 1 - part))
                if tf < 1 or tf * (K1 + 1) / (tf + norm) != part:
                    raise ValueError(part)
                norm = K1 * (1 - b + b * n / avg)
                got = tf * (K1 + 1) / (tf + norm)
                got = remap[pn] = one(got, got)
                return got

        remap = Remap()
        try:
            postings, single = self.postings, self._single
            for key in [k for k in postings if k[0] == field]:
                postings[key] = {rid: remap[part, lens[rid]] for rid, part in postings[key].items()}
                self._fresh.add(key)
            for key in [k for k in single if k[0] == field]:
                rid, part = single[key]
                single[key] = (rid, remap[part, lens[rid]])
        except (KeyError, ValueError):
            return False
        return True

    def scores(self, words, boosts) -> tuple["PaperScores", "PaperScores"]:
        """BM25 of the query words over the papers' records, and which words each record has.

        Rarest word first: a word of at most COMMON_PAPERS papers finds papers; a more common
        one ("learning", "image" in thousands of titles) adds to the papers the rarer words
        found and to any paper asked for (``get``: a passage's paper), not to every paper
        that has it. The score of each paper asked for is the library-wide one; what the
        common words leave out is only the papers that nothing rarer found and no passage
        brings in (the best of them are found all the same when the query has no rarer word:
        its rarest word always finds papers). Of the papers found, those that the common
        words cannot lift to the EXACT_PAPERS best are left out too (scored when asked for).
        A venue word of more than VENUE_CAP papers ("proceedings", "conference") only adds to
        papers that other words found."""
        with self.lock:
            n = max(len(self._sig), 1)
            lists = []         # (capped venue, papers, word, bit, weight, postings)
            for wi, pairs in enumerate(words):
                bit = 1 << wi
                for field, text in pairs:
                    plist = self.plist(field, text)
                    if plist:
                        weight = boosts.get(field, 1.0) * _idf(n, len(plist))
                        capped = field in CAPPED and len(plist) > VENUE_CAP
                        lists.append((capped, len(plist), wi, bit, weight, plist))
            lists.sort(key=lambda x: x[:3])          # rarest first, capped venues last
            score: dict[str, float] = {}
            common = []                # (bit, weight, postings, capped) of the words that refine
            rare = []                  # (bit, postings) of the words that found papers
            for capped, size, _, bit, weight, plist in lists:
                if (size > COMMON_PAPERS or capped) and score:
                    common.append((bit, weight, plist, capped))
                    continue
                rare.append((bit, plist))
                if not score:
                    score = {rid: weight * part for rid, part in plist.items()}
                    continue
                get = score.get
                for rid, part in plist.items():
                    score[rid] = get(rid, 0.0) + weight * part
            low: Optional[dict] = None
            if common and len(score) > EXACT_PAPERS:
                # a paper that the common words cannot lift to the EXACT_PAPERS best is not
                # refined now (its score is computed if asked for): MaxScore's bound. The
                # papers kept are copied out (most are left out: popping those cost more)
                rest = sum(weight * self._max_part(plist) for _, weight, plist, _ in common)
                values = list(score.values())
                least = nth_largest(values, EXACT_PAPERS)
                # (when the least of them can be lifted, every one is kept: no list of them)
                kept = [rid for rid, v in score.items() if v + rest >= least] \
                    if min(values) + rest < least else ()
                if kept and len(kept) < len(score):
                    low = score               # what the rarer words gave every paper they found
                    score = {rid: low[rid] for rid in kept}
            for bit, weight, plist, _ in common:
                for rid in score.keys() & plist.keys():     # the papers of both: a set operation in C
                    score[rid] += weight * plist[rid]
            lazy = _Lazy(common, low, rare) if low or any(not capped for *_, capped in common) else None
            # which words each paper has: asked for a few hundred papers (a ranking's candidates),
            # not computed for the thousands found (a third of the time here)
            every = [(bit, plist) for _, _, _, bit, _, plist in lists]
            return PaperScores(score, lazy, 0), PaperMasks(score, every, lazy)

    def _max_part(self, plist: dict) -> float:
        """The largest BM25 part of a list (kept until the postings change)."""
        got = self._maxes.get(id(plist))
        if got is None or got[0] is not plist:
            got = self._maxes[id(plist)] = (plist, max(plist.values()))
        return got[1]


class _Lazy:
    """The common words' part of the papers that rarer words did not find, computed when
    asked for (see PaperFields.scores)."""

    __slots__ = ("common", "low", "rare", "got")

    def __init__(self, common, low: Optional[dict], rare):
        self.common = common
        # the rarer words' part of the papers found (those not refined among them), and the
        # rarer words' (bit, postings) (a paper's bits among them: asked for when needed)
        self.low = low if low is not None else {}
        self.rare = rare if low is not None else ()
        self.got: dict[str, tuple[float, int]] = {}

    def __call__(self, rid: str) -> tuple[float, int]:
        got = self.got.get(rid)
        if got is None:
            s = self.low.get(rid)
            m = 0
            if s is None:
                s = 0.0
            else:
                for bit, plist in self.rare:
                    if rid in plist:
                        m |= bit
            venue = []
            for bit, weight, plist, capped in self.common:
                part = plist.get(rid)
                if part is not None:
                    if capped:
                        venue.append((bit, weight * part))
                    else:
                        s += weight * part
                        m |= bit
            if m:                 # a capped venue word refines a paper other words found
                for bit, v in venue:
                    s += v
                    m |= bit
            got = self.got[rid] = (s, m)
        return got


class PaperScores(dict):
    """Paper id -> score of the papers a query's rarer words found; ``get`` and ``[]`` answer
    for any other paper too (its common words, see PaperFields.scores). The papers found are
    what iterating gives."""

    __slots__ = ("_lazy", "_i")

    def __init__(self, found: dict, lazy: Optional[_Lazy], i: int):
        super().__init__(found)
        self._lazy, self._i = lazy, i

    def get(self, rid, default=None):
        v = dict.get(self, rid)
        if v is not None or self._lazy is None:
            return default if v is None else v
        v = self._lazy(rid)
        return v[self._i] if v[1] else default

    def pair(self, masks: "PaperMasks", rid: str) -> tuple[float, int]:
        """``(self.get(rid, 0.0), masks.get(rid, 0))`` of a score and its mask (the papers the
        rarer words found are the keys of both) in one call."""
        v = dict.get(self, rid)
        if v is not None:
            return v, masks.found(rid)
        if self._lazy is None:
            return 0.0, 0
        s, m = self._lazy(rid)
        return (s, m) if m else (0.0, 0)

    def __missing__(self, rid):
        if self._lazy is not None:
            v = self._lazy(rid)
            if v[1]:
                return v[self._i]
        raise KeyError(rid)


class PaperMasks(PaperScores):
    """Paper id -> the bits of the query words a paper's record has, as PaperScores: the keys
    are the papers found, each one's bits computed when first asked for (every word's list
    that has it: ``found``); any other paper's from its common words."""

    __slots__ = ("_lists",)

    def __init__(self, found: dict, lists: list, lazy: Optional[_Lazy]):
        super().__init__(dict.fromkeys(found), lazy, 1)
        self._lists = lists           # (bit, postings) of each word list of the query

    def found(self, rid: str) -> int:
        """The mask of a paper found (a key)."""
        m = dict.__getitem__(self, rid)
        if m is None:
            m = 0
            for bit, plist in self._lists:
                if rid in plist:
                    m |= bit
            dict.__setitem__(self, rid, m)
        return m

    def get(self, rid, default=None):
        if dict.__contains__(self, rid):
            return self.found(rid)
        return PaperScores.get(self, rid, default)

    def __getitem__(self, rid):
        if dict.__contains__(self, rid):
            return self.found(rid)
        return self.__missing__(rid)

    def values(self):
        return [self.found(rid) for rid in self]

    def items(self):
        return [(rid, self.found(rid)) for rid in self]


COMMON_PAPERS = 1000       # a paper-level word in more papers refines (PaperFields.scores)
# of the papers the rarer words found, the best this many are refined and iterated for sure
# (queries.py takes FAST_PAPERS, SYNTAX_PAPERS of them)
EXACT_PAPERS = 100


CAPPED = ("venue",)
VENUE_CAP = 1000


class PassageMasks(dict):
    """Passage docnum -> the bits of the query words it has, computed when asked for (a
    ranking needs them for its few hundred candidates, not for every passage scored); a
    passage without any query word is a KeyError. Iterating gives those asked for so far."""

    __slots__ = ("_found", "_firsts", "_again")

    def __init__(self, found: list[tuple[int, list]], firsts: tuple[list[int], list[int]] = ([], []),
                 again: Optional[dict[int, int]] = None):
        super().__init__()
        # (bit, the word's lists: (segment docnums, global docnums, offset, end))
        self._found = found
        # as the scores were summed (SearchCache.passage_scores): the number of passages
        # scored after each word and its bit; the other words' bits of a passage found again
        self._firsts, self._again = firsts, again

    def best(self, scores: dict[int, float], n: int) -> list[int]:
        """The ``n`` passages of ``scores`` (as passage_scores summed them, with these masks)
        with the largest scores, as queries._largest orders them (equal scores: the first
        scored first), their masks computed: from the place of each among the passages
        scored (its first word) and ``again`` (its other words), without reading the lists
        again (``prefetch``)."""
        keys = list(scores)
        idx = top_places(list(scores.values()), n)
        top = [keys[i] for i in idx]
        if self._again is None or len(self._firsts[0]) != len(self._found) \
                or (self._firsts[0] and self._firsts[0][-1] != len(scores)):
            self.prefetch(top)          # not the scores these masks were made with
            return top
        bounds, bits = self._firsts
        aget = self._again.get
        find = bisect.bisect_right
        # (the same masks as any asked for before: one update, not two calls a passage)
        dict.update(self, {d: bits[find(bounds, i)] | aget(d, 0) for i, d in zip(idx, top)})
        return top

    def __missing__(self, d):
        m = 0
        for bit, lists in self._found:
            for ids, _, offset, end in lists:
                if offset <= d < end:
                    i = bisect.bisect_left(ids, d - offset)
                    if i < len(ids) and ids[i] == d - offset:
                        m |= bit
                        break
        if not m:
            raise KeyError(d)
        self[d] = m
        return m

    def get(self, d, default=None):
        try:
            return self[d]
        except KeyError:
            return default

    def prefetch(self, docs) -> None:
        """Compute the masks of ``docs`` at once (set intersections in C, not a lookup per
        passage and word)."""
        want = set(docs).difference(self)
        if not want:
            return
        masks = dict.fromkeys(want, 0)
        wanted: dict[int, bool] = {}      # a segment's offset -> whether docs of it are wanted
        for bit, lists in self._found:
            for _, gids, offset, end in lists:
                got = wanted.get(offset)
                if got is None:
                    got = wanted[offset] = any(offset <= d < end for d in want)
                if got:
                    for d in want.intersection(gids):
                        masks[d] |= bit
        self.update((d, m) for d, m in masks.items() if m)


SEEN_PAPERS = 4096      # papers whose record document a PaperDocs remembers (emptied when full)


class PaperDocs:
    """A paper's record document and whether it has passages, from the segments' tables (a
    term lookup per segment cost ~0.6 ms a paper), for one searcher (its segments and their
    deletions); the papers looked up are remembered (SEEN_PAPERS: ~0.3 MB at most): the same
    come back from query to query, ~150 of them for a title query (~1 µs each)."""

    def __init__(self, segs):
        self._segs = segs       # (_Segment, leaf, docnum offset)
        self._tables: Optional[list] = None
        self._seen: dict[str, tuple[Optional[int], bool]] = {}

    def _live(self, pid: str):
        got = self._seen.get(pid)
        if got is not None:
            return got
        tables = self._tables
        if tables is None:     # per segment: its records, its papers with passages, its deletions
            tables = self._tables = [(*seg.records(leaf), leaf.is_deleted if leaf.has_deletions() else None,
                                      offset) for seg, leaf, offset in self._segs]
        got = (None, False)
        for rec, texts, deleted, offset in tables:
            d = rec.get(pid)
            if d is not None and (deleted is None or not deleted(d)):
                got = (d + offset, pid in texts)
                break
        if len(self._seen) >= SEEN_PAPERS:
            self._seen = {}
        self._seen[pid] = got
        return got

    def record(self, pid: str) -> Optional[int]:
        """The global docnum of the paper's live record document, or None."""
        return self._live(pid)[0]

    def has_passages(self, pid: str) -> bool:
        return self._live(pid)[1]


def _guess(values: list, n: int) -> float:
    """A value a little below the n-th largest of ``values`` most likely (``len(values)`` is
    8 n at least), from a sample: every 16th value (every 4th for a small n or few values: the
    sample must hold the n-th's place well); about n + 190 values (n + 32) are at or above it
    (fewer than n for none of 160 shufflings of the bench's title queries' passage scores: its
    callers then sort them all)."""
    if n >= 100 and len(values) >= 16 * n:
        sample = sorted(values[::16])
        return sample[-min(len(sample), n // 16 + 12)]
    sample = sorted(values[::4])
    return sample[-min(len(sample), n // 4 + 8)]


def nth_largest(values: list, n: int) -> float:
    """The n-th largest of ``values`` (``values`` is reordered): a sort in C (heapq's loop is
    Python). Of many values, those at or above a guess made from a sample of them are sorted
    instead (``_guess``: a fraction of the work at 30 times n) when they are at least n: the n
    largest are among them."""
    if len(values) >= 8 * n:
        guess = _guess(values, n)     # a little below the n-th, most likely
        above = [v for v in values if v >= guess]
        if len(above) >= n:
            above.sort()
            return above[-n]
    values.sort()
    return values[-n]


def top_places(values: list, n: int) -> list[int]:
    """The places of the ``n`` largest of ``values``, largest first (equal values: the first
    first, as ``heapq.nlargest`` gives them), without a Python-level key call per value: the
    n-th is found on the values alone (``nth_largest``; when there are many, the places at or
    above a guess a little below it, if they are n at least, hold the n largest), then the few
    places at or above it are sorted."""
    if len(values) <= n:
        return sorted(range(len(values)), key=values.__getitem__, reverse=True)
    idx = None
    if len(values) >= 8 * n:
        guess = _guess(values, n)
        idx = [i for i in range(len(values)) if values[i] >= guess]     # (enumerate: 15% slower)
        if len(idx) < n:
            idx = None
    if idx is None:
        least = nth_largest(list(values), n)
        idx = [i for i in range(len(values)) if values[i] >= least]
    idx.sort(key=values.__getitem__, reverse=True)      # stable: ties keep their order
    del idx[n:]
    return idx


def coordination(mask: int, total: int) -> float:
    """Passages with more of the query's words come first among similar scores."""
    return (1 + mask.bit_count()) / (1 + total)


_FOLD = str.maketrans({"ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d",
                       "þ": "th", "ı": "i"})


def ascii_fold(word: str) -> str:
    """A lower-case word without its accents (``müller`` -> ``muller``, ``groß`` -> ``gross``)."""
    if word.isascii():
        return word
    from paperlens.core.index.table import fold

    return fold(word.translate(_FOLD))


# -- snippets -------------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")


# a word's terms as an analyzer gives them (mode "query"), per analyzer: the words of the
# hits' texts come back from query to query (a snippet's candidate words were ~2/3 of its
# time, each analysed anew for each query). Emptied when full.
_WORD_TERMS: dict[tuple[int, str], tuple] = {}
WORD_TERMS = 2048          # (~0.35 KB each: the bench's 40 queries see ~110 words)


def word_terms(analyzer, word: str) -> tuple[str, ...]:
    key = (id(analyzer), word)
    got = _WORD_TERMS.get(key)
    if got is not None and got[0]() is analyzer:
        return got[1]
    terms = tuple(tok.text for tok in analyzer(word, mode="query"))
    try:
        ref = weakref.ref(analyzer)
    except TypeError:            # (an analyzer without weak references: not kept)
        return terms
    if len(_WORD_TERMS) >= WORD_TERMS:
        _WORD_TERMS.clear()
    _WORD_TERMS[key] = (ref, terms)
    return terms


# query terms -> the pattern of their words in a text (Snippets: making it was ~15 us a title
# query, as much as finding them in its 12 highlighted records)
SNIPPET_RES = 256
_SNIPPET_RES: LRU = LRU(SNIPPET_RES)


class Snippets:
    """Highlighted snippets for one query: the words of a passage whose analysed form is a query
    term, in bold, in at most two windows of the passage with the most of them. A regex built
    from the query terms finds the candidates in C; each distinct candidate word is analysed
    once (Whoosh's highlighter analyses every word of every passage)."""

    def __init__(self, terms, analyzer, maxchars: int = 220, surround: int = 60):
        self.terms = frozenset(terms)
        self.analyzer = analyzer
        self.maxchars, self.surround = maxchars, surround
        got = _SNIPPET_RES.get(self.terms, _SNIPPET_RES)
        if got is _SNIPPET_RES:
            # a word starting with a query term; a Chinese term anywhere. The words' first letters
            # are checked first (a lookahead): trying every term at every word start took 2x longer
            cjk, words = [], []
            for t in sorted(self.terms, key=len, reverse=True):
                (cjk if _CJK.search(t) else words).append(t)
            alts = [re.escape(t) for t in cjk]
            if words:
                first = "".join(sorted({re.escape(t[0]) for t in words}))
                alts.append(r"\b(?=[" + first + r"])(?:" + "|".join(map(re.escape, words)) + r")\w*")
            got = re.compile("|".join(alts), re.IGNORECASE) if alts else None
            _SNIPPET_RES.put(self.terms, got)
        self._re = got
        self._verdict: dict[str, bool] = {}

    def _is_term(self, word: str) -> bool:
        v = self._verdict.get(word)
        if v is None:
            if _CJK.search(word):
                v = True
            else:
                terms = self.terms
                v = any(t in terms for t in word_terms(self.analyzer, word))
            self._verdict[word] = v
        return v

    def _spans(self, text: str) -> list[tuple[int, int]]:
        if self._re is None:
            return []
        return [m.span() for m in self._re.finditer(text) if self._is_term(m.group().lower())]

    def whole(self, text: str) -> str:
        """All of a short text (a paper's record) with its query words in bold ("" if none)."""
        if self._re is None:
            return ""
        found = False
        is_term = self._is_term

        def bold(m) -> str:
            nonlocal found
            word = m.group()
            if not is_term(word.lower()):
                return word
            found = True
            return "**" + word + "**"

        out = self._re.sub(bold, text)        # the _spans in bold, in one pass
        return out if found else ""

    def __call__(self, text: str) -> str:
        spans = self._spans(text)
        if not spans:
            return ""
        width = self.maxchars - 2 * self.surround
        windows = []          # (matches, -start, first, last) of the window starting at each match
        j = 0
        for i, (s, _) in enumerate(spans):
            j = max(j, i)
            while j + 1 < len(spans) and spans[j + 1][1] - s <= width:
                j += 1
            windows.append((j - i + 1, -s, i, j))
        windows.sort(reverse=True)
        chosen: list[tuple[int, int]] = []
        for _, _, i, j in windows:
            if all(j < a or i > b for a, b in chosen):
                chosen.append((i, j))
            if len(chosen) == 2:
                break
        chosen.sort()
        parts = []
        for i, j in chosen:
            start = max(0, spans[i][0] - self.surround)
            end = min(len(text), spans[j][1] + self.surround)
            out, pos = [], start
            for s, e in spans[i:j + 1]:
                out.append(text[pos:s])
                out.append("**" + text[s:e] + "**")
                pos = e
            out.append(text[pos:end])
            parts.append("".join(out).strip())
        return " … ".join(parts)


# -- what a store keeps for search ----------------------------------------------------------------------

def _add_parts(scores: dict, again: dict, gids, parts, weight: float, bit: int) -> None:
    """Add a list's postings to ``scores`` (``again``: the bits of the passages found again)."""
    aget = again.get
    for d, p in zip(gids, parts):      # (``in``, not a ``get`` call: ~10% less)
        if d in scores:
            scores[d] += weight * p
            again[d] = aget(d, 0) | bit
        else:                          # (0.0 + a part, as a sum from 0.0)
            scores[d] = weight * p


def _add_weighted(scores: dict, again: dict, gids: list, weighted: list, bit: int) -> None:
    """``_add_parts`` of a list kept as Python objects, its parts weighted (no object made)."""
    aget = again.get
    for d, c in zip(gids, weighted):
        if d in scores:
            scores[d] += c
            again[d] = aget(d, 0) | bit
        else:
            scores[d] = c


class SearchCache:
    """What search reads once and keeps, for one store: per segment its ``_Segment`` (side
    file, length columns, paper of each document...), and the papers' ``PaperFields``. The
    store makes one, reads through it, and ``close``s it with its index (open side files are
    let go then)."""

    def __init__(self, side_dir: Path):
        self.side_dir = Path(side_dir)
        self._lock = threading.Lock()
        self._segments: dict[str, _Segment] = {}
        self._papers: Optional[PaperFields] = None
        self.short = short_lists()           # short lists read lately, of all segments
        self.stored = short_lists(STORED)    # stored documents read lately (stored_of)
        self._made: tuple = (lambda: None, {})          # (its table, made_records)
        self._docs: tuple = (lambda: None, None)        # (its searcher, paper_docs)
        # (the segments, {(field, term) -> its lists in them}, {(field, term, weight) -> its
        # [(global docnums, weighted parts)] as lists (None: searched once, or too large to
        # keep)}, [their postings]) (passage_scores: one lookup a word, not one a segment: a
        # dozen segments after a few edits; BOXED_POSTINGS. Two searches at once may each add
        # a word before either counts it: the count, and the bound, can be passed by a word's
        # lists for a moment, never more)
        self._lists: tuple = ((), {}, {}, [0])

    def segment(self, leaf) -> _Segment:
        seg_id = leaf.segment().segment_id()
        with self._lock:
            seg = self._segments.get(seg_id)
            if seg is None:
                seg = self._segments[seg_id] = _Segment(self.side_dir, leaf, self.short)
            return seg

    def segments(self, searcher, forget: bool = False) -> list:
        """(_Segment, leaf, docnum offset) of each segment ``searcher`` reads; ``forget``: let
        go of the segments it no longer has (merged away, replaced)."""
        leaves = _leaves(searcher.reader())
        if forget:
            live = {leaf.segment().segment_id() for leaf, _ in leaves}
            with self._lock:
                gone = [k for k in self._segments if k not in live]
                for seg_id in gone:
                    del self._segments[seg_id]       # its side file closes when unused
                    forget_segment(self.short, seg_id)
                    forget_segment(self.stored, seg_id)
        segs = [(self.segment(leaf), leaf, offset) for leaf, offset in leaves]
        if forget:
            # the lists read of a segment whose documents were deleted since are read again: a
            # word's postings are read without the deleted ones, as a cache made now reads them
            for seg, leaf, _ in segs:
                deleted = leaf.segment().deleted_count()
                if deleted != seg.deleted:
                    seg.deleted = deleted
                    forget_segment(self.short, seg.id)
        return segs

    def paper_fields(self, table, schema) -> PaperFields:
        """The papers' PaperFields, in line with ``table`` (built once, then kept up to date)."""
        with self._lock:
            pf = self._papers
            if pf is None:
                pf = self._papers = PaperFields({f: an for f in PAPER_FIELDS
                                                 if (an := _analyzer(schema, f)) is not None})
        pf.sync(table)
        return pf

    def passage_scores(self, searcher, words, boosts) -> tuple[dict[int, float], "PassageMasks"]:
        """Accumulated BM25F of the passage fields (bounded lists, see the module docstring),
        and which query words each passage has (computed for the passages asked for: a
        ranking needs them for a few hundred candidates, not for the ~10k passages scored)."""
        segs = self.segments(searcher, forget=True)
        for seg, _, _ in segs:
            seg.check_side()
        gen = tuple((seg.id, seg.side is not None, seg.deleted) for seg, _, _ in segs)
        held = self._lists
        if held[0] != gen:       # other segments, a side file dropped, deletions: lists read again
            held = self._lists = (gen, {}, {}, [0])     # one assignment: a search of another
        by_word, boxed, boxed_size = held[1:]           # commit in another thread never mixes them
        n_docs = max(searcher.doc_count_all(), 1)
        scores: dict[int, float] = {}
        found: list[tuple[int, list]] = []         # (bit, the word's lists: (ids, global ids, offset, end))
        # which words each passage has, as the scores are summed: a passage's first word is
        # the one whose passages added to ``scores`` its place falls among (``firsts``: how
        # many passages there are after each word, and its bit), the others are ``again``'s
        firsts: tuple[list[int], list[int]] = ([], [])
        again: dict[int, int] = {}
        for wi, pairs in enumerate(words):
            bit = 1 << wi
            has: list[tuple] = []
            for field, text in pairs:
                if field not in PASSAGE_FIELDS:
                    continue
                got = by_word.get((field, text))
                if got is None:
                    got = self._word_lists(segs, field, text)
                    if len(by_word) >= WORD_LISTS:
                        by_word.clear()
                    by_word[(field, text)] = got
                df, lists = got
                if not df:
                    continue
                weight = boosts.get(field, 1.0) * _idf(n_docs, df)
                for ids, gids, _, offset, end in lists:
                    has.append((ids, gids, offset, end))
                # a word searched again: its lists as Python objects, their parts weighted (the
                # same products: the same sums); the first time, as they are (making the
                # objects costs a search of the word more than it saves)
                key = (field, text, weight)
                made = boxed.get(key, key)
                if made is None:             # searched again (and within the bound: 0 keeps none)
                    size = sum(len(gids) for _, gids, _, _, _ in lists)
                    if size <= BOXED_POSTINGS:
                        made = [(list(gids), [weight * p for p in parts]) for _, gids, parts, _, _ in lists]
                        if boxed_size[0] + size > BOXED_POSTINGS:
                            boxed.clear()
                            boxed_size[0] = 0
                        boxed[key] = made
                        boxed_size[0] += size
                if made is None or made is key:
                    if made is key:
                        if len(boxed) >= WORD_LISTS:
                            boxed.clear()
                            boxed_size[0] = 0
                        boxed[key] = None
                    for _, gids, parts, _, _ in lists:
                        _add_parts(scores, again, gids, parts, weight, bit)
                else:
                    for gl, cl in made:
                        _add_weighted(scores, again, gl, cl, bit)
            if has:
                found.append((bit, has))
                firsts[0].append(len(scores))
                firsts[1].append(bit)
        return scores, PassageMasks(found, firsts, again)

    @staticmethod
    def _word_lists(segs, field: str, text: str) -> tuple[int, list[tuple]]:
        """A word's document frequency in the segments, and its lists that are not empty:
        (docnums in the segment, global docnums, BM25 parts, docnum offset, end)."""
        df, lists = 0, []
        for seg, leaf, offset in segs:
            n, ids, parts = seg.postings(leaf, field, text)
            df += n
            if len(ids):
                gids = array("q", [d + offset for d in ids]) if offset else ids
                lists.append((ids, gids, parts, offset, offset + leaf.doc_count_all()))
        return df, lists

    def doc_frequency(self, searcher, field: str, text: str, segs: Optional[list] = None) -> int:
        """``searcher.doc_frequency(field, text)``: a common word's from its side file headers,
        a word read lately from ``short_lists`` (a term lookup in each of a dozen segments was
        ~35 µs a word of a long query, see queries._prune). ``segs``: ``self.segments(searcher)``
        (~3 µs: once for the words of a query)."""
        total = 0
        short = self.short
        for seg, leaf, _ in (segs if segs is not None else self.segments(searcher)):
            side = seg.side
            e = side.entry(field, text) if side is not None else None
            if isinstance(e, list) and len(e) == 3 and type(e[2]) is int and e[2] >= 0:
                total += e[2]
                continue
            got = short.get((seg.id, field, text))
            total += got[0] if got is not None else leaf.doc_frequency(field, text)
        return total

    def paper_of(self, searcher, live: bool = False):
        """A function: global docnum -> paper id (see _Segment.paper_ordinals); ``live``:
        None for a deleted document (its segment's check, not the reader's: ~1.5 µs less)."""
        segs = self.segments(searcher)
        starts = [offset for _, _, offset in segs]
        tables: list = [None] * len(segs)
        find = bisect.bisect_right

        def of(d: int) -> Optional[str]:
            i = find(starts, d) - 1
            got = tables[i]
            if got is None:
                seg, leaf, _ = segs[i]
                got = tables[i] = (*seg.paper_ordinals(leaf),
                                   leaf.is_deleted if live and leaf.has_deletions() else None)
            names, ords, deleted = got
            local = d - starts[i]
            if deleted is not None and deleted(local):
                return None
            n = ords[local]
            return names[n] if n >= 0 else ""

        return of

    def stored_of(self, searcher):
        """A function: global docnum -> the document's stored fields (``searcher.stored_fields``,
        not to be changed), the STORED read lately kept: a passage's is decompressed (~25 µs)
        and the same passages come back as a query is typed (and to check runs, then to show
        the hit)."""
        segs = self.segments(searcher)
        starts = [offset for _, _, offset in segs]
        ids = [seg.id for seg, _, _ in segs]
        find = bisect.bisect_right
        kept = self.stored

        def stored(d: int) -> dict:
            i = find(starts, d) - 1
            key = (ids[i], d - starts[i])
            got = kept.get(key)
            if got is None:
                got = searcher.stored_fields(d)
                kept.put(key, got)
            return got

        return stored

    def made_records(self, table) -> dict:
        """Paper id -> what its caller made of the paper's row in ``table`` (the store's
        table: another one, after an update or a reload, gets another dict), kept for the
        queries to come: a title query's hits are mostly records, the same as a query is typed
        and from query to query. The caller empties it when RECORDS are kept."""
        held = self._made
        if held[0]() is not table:
            held = self._made = (weakref.ref(table), {})      # one assignment
        return held[1]

    def paper_docs(self, searcher) -> PaperDocs:
        """The PaperDocs of ``searcher`` (the one of the latest searcher kept: a newer commit,
        with other segments or deletions, is another searcher)."""
        held = self._docs
        if held[0]() is not searcher:
            held = self._docs = (weakref.ref(searcher), PaperDocs(self.segments(searcher)))    # one assignment
        return held[1]

    def warm(self, searcher, table, schema) -> None:
        """Do the once-per-index work of the first query ahead of it: paper-level title and
        author words, each large segment's side file and length columns."""
        self.paper_fields(table, schema)
        for seg, leaf, _ in self.segments(searcher, forget=True):
            seg.records(leaf)
            if leaf.has_deletions():
                leaf.deleted_docs_set          # what term_postings filters a word's postings with
            if leaf.doc_count_all():
                leaf.stored_fields(0)          # loads the stored-fields column's offsets
            for field in PASSAGE_FIELDS:
                if field in schema:
                    seg.lengths(leaf, field)

    def close(self) -> None:
        with self._lock:
            self._segments = {}
            self._papers = None
            self.short = short_lists()
            self.stored = short_lists(STORED)
            self._made = (lambda: None, {})
            self._docs = (lambda: None, None)
            self._lists = ((), {}, {}, [0])
