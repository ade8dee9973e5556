"""Fixes to whoosh-reloaded 2.7.5: reader memory independent of the index size, and faster
index writing (see the second half of this file).

Whoosh maps each segment file and hands its parts out as ``BufferFile(memoryview)``, but
``BufferFile`` wraps the view in ``io.BytesIO``, and ``BytesIO`` *copies* a memoryview. Every
segment reader therefore held a private copy of the whole postings file: 330 MB of heap per
reader at 10k papers, once more for each searcher that was open at the same time. The file
below reads straight from the view; only the bytes asked for are copied.
"""
from __future__ import annotations

import io

_applied = False


class ViewFile:
    """Read-only, seekable file over a memoryview (what BytesIO would be, without the copy)."""

    __slots__ = ("_view", "_pos", "closed")

    def __init__(self, view) -> None:
        self._view = memoryview(view).cast("B") if not isinstance(view, memoryview) else view
        self._pos = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if n is None or n < 0 else min(start + n, len(self._view))
        self._pos = max(end, start)
        return bytes(self._view[start:end])

    def readline(self, limit: int = -1) -> bytes:
        view, start = self._view, self._pos
        end = len(view) if limit is None or limit < 0 else min(start + limit, len(view))
        pos = start
        while pos < end:
            if view[pos] == 10:
                pos += 1
                break
            pos += 1
        self._pos = pos
        return bytes(view[start:pos])

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self._pos
        elif whence == io.SEEK_END:
            pos += len(self._view)
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def write(self, data) -> int:
        raise io.UnsupportedOperation("a segment file is read-only")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self._view = memoryview(b"")


