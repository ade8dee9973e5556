"""Whoosh's segment writer and codec, extended to write the same segments with less work.

Indexing spends most of its time in Whoosh's writer doing Python work per posting (a
1000-paper library has ~3M postings). The subclasses here write the same segment, byte for byte
(tests/unit/test_index_whoosh_writing.py compares them with Whoosh's own classes), with less
work per posting. They are passed to Whoosh explicitly (``Writer.open(ix)``, ``Codec()``);
Whoosh's own classes are never changed:

* ``Writer.add_document``: a field's postings go into a pool grouped by term (``TermPool``)
  instead of a tuple per posting in Whoosh's PostingPool; a field value equal to the previous
  document's (a passage's paper title, path, key) reuses its analysis; with our analyzer
  (``FastMixedAnalyzer.index_positions``) a field's term -> positions map is built straight
  from the regex matches, without a Token per word (``word_values``).
* ``Writer.add_document(_stored_<name>=value)`` without ``<name>`` stores the value without
  indexing it (Whoosh itself only accepts ``_stored_<name>`` next to ``<name>``).
* ``Writer._flush_segment``: terms come out of that pool in order (no sort of every posting;
  spilled runs are chunks of terms, not one pickle per posting) and are written by
  ``FieldWriter.write_terms`` with field lengths read once per field (``PerDocReader``) and
  block buffers filled a block at a time (``PostingsWriter.fill``), cut at the same places as
  Whoosh's ``add_posting`` cuts them. ``FieldWriter.add_postings`` (merges) does the same.
* ``Codec.postings_reader`` gives ``LeafMatcher``, whose ``all_postings`` reads a term's
  postings block by block (fast.py ranks from whole lists).

Whoosh's private names used here stay inside these subclasses; the store uses the public
methods ``Writer.open``, ``finish_segment``, ``publish``, ``abandon``.
"""
from __future__ import annotations

import heapq
import logging
import marshal
import tempfile
from array import array
from collections import deque
from itertools import groupby, repeat
from operator import itemgetter, sub
from typing import Optional

from paperlens.core.index.whoosh import require

require()

from whoosh.codec import whoosh3  # noqa: E402
from whoosh.codec.base import OutOfOrderError  # noqa: E402
from whoosh.compat import dumps  # noqa: E402
from whoosh.fields import FieldType  # noqa: E402
from whoosh.formats import Frequency, Positions  # noqa: E402
from whoosh.index import LockError  # noqa: E402
from whoosh.system import emptybytes, pack_uint  # noqa: E402
from whoosh.util.filelock import try_for  # noqa: E402
from whoosh.util.numeric import byte_to_length  # noqa: E402
from whoosh.writing import PostingPool, SegmentWriter  # noqa: E402

log = logging.getLogger(__name__)

# byte -> the length doc_field_length returns for it (None for 0)
LENGTH_OF_BYTE = [None] + [byte_to_length(b) for b in range(1, 256)]


# -- the codec: what writes and reads a segment's postings --------------------------------------

class PostingsWriter(whoosh3.W3PostingsWriter):
    def fill(self, ids, weights, values, lens) -> None:
        """Put one term's postings in as ``add_posting`` would, one block buffer at a time:
        every full block is written before the next posting is added, the last block stays
        buffered for ``finish_postings``."""
        limit = self._blocklimit
        n = len(ids)
        start = 0
        while True:
            end = min(start + limit, n)
            if start == 0 and end == n:
                cids, cws, cvals, clens = ids, weights, values, lens
            else:
                cids, cws, cvals, clens = ids[start:end], weights[start:end], values[start:end], lens[start:end]
            self._ids = array("I", cids)
            self._weights = array("f", cws)
            self._values = list(filter(None, cvals))
            self._maxweight = max(0, max(cws))
            ls = list(filter(None, clens))
            self._minlength = min(ls) if ls else None
            self._maxlength = max(ls) if ls else 0
            if end >= n:
                return
            self._write_block()
            start = end

    def _mini_ids(self):
        """Whoosh's: the block's ids as deltas (by ``map`` instead of a generator: the same
        tuple)."""
        ids = self._ids
        if self._byteids or not ids:
            return tuple(ids)
        return (ids[0], *map(sub, ids[1:], ids))

    def _mini_weights(self):
        """Whoosh's: None when every weight is 1.0, the weight when they are all the same, else
        all of them (counted by the array, not compared one by one in Python)."""
        weights = self._weights
        if not isinstance(weights, array):
            return super()._mini_weights()
        n = len(weights)
        if weights.count(1.0) == n:
            return None
        if weights.count(weights[0]) == n:
            return weights[0]
        return tuple(weights)

    @property
    def byte_ids(self) -> bool:
        return self._byteids


