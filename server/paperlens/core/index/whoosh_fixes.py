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
# Indexing spends most of its time in three places of Whoosh's writer that do per-posting
# Python work (a 1000-paper library has ~3M postings). The replacements below write the same
# postings, lengths and blocks, with less work per posting:
#
# * ``Positions.word_values``: with our analyzer (``FastMixedAnalyzer.index_positions``) the
#   term -> positions map is built straight from the regex matches, without a Token per word.
# * ``W3FieldWriter.add_postings``: field lengths are read once per field from the length
#   column (instead of a column lookup per posting), and a term's postings are put into the
#   postings writer's block buffers a block at a time (instead of ``add_posting`` per posting,
#   with its type assertions); blocks are cut at the same places, so the bytes are the same.

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


def _w3_add_postings(orig):
    from itertools import groupby
    from operator import itemgetter

    from whoosh.codec import whoosh3
    from whoosh.codec.base import OutOfOrderError
    from whoosh.system import emptybytes

    plain_postings_writer = whoosh3.W3Codec.postings_writer
    term_key = itemgetter(0, 1)

    def add_postings(self, schema, lengths, items):
        """The postings of one term at a time (they come sorted by field, term, docnum)."""
        if (type(self) is not whoosh3.W3FieldWriter
                or type(self._codec).postings_writer is not plain_postings_writer):
            return orig(self, schema, lengths, items)
        dfl = lengths.doc_field_length if lengths else (lambda docnum, fieldname: 0)
        lastfn = None
        lasttext = None
        flens = None
        for (fieldname, btext), group in groupby(items, term_key):
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
            postings = list(group)
            ids = [p[2] for p in postings]
            if -1 in ids:   # spelling words (see base.FieldWriter.add_postings)
                postings = [p for p in postings if p[2] != -1]
                if not postings:
                    continue
                ids = [p[2] for p in postings]
            self.start_term(btext)
            lasttext = btext
            if flens is not None and 0 <= min(ids) and max(ids) < len(flens):
                lens = [flens[d] for d in ids]
            else:
                lens = [dfl(d, fieldname) for d in ids]
            _fill_term(self._postwriter, ids, [p[3] for p in postings],
                       [emptybytes if p[4] is None else p[4] for p in postings], lens)
            self.finish_term()

    return add_postings


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
    SegmentWriter.add_document = _segment_add_document(SegmentWriter.add_document)
    Positions.word_values = _positions_word_values(Positions.word_values)
    whoosh3.W3FieldWriter.add_postings = _w3_add_postings(whoosh3.W3FieldWriter.add_postings)
    _writer_applied = True


_writer_applied = False
ORIGINALS: dict = {}     # (class, attribute) -> Whoosh's own, for the tests' comparisons