def apply() -> None:
    """Install the fix (idempotent)."""
    global _applied
    if _applied:
        return
    from whoosh.filedb import structfile

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = ViewFile(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    structfile.BufferFile.__init__ = __init__
    apply_writer()
    _applied = True


# ------------------------------------------------------------------------- faster index writing
#
# Indexing spends most of its time in Whoosh's writer doing Python work per posting (a
# 1000-paper library has ~3M postings). The replacements below write the same segment, byte
# for byte (tests/unit/test_whoosh_fixes.py compares with Whoosh's own methods), with less
# work per posting:
#
# * ``Positions.word_values``: with our analyzer (``FastMixedAnalyzer.index_positions``) the
#   term -> positions map is built straight from the regex matches, without a Token per word.
# * ``SegmentWriter.add_document``: a field's postings go into a pool grouped by term
#   (``_TermPool``) instead of a tuple per posting in PostingPool; a field value equal to the
#   previous document's (a passage's paper title, path, key) reuses its analysis.
# * ``SegmentWriter._flush_segment``: terms come out of that pool in order (no sort of every
#   posting; spilled runs are chunks of terms, not one pickle per posting), and are written
#   with field lengths read once per field and block buffers filled a block at a time
#   (``_write_terms``, also used by ``W3FieldWriter.add_postings`` for merges); blocks are
#   cut at the same places as ``add_posting`` cuts them.
# Only the plain classes take these paths (checked with ``type(...) is``); anything else
# (other codecs, formats, spelling or vector fields) goes through Whoosh's own code.

_LENGTH_OF_BYTE = None     # byte -> the length doc_field_length returns for it (None for 0)


def _positions_word_values(orig):
    from whoosh.compat import dumps
    from whoosh.formats import Positions
    from whoosh.system import pack_uint

    plain_encode = Positions.encode

    def word_values(self, value, analyzer, **kwargs):
        fast = getattr(analyzer, "index_positions", None)
        if fast is not None and type(self).encode is plain_encode:
            kw = dict(kwargs)
            kw["positions"] = True
            kw["boosts"] = True
            poses = fast(value, kw)
            if poses is not None:
                fb = self.field_boost
                out = []
                for w, poslist in poses.items():
                    n = len(poslist)
                    if n == 1:
                        deltas = poslist
                    else:
                        deltas = [b - a for a, b in zip(poslist, poslist[1:])]
                        deltas.insert(0, poslist[0])
                    out.append((w, n, float(n) * fb, pack_uint(n) + dumps(deltas, 2)))
                return iter(out)
        return orig(self, value, analyzer, **kwargs)

    return word_values


def _field_lengths(lengths, fieldname):
    """Every document's length in ``fieldname`` as doc_field_length gives it, or None when
    ``lengths`` is not a plain Whoosh 3 per-document reader (the caller then asks per posting)."""
    from whoosh.codec import whoosh3
    from whoosh.columns import NumericColumn

    global _LENGTH_OF_BYTE
    if type(lengths) is not whoosh3.W3PerDocReader:
        return None
    if _LENGTH_OF_BYTE is None:
        from whoosh.util.numeric import byte_to_length
        _LENGTH_OF_BYTE = [None] + [byte_to_length(b) for b in range(1, 256)]
    reader = lengths._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    doccount = lengths._doccount
    if reader is None:
        return [0] * (doccount + 1)
    if type(reader) is not NumericColumn.Reader or reader._typecode != "B" or reader._reverse:
        return None
    count = min(reader._count, doccount)
    raw = reader._dbfile.get(reader._basepos, count) if count else b""
    table = _LENGTH_OF_BYTE
    default = table[reader._default] if reader._default else None
    # doc_field_length accepts docnum == doccount (it only rejects docnum > doccount)
    return [table[b] for b in raw] + [default] * (doccount + 1 - count)


def _fill_term(pw, ids, weights, values, lens):
    """Put one term's postings into W3PostingsWriter ``pw`` as ``add_posting`` would, one
    block buffer at a time: every full block is written before the next posting is added,
    the last block stays buffered for ``finish_postings``."""
    from array import array

    limit = pw._blocklimit
    n = len(ids)
    start = 0
    while True:
        end = min(start + limit, n)
        if start == 0 and end == n:
            cids, cws, cvals, clens = ids, weights, values, lens
        else:
            cids, cws, cvals, clens = ids[start:end], weights[start:end], values[start:end], lens[start:end]
        pw._ids = array("I", cids)
        pw._weights = array("f", cws)
        pw._values = [v for v in cvals if v]
        pw._maxweight = max(0, max(cws))
        ls = [x for x in clens if x]
        pw._minlength = min(ls) if ls else None
        pw._maxlength = max(ls) if ls else 0
        if end >= n:
            return
        pw._write_block()
        start = end


def _plain_w3(fieldwriter) -> bool:
    from whoosh.codec import whoosh3

    return (type(fieldwriter) is whoosh3.W3FieldWriter
            and type(fieldwriter._codec).postings_writer is whoosh3.W3Codec.postings_writer)


def _write_terms(self, schema, lengths, terms) -> None:
    """What FieldWriter.add_postings does, for W3FieldWriter ``self``, from postings grouped
    by term: ``terms`` yields (fieldname, btext, docnums, weights, values) in (fieldname,
    btext) order, each term's postings in docnum order."""
    from whoosh.codec.base import OutOfOrderError
    from whoosh.system import emptybytes

    dfl = lengths.doc_field_length if lengths else (lambda docnum, fieldname: 0)
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
            if self._postwriter._byteids:
                raise AssertionError("field postings with byte ids")
            lastfn = fieldname
            lasttext = None
            flens = _field_lengths(lengths, fieldname) if lengths else None
        if -1 in ids:   # spelling words (see base.FieldWriter.add_postings)
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
            lens = [flens[d] for d in ids]
        else:
            lens = [dfl(d, fieldname) for d in ids]
        _fill_term(self._postwriter, ids, weights, values, lens)
        self.finish_term()


def _group_postings(items):
    """Sorted (fieldname, btext, docnum, weight, value) postings -> _write_terms' groups."""
    from itertools import groupby
    from operator import itemgetter

    for (fieldname, btext), group in groupby(items, itemgetter(0, 1)):
        postings = list(group)
        yield (fieldname, btext, [p[2] for p in postings], [p[3] for p in postings],
               [p[4] for p in postings])


def _ungroup(terms):
    for fieldname, btext, ids, weights, values in terms:
        for docnum, weight, value in zip(ids, weights, values):
            yield fieldname, btext, docnum, weight, value


def _w3_add_postings(orig):
    def add_postings(self, schema, lengths, items):
        """The postings of one term at a time (they come sorted by field, term, docnum)."""
        if not _plain_w3(self):
            return orig(self, schema, lengths, items)
        _write_terms(self, schema, lengths, _group_postings(items))

    return add_postings


class _TermPool:
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
        self.size = 0
        self.limit = limit
        self.tempdir = tempdir
        self.runs: list = []

    def add(self, fieldname, docnum, fieldboost, items) -> None:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        get = terms.get
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
            if vbytes:
                size += 33 + len(vbytes)
        self.size += size
        if self.size > self.limit:
            self.spill()

    def _sorted(self, fields):
        for fieldname in sorted(fields):
            terms = fields[fieldname]
            for btext in sorted(terms):
                ids, weights, values = terms[btext]
                yield fieldname, btext, ids, weights, values

    def spill(self) -> None:
        import marshal
        import tempfile

        f = tempfile.TemporaryFile(dir=self.tempdir)
        chunk = []
        postings = 0
        for term in self._sorted(self.fields):
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
        self.size = 0

    @staticmethod
    def _read_run(f):
        import marshal

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
        import heapq
        from operator import itemgetter

        if self.runs and self.fields:
            self.spill()    # the merge then holds a chunk per run, not the whole last pool
        memory = self._sorted(self.fields)
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


def _term_pool(writer):
    """The writer's _TermPool, made on first use when Whoosh's pool is still empty."""
    tp = writer.__dict__.get("_paperlens_terms")
    if tp is None:
        pool = writer.pool
        if pool.current or pool.runs:
            return None
        tp = writer._paperlens_terms = _TermPool(pool.limit, getattr(writer._tempstorage, "folder", None))
    return tp


def _drain_to_pool(writer) -> None:
    """Move the term pool's postings into Whoosh's pool (for code that reads the pool)."""
    tp = writer.__dict__.pop("_paperlens_terms", None)
    if tp is not None:
        pool = writer.pool
        for posting in _ungroup(tp.terms()):
            pool.add(posting)
        tp.close()


def _segment_flush(orig):
    def _flush_segment(self):
        tp = self.__dict__.get("_paperlens_terms")
        if tp is None:
            return orig(self)
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        pool = self.pool
        extra = _group_postings(pool.iter_postings()) if (pool.current or pool.runs) else None
        terms = tp.terms(extra)
        fieldwriter = self.fieldwriter
        if _plain_w3(fieldwriter):
            _write_terms(fieldwriter, self.schema, pdr, terms)
        else:
            fieldwriter.add_postings(self.schema, pdr, _ungroup(terms))
        fieldwriter.close()
        if pdr:
            pdr.close()
        tp.close()
        del self.__dict__["_paperlens_terms"]

    return _flush_segment


def _segment_partial(orig):
    def _partial_segment(self):
        _drain_to_pool(self)      # the caller takes Whoosh's pool files
        return orig(self)

    return _partial_segment


def _segment_add_document(orig):
    """SegmentWriter.add_document with a field's postings put into the pool all at once (one
    size estimate and one ``extend`` per field, not ``PostingPool.add`` per posting). The pool
    may spill a run at a different posting than before; runs are merged in sorted order, so
    the segment is the same. Spelling and vector fields go through Whoosh's own method."""
    from whoosh.fields import FieldType
    from whoosh.writing import PostingPool

    plain_index = FieldType.index

    def add_document(self, **fields):
        pool = self.pool
        schema = self.schema
        if type(pool) is not PostingPool:
            return orig(self, **fields)
        fieldnames = sorted([name for name in fields.keys() if not name.startswith("_")])
        for name in fieldnames:
            field = schema[name] if name in schema else None
            if field is None or field.vector or field.separate_spelling():
                return orig(self, **fields)    # (an unknown field raises there)
        self._check_state()
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        last_items = self.__dict__.setdefault("_paperlens_last_items", {})
        terms = _term_pool(self)

        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    if type(field).index is plain_index and isinstance(value, str) and field.format:
                        # a field often repeats the previous document's value (a passage's
                        # paper title, path, key): analysis is deterministic, reuse it
                        last = last_items.get(fieldname)
                        if last is not None and last[0] == value:
                            # fresh value bytes: a block's pickle would otherwise memoize
                            # the shared objects and the postings bytes would differ
                            items = [(tb, freq, wt, bytes(bytearray(vb)) if vb else vb)
                                     for tb, freq, wt, vb in last[1]]
                        else:
                            items = [(w.encode("utf-8"), freq, wt, vb) for w, freq, wt, vb
                                     in field.format.word_values(value, field.analyzer, mode="index")]
                            last_items[fieldname] = (value, items)
                    else:
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
                            terms.add(fieldname, docnum, fieldboost, items)
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

                customval = fields.get("_stored_%s" % fieldname, value)
                sv = customval if field.stored else None
                perdocwriter.add_field(fieldname, field, sv, length)

                column = field.column_type
                if column and customval is not None:
                    cv = field.to_column_value(customval)
                    perdocwriter.add_column_value(fieldname, column, cv)
        except Exception as ex:
            perdocwriter.cancel_doc()
            raise ex

        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    return add_document


def apply_writer() -> None:
    """Install the faster index-writing paths (idempotent)."""
    global _writer_applied
    if _writer_applied:
        return
    from whoosh.codec import whoosh3
    from whoosh.formats import Positions
    from whoosh.writing import SegmentWriter

    ORIGINALS[(Positions, "word_values")] = Positions.word_values
    ORIGINALS[(whoosh3.W3FieldWriter, "add_postings")] = whoosh3.W3FieldWriter.add_postings
    ORIGINALS[(SegmentWriter, "add_document")] = SegmentWriter.add_document
    ORIGINALS[(SegmentWriter, "_flush_segment")] = SegmentWriter._flush_segment
    ORIGINALS[(SegmentWriter, "_partial_segment")] = SegmentWriter._partial_segment
    SegmentWriter.add_document = _segment_add_document(SegmentWriter.add_document)
    SegmentWriter._flush_segment = _segment_flush(SegmentWriter._flush_segment)
    SegmentWriter._partial_segment = _segment_partial(SegmentWriter._partial_segment)
    Positions.word_values = _positions_word_values(Positions.word_values)
    whoosh3.W3FieldWriter.add_postings = _w3_add_postings(whoosh3.W3FieldWriter.add_postings)
    _writer_applied = True


_writer_applied = False
ORIGINALS: dict = {}     # (class, attribute) -> Whoosh's own, for the tests' comparisons