class PerDocReader(whoosh3.W3PerDocReader):
    @staticmethod
    def lengths_column(fieldname: str) -> str:
        """The per-document column that holds a field's length codes."""
        return whoosh3._lenfield(fieldname)

    def length_codes(self, fieldname: str) -> Optional[bytes]:
        """The one-byte length code of each document in ``fieldname`` as stored (documents
        past its end have 0), or None when the segment has no lengths for the field."""
        column = self.lengths_column(fieldname)
        if not self.has_column(column):
            return None
        colfile, offset, length = self._get_column_file(column)
        try:
            return colfile.get(offset, min(length, self.doc_count_all()))
        finally:
            colfile.close()

    def field_lengths(self, fieldname: str) -> list:
        """Every document's length in ``fieldname`` as doc_field_length gives it, and one more
        (doc_field_length accepts docnum == doc count)."""
        doccount = self.doc_count_all()
        codes = self.length_codes(fieldname)
        if codes is None:
            return [0] * (doccount + 1)
        table = LENGTH_OF_BYTE
        return [table[b] for b in codes] + [None] * (doccount + 1 - len(codes))


class LeafMatcher(whoosh3.W3LeafMatcher):
    def all_postings(self) -> tuple[list, list]:
        """(docnums, weights) of every posting, read block by block."""
        ids: list = []
        weights: list = []
        while not self._atend:
            self._read_ids()
            self._read_weights()
            ids.extend(self._ids)
            weights.extend(self._weights)
            self._next_block()
        return ids, weights


class FieldWriter(whoosh3.W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        """The postings of one term at a time (they come sorted by field, term, docnum)."""
        self.write_terms(schema, lengths, group_postings(items))

    def write_terms(self, schema, lengths, terms) -> None:
        """What FieldWriter.add_postings does, from postings grouped by term: ``terms`` yields
        (fieldname, btext, docnums, weights, values) in (fieldname, btext) order, each term's
        postings in docnum order."""
        dfl = lengths.doc_field_length if lengths else (lambda docnum, fieldname: 0)
        per_doc = isinstance(lengths, PerDocReader)
        lastfn = None
        lasttext = None
        flens = None
        for fieldname, btext, ids, weights, values in terms:
            if lastfn is not None and fieldname < lastfn:
                raise OutOfOrderError("Field %r .. %r" % (lastfn, fieldname))
            if fieldname == lastfn and lasttext and btext < lasttext:
                raise OutOfOrderError("Term %s:%r .. %s:%r" % (lastfn, lasttext, fieldname, btext))
            if fieldname != lastfn:
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                if self._postwriter.byte_ids:
                    raise AssertionError("field postings with byte ids")
                lastfn = fieldname
                lasttext = None
                flens = lengths.field_lengths(fieldname) if per_doc else None
            if -1 in ids:   # spelling words (see whoosh.codec.base.FieldWriter.add_postings)
                keep = [k for k, d in enumerate(ids) if d != -1]
                if not keep:
                    continue
                ids = [ids[k] for k in keep]
                weights = [weights[k] for k in keep]
                values = [values[k] for k in keep]
            if None in values:
                values = [emptybytes if v is None else v for v in values]
            self.start_term(btext)
            lasttext = btext
            if flens is not None and 0 <= min(ids) and max(ids) < len(flens):
                lens = list(map(flens.__getitem__, ids))
            else:
                lens = [dfl(d, fieldname) for d in ids]
            self._postwriter.fill(ids, weights, values, lens)
            self.finish_term()


class Codec(whoosh3.W3Codec):
    """Whoosh 3's codec, writing and reading through the classes above (the same files)."""

    def field_writer(self, storage, segment):
        return FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                              compression=self._compression, inlinelimit=self._inlinelimit)

    def per_document_reader(self, storage, segment):
        return PerDocReader(storage, segment)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return LeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# -- postings grouped by term ---------------------------------------------------------------------

def group_postings(items):
    """Sorted (fieldname, btext, docnum, weight, value) postings -> write_terms' groups."""
    for (fieldname, btext), group in groupby(items, itemgetter(0, 1)):
        postings = list(group)
        yield (fieldname, btext, [p[2] for p in postings], [p[3] for p in postings],
               [p[4] for p in postings])


def ungroup(terms):
    for fieldname, btext, ids, weights, values in terms:
        for docnum, weight, value in zip(ids, weights, values):
            yield fieldname, btext, docnum, weight, value


class TermPool:
    """The postings of a segment being written, grouped by field and term as they are added
    (Whoosh's PostingPool keeps one tuple per posting and sorts them all at the end). When
    the estimated size passes the writer's ``limitmb``, the terms are written to an anonymous
    temporary file, sorted, a chunk of terms per ``marshal.dump``; runs are merged term by
    term at the end (Whoosh pickles each posting in and out of its runs)."""

    # a chunk of a run (what the merge holds in memory per run) ends after this many terms
    # or postings
    CHUNK = 4096
    CHUNK_POSTINGS = 16384

    def __init__(self, limit: int, tempdir) -> None:
        self.fields: dict = {}     # fieldname -> {btext: ([docnum], [weight], [value])}
        # fieldname -> ({term: [docnum]}, {term: [count]}): the postings ``add_counts`` adds
        # (str terms: their order is their UTF-8 bytes' order)
        self.counted: dict = {}
        self.boosts: dict = {}     # fieldname -> its format's field boost (counted fields)
        self.size = 0
        self.limit = limit
        self.tempdir = tempdir
        self.runs: list = []

    def add_counts(self, fieldname, docnum, counts, field_boost: float) -> None:
        """Add one document's postings of a plain Frequency field (document boost 1.0) from
        its {term: count}: what ``add(..., shared=True)`` adds for the items ``word_values``
        makes of these counts (weight ``count x field_boost``, value ``pack_uint(count)``, made
        when the terms are written), with the lookups and appends done by ``map`` in C
        instead of a Python step per posting."""
        got = self.counted.get(fieldname)
        if got is None:
            got = self.counted[fieldname] = (_Lists(), _Lists())
            self.boosts[fieldname] = field_boost
        ids_of, ns_of = got
        known = len(ids_of)
        _drain(map(list.append, map(ids_of.__getitem__, counts), repeat(docnum)))
        _drain(map(list.append, map(ns_of.__getitem__, counts), counts.values()))
        # the estimate in proportion to the memory taken as add's (tracemalloc on bench
        # passages: 30 bytes a posting here against 47 there; 20 and 40 estimated a posting,
        # 410 and 400 a new term): a pool spills at the same memory as before
        size = 20 * len(counts) + 410 * (len(ids_of) - known)
        self.size += size
        if self.size > self.limit:
            self.spill()

    def add(self, fieldname, docnum, fieldboost, items, shared: bool = False) -> None:
        """Add one document's postings of a field. ``shared``: the weights and values are
        shared objects (``FREQUENCY_VALUES``), a posting then takes three list slots."""
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        get = terms.get
        if shared:
            size = 40 * len(items)
            if fieldboost == 1.0:
                for tbytes, _, weight, vbytes in items:
                    lists = get(tbytes)
                    if lists is None:
                        terms[tbytes] = ([docnum], [weight], [vbytes])
                        size += 400 + len(tbytes)
                    else:
                        lists[0].append(docnum)
                        lists[1].append(weight)
                        lists[2].append(vbytes)
                self.size += size
                if self.size > self.limit:
                    self.spill()
                return
        else:
            size = 110 * len(items)
        for tbytes, _, weight, vbytes in items:
            lists = get(tbytes)
            if lists is None:
                terms[tbytes] = ([docnum], [weight * fieldboost], [vbytes])
                size += 400 + len(tbytes)
            else:
                lists[0].append(docnum)
                lists[1].append(weight * fieldboost)
                lists[2].append(vbytes)
            if vbytes and not shared:
                size += 33 + len(vbytes)
        self.size += size
        if self.size > self.limit:
            self.spill()

    def _sorted(self):
        """The pool's terms in (fieldname, btext) order, as (fieldname, btext, docnums,
        weights, values); a counted field's weights and values made from its counts."""
        fields, counted = self.fields, self.counted
        for fieldname in sorted(fields.keys() | counted.keys()):
            terms = fields.get(fieldname)
            if fieldname not in counted:
                for btext in sorted(terms):
                    ids, weights, values = terms[btext]
                    yield fieldname, btext, ids, weights, values
                continue
            ids_of, ns_of = counted[fieldname]
            table = frequency_values(self.boosts[fieldname])
            if not terms:
                for w in sorted(ids_of):
                    yield (fieldname, w.encode("utf-8"), ids_of[w]) + _from_counts(ns_of[w], table)
                continue
            # the field also has postings added one by one (``add``): each term's from both,
            # in docnum order
            both = {w.encode("utf-8"): w for w in ids_of}
            for btext in sorted(both.keys() | terms.keys()):
                w = both.get(btext)
                got = (ids_of[w],) + _from_counts(ns_of[w], table) if w is not None else None
                other = terms.get(btext)
                if got is None:
                    got = other
                elif other is not None:
                    got = _docnum_order(got, other)
                yield (fieldname, btext) + tuple(got)

    def _has_postings(self) -> bool:
        return bool(self.fields or self.counted)

    def spill(self) -> None:
        f = tempfile.TemporaryFile(dir=self.tempdir)
        chunk = []
        postings = 0
        for term in self._sorted():
            chunk.append(term)
            postings += len(term[2])
            if len(chunk) >= self.CHUNK or postings >= self.CHUNK_POSTINGS:
                _write_chunk(f, marshal.dumps(chunk))
                chunk = []
                postings = 0
        if chunk:
            _write_chunk(f, marshal.dumps(chunk))
        f.flush()
        self.runs.append(f)
        self.fields = {}
        self.counted = {}
        self.size = 0

    @staticmethod
    def _read_run(f):
        f.seek(0)
        while True:
            head = f.read(8)
            if not head:
                return
            chunk = marshal.loads(f.read(int.from_bytes(head, "little")))
            chunk.reverse()     # (marshal.load(f) would read the file piece by piece)
            while chunk:
                yield chunk.pop()   # a term's lists are let go once merged

    def terms(self, extra=None):
        """All terms in order, each with its postings from every run, in the order added.
        ``extra``: more grouped terms to merge in (postings Whoosh's own pool holds)."""
        if self.runs and self._has_postings():
            self.spill()    # the merge then holds a chunk per run, not the whole last pool
        memory = self._sorted()
        sources = [self._read_run(f) for f in self.runs] + [memory]
        if extra is not None:
            sources.append(extra)
        if len(sources) == 1:
            yield from memory
            return
        # runs hold documents in the order added: only postings from Whoosh's pool may need
        # sorting in
        reorder = _in_docnum_order if extra is not None else (lambda term: term)
        current = None
        joined = False      # current's lists are copies, extended in place
        for term in heapq.merge(*sources, key=itemgetter(0, 1)):   # stable: run order kept
            if current is not None and term[0] == current[0] and term[1] == current[1]:
                if not joined:
                    current = (current[0], current[1], list(current[2]), list(current[3]),
                               list(current[4]))
                    joined = True
                current[2].extend(term[2])
                current[3].extend(term[3])
                current[4].extend(term[4])
                continue
            if current is not None:
                yield reorder(current) if joined else current
            current = term
            joined = False
        if current is not None:
            yield reorder(current) if joined else current

    def close(self) -> None:
        for f in self.runs:
            f.close()
        self.runs = []
        self.fields = {}
        self.counted = {}


_drain = deque(maxlen=0).extend       # runs an iterator to its end (in C)


class _Lists(dict):
    """term -> list, a new list for a term not seen yet."""

    __slots__ = ()

    def __missing__(self, key):
        got = self[key] = []
        return got


def _from_counts(ns: list, table: list) -> tuple[list, list]:
    """The weights and values of postings with these counts (``table``: frequency_values)."""
    if max(ns) < len(table):
        weights, values = _COLUMNS[id(table)]
        return list(map(weights.__getitem__, ns)), list(map(values.__getitem__, ns))
    pairs = [table[n] if n < len(table) else (float(n) * table[1][0], pack_uint(n)) for n in ns]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _docnum_order(a, b) -> tuple[list, list, list]:
    """Two (docnums, weights, values) of one term, as one in docnum order."""
    triples = sorted(zip(a[0] + b[0], a[1] + b[1], a[2] + b[2]), key=itemgetter(0))
    return [t[0] for t in triples], [t[1] for t in triples], [t[2] for t in triples]


def _write_chunk(f, data: bytes) -> None:
    f.write(len(data).to_bytes(8, "little"))
    f.write(data)


def _in_docnum_order(term):
    """A term whose postings came from several sources: in the order Whoosh's sort of
    (fieldname, btext, docnum, weight, value) tuples gives them."""
    fieldname, btext, ids, weights, values = term
    if all(a < b for a, b in zip(ids, ids[1:])):
        return term
    triples = sorted(zip(ids, weights, values))
    return (fieldname, btext, [t[0] for t in triples], [t[1] for t in triples],
            [t[2] for t in triples])


# -- analysis ---------------------------------------------------------------------------------------

def word_values(fmt, value, analyzer):
    """``fmt.word_values(value, analyzer, mode="index")``; for Whoosh's plain Positions and
    Frequency formats and an analyzer with ``index_positions`` (ours), from its term ->
    positions map (Whoosh's Frequency path, a Token per word, was slower than Positions')."""
    fast = getattr(analyzer, "index_positions", None)
    if fast is not None and isinstance(fmt, Positions) and type(fmt).encode is Positions.encode \
            and type(fmt).word_values is Positions.word_values:
        poses = fast(value, {"mode": "index", "positions": True, "boosts": True})
        if poses is not None:
            fb = fmt.field_boost
            out = []
            for w, poslist in poses.items():
                n = len(poslist)
                if n == 1:
                    deltas = poslist
                else:
                    deltas = [b - a for a, b in zip(poslist, poslist[1:])]
                    deltas.insert(0, poslist[0])
                out.append((w, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
            return out
    if is_plain_frequency(fmt):
        shared = frequency_values(fmt.field_boost)
        top = len(shared)
        # the same tokens counted (Frequency asks for no positions: they do not change which
        # tokens there are)
        count = getattr(analyzer, "index_counts", None)
        counts = count(value, {"mode": "index", "boosts": True}) if count is not None else None
        out = []
        if counts is not None:
            for w, n in counts.items():
                if n < top:
                    weight, vbytes = shared[n]
                else:
                    weight, vbytes = float(n) * fmt.field_boost, pack_uint(n)
                out.append((w, n, weight, vbytes))
            return out
        for w, n, weight, vbytes in fmt.word_values(value, analyzer, mode="index"):
            if n < top and shared[n] == (weight, vbytes):
                weight, vbytes = shared[n]
            out.append((w, n, weight, vbytes))
        return out
    return fmt.word_values(value, analyzer, mode="index")


def is_plain_frequency(fmt) -> bool:
    """Whoosh's Frequency format as it is (its values are a fixed-size uint, joined into a
    block's bytes, never pickled: the same objects may be shared by many postings)."""
    return isinstance(fmt, Frequency) and type(fmt).word_values is Frequency.word_values \
        and fmt.fixed_value_size() == 4


# field boost -> [(weight, value bytes) of a term in a document n times], for small n: the
# postings of a Frequency field share these objects (a float and a bytes per posting were
# most of the pool's memory)
FREQUENCY_VALUES: dict[float, list] = {}


def frequency_values(field_boost: float) -> list:
    table = FREQUENCY_VALUES.get(field_boost)
    if table is None:
        table = FREQUENCY_VALUES[field_boost] = [(float(n) * field_boost, pack_uint(n)) for n in range(512)]
        _COLUMNS[id(table)] = ([w for w, _ in table], [v for _, v in table])
    return table


_COLUMNS: dict[int, tuple[list, list]] = {}    # id(a frequency_values table) -> its weights, values


# -- the writer -------------------------------------------------------------------------------------

_PLAIN_INDEX = FieldType.index
_COUNT_KWARGS = {"mode": "index", "boosts": True}     # what word_values asks index_counts
STORED_ONLY = "_stored_"     # Whoosh's prefix for a field's stored value (see Writer.add_document)


class Writer(SegmentWriter):
    """Whoosh's SegmentWriter with the faster paths above. Make one with ``Writer.open``."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", Codec())
        super().__init__(ix, **kwargs)
        self._terms: Optional[TermPool] = None      # made on first use (see term_pool)
        # set by the caller: shown the terms as the segment is written (fast.SideFileData)
        self.side_data = None
        self._last_items: dict = {}                  # fieldname -> (value, its postings)
        self._plans: dict = {}                       # field names -> add_document's plan

    @classmethod
    def open(cls, ix, timeout: float = 0.0, lock: bool = True, **kwargs) -> "Writer":
        """A writer of ``ix`` holding its write lock (``lock=False``: the caller holds it).
        Unlike ``ix.writer()``, the lock is released when the writer cannot be made: Whoosh
        takes the lock, then writes the new segment's first bytes, and a failure there (a full
        disk) left the lock held by this process for good (every later update then timed out
        on it)."""
        if not lock:
            return cls(ix, _lk=False, **kwargs)
        writelock = ix.lock("WRITELOCK")
        if not try_for(writelock.acquire, timeout=timeout, delay=0.1):
            raise LockError()
        try:
            writer = cls(ix, _lk=False, **kwargs)
        except BaseException:
            writelock.release()
            raise
        writer.writelock = writelock          # released by commit() and cancel()
        return writer

    # -- adding documents ------------------------------------------------------------------------
    def _term_pool(self) -> Optional[TermPool]:
        """The term pool, made on first use when Whoosh's pool is still empty (a merge that
        ran first filled it: then Whoosh's pool is used)."""
        if self._terms is None:
            pool = self.pool
            if pool.current or pool.runs:
                return None
            self._terms = TermPool(pool.limit, getattr(self._tempstorage, "folder", None))
        return self._terms

    def add_document(self, **fields):
        """SegmentWriter.add_document with a field's postings put into the pool all at once
        (one size estimate and one ``extend`` per field, not ``PostingPool.add`` per posting).
        The pool may spill a run at a different posting than Whoosh's; runs are merged in
        sorted order, so the segment is the same. Spelling and vector fields go through
        Whoosh's own method."""
        pool = self.pool
        plan = self._plans.get(tuple(fields))
        if plan is None:
            plan = self._plan(fields)
        stored_only, steps = plan
        if type(pool) is not PostingPool or steps is None:
            return self._whoosh_add_document(fields, stored_only)
        self._check_state()
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        last_items = self._last_items
        terms = self._term_pool()
        schema = self.schema

        perdocwriter.start_doc(docnum)
        try:
            for fieldname, field, plain, shared, counted, boostkw, stored_key in steps:
                value = fields.get(fieldname)
                if value is None:
                    continue
                length = 0
                if field.indexed:
                    fieldboost = float(fields[boostkw]) if boostkw else docboost
                    counts = None
                    if counted and terms is not None and fieldboost == 1.0 and isinstance(value, str):
                        # a field without positions: its terms counted, added to the pool
                        # as counts (TermPool.add_counts)
                        last = last_items.get(fieldname)
                        if last is not None and last[0] == value and last[2]:
                            counts = last[1]
                        else:
                            counts = field.analyzer.index_counts(value, _COUNT_KWARGS)
                            if counts is not None:
                                last_items[fieldname] = (value, counts, True)
                    if counts is not None:
                        items = ()
                        if counts:
                            if field.scorable:
                                length = sum(counts.values())
                            pool.fieldnames.add(fieldname)
                            terms.add_counts(fieldname, docnum, counts, field.format.field_boost)
                    elif plain and isinstance(value, str):
                        # a field often repeats the previous document's value (a passage's
                        # paper title, path, key): analysis is deterministic, reuse it
                        last = last_items.get(fieldname)
                        if last is not None and last[0] == value and not last[2]:
                            # fresh value bytes: a block's pickle would otherwise memoize
                            # the shared objects and the postings bytes would differ
                            items = last[1] if shared else [
                                (tb, freq, wt, bytes(bytearray(vb)) if vb else vb)
                                for tb, freq, wt, vb in last[1]]
                        else:
                            items = [(w.encode("utf-8"), freq, wt, vb) for w, freq, wt, vb
                                     in word_values(field.format, value, field.analyzer)]
                            last_items[fieldname] = (value, items, False)
                    else:
                        shared = False
                        items = list(field.index(value))
                        for item in items:
                            if not isinstance(item[0], bytes):
                                raise AssertionError("tbytes=%r" % (item[0],))
                            if item[3] is not None and not isinstance(item[3], bytes):
                                raise AssertionError("vbytes=%r" % (item[3],))
                    if items:
                        if field.scorable:
                            length = sum([item[1] for item in items])
                        pool.fieldnames.add(fieldname)
                        if terms is not None:
                            terms.add(fieldname, docnum, fieldboost, items, shared)
                        else:
                            # PostingPool.add's estimate of the memory the postings take
                            size = ((150 + len(fieldname)) * len(items)
                                    + 2 * sum([len(item[0]) for item in items])
                                    + sum([len(item[3]) for item in items if item[3]]))
                            if pool.currentsize + size > pool.limit and pool.current:
                                pool.save()
                            pool.currentsize += size
                            pool.current.extend([(fieldname, tbytes, docnum, weight * fieldboost, vbytes)
                                                 for tbytes, _, weight, vbytes in items])

                customval = fields[stored_key] if stored_key else value
                sv = customval if field.stored else None
                perdocwriter.add_field(fieldname, field, sv, length)

                column = field.column_type
                if column and customval is not None:
                    cv = field.to_column_value(customval)
                    perdocwriter.add_column_value(fieldname, column, cv)
            # ``_stored_<name>`` without ``<name>``: stored, not indexed (a passage's "s:..." id
            # is never looked up, and as a term it was 74% of a segment's terms)
            for name in stored_only:
                perdocwriter.add_field(name, schema[name], fields[STORED_ONLY + name], 0)
        except Exception as ex:
            perdocwriter.cancel_doc()
            raise ex

        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _plan(self, fields: dict) -> tuple:
        """What add_document does with documents of these field names (remembered per tuple of
        names, in their order: the store passes a kind of document's fields the same way):
        (the stored-only names, the steps: per indexed or stored field in name order (name,
        field, plain analysis, shared weights and values, its boost keyword or "", its
        ``_stored_`` keyword or "")), the
        steps None when Whoosh's own method must add them (spelling, vectors, unknown names).
        A stored-only name the schema does not store raises ValueError."""
        schema = self.schema
        stored_only = [key[len(STORED_ONLY):] for key in fields if key.startswith(STORED_ONLY)
                       and key[len(STORED_ONLY):] not in fields]
        for name in stored_only:
            if name not in schema or not schema[name].stored:
                raise ValueError(f"{STORED_ONLY}{name}: {name!r} is not a stored field of the schema")
        steps: Optional[list] = []
        for name in sorted([name for name in fields.keys() if not name.startswith("_")]):
            field = schema[name] if name in schema else None
            if field is None or field.vector or field.separate_spelling():
                steps = None         # (an unknown field raises there)
                break
            plain = type(field).index is _PLAIN_INDEX and bool(field.format)
            shared = plain and is_plain_frequency(field.format)
            counted = shared and hasattr(field.analyzer, "index_counts")
            boostkw = "_%s_boost" % name
            stored_key = "_stored_%s" % name
            steps.append((name, field, plain, shared, counted, boostkw if boostkw in fields else "",
                          stored_key if stored_key in fields else ""))
        plan = (stored_only, steps)
        if len(self._plans) < 64:
            self._plans[tuple(fields)] = plan
        return plan

    def add_field(self, fieldname, fieldspec, **kwargs):
        self._plans.clear()
        return super().add_field(fieldname, fieldspec, **kwargs)

    def remove_field(self, fieldname, **kwargs):
        self._plans.clear()
        return super().remove_field(fieldname, **kwargs)

    def _whoosh_add_document(self, fields: dict, stored_only: list):
        """Whoosh's own add_document (it has no stored-only values: those are indexed too)."""
        if stored_only:
            fields = dict(fields)
            for name in stored_only:
                fields[name] = fields[STORED_ONLY + name]
        return super().add_document(**fields)

    def _flush_segment(self):
        tp = self._terms
        if tp is None:
            return super()._flush_segment()
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        pool = self.pool
        extra = group_postings(pool.iter_postings()) if (pool.current or pool.runs) else None
        terms = tp.terms(extra)
        side = self.side_data
        if side is not None and extra is None and isinstance(pdr, PerDocReader):
            side.start(pdr)
            terms = side.watch(terms)
        fieldwriter = self.fieldwriter
        if isinstance(fieldwriter, FieldWriter):
            fieldwriter.write_terms(self.schema, pdr, terms)
        else:
            fieldwriter.add_postings(self.schema, pdr, ungroup(terms))
        fieldwriter.close()
        if pdr:
            pdr.close()
        tp.close()
        self._terms = None

    # -- finishing ---------------------------------------------------------------------------
    @property
    def has_documents(self) -> bool:
        return bool(self._added)

    def finish_segment(self):
        """Write the documents added as a segment and return it, without committing it (a
        worker process's part of a parallel build: ``publish`` commits the parts); None when
        nothing was added."""
        if not self._added:
            self._close_segment()
            return None
        return self._finalize_segment()

    def publish(self, segments: list) -> None:
        """Commit ``segments`` (written by ``finish_segment`` in other writers of the same
        index) as the index's segments, instead of this writer's own, and release the lock."""
        self._close_segment()
        self._commit_toc(segments)
        self._finish()

    def abandon(self) -> None:
        """Give up, whatever state a failed write left this writer in: its lock released and
        temporary files removed, and no second error hiding the first one (``cancel`` flushes
        buffers, which fails again on a full disk)."""
        if self.is_closed:
            return
        terms, self._terms = self._terms, None
        if terms is not None:
            terms.close()
        try:
            self.cancel()
            return
        except Exception as exc:  # noqa: BLE001
            log.debug("cancelling the index writer: %s", exc)
        for step in ("_tempstorage", "writelock"):
            try:
                thing = getattr(self, step, None)
                if thing is None:
                    continue
                thing.destroy() if step == "_tempstorage" else thing.release()
            except Exception:  # noqa: BLE001
                pass
        self.is_closed = True
