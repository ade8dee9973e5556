"""Whoosh extended, not patched (core/index/whoosh/storage.py, writing.py): a reader does not
hold a private copy of a segment's postings, the writer writes the same segments as Whoosh's,
and Whoosh's own classes are left as they are."""
import io
import random
import tracemalloc

import pytest
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from paperlens.core.index.whoosh import writing
from paperlens.core.index.whoosh.schema import make_schema
from paperlens.core.index.whoosh.storage import Storage, open_segment
from paperlens.core.index.whoosh.writing import Writer


def _create(path, schema, ours=True):
    path.mkdir(parents=True, exist_ok=True)
    return (Storage if ours else FileStorage)(str(path)).create_index(schema)


def test_segment_file_reads_like_bytesio(tmp_path):
    data = b"first line\nsecond\n\nlast" + bytes(range(256)) * 3
    (tmp_path / "x.seg").write_bytes(data)
    ours, ref = open_segment(str(tmp_path), "x.seg"), io.BytesIO(data)
    for op in [("read", 3), ("readline",), ("tell",), ("seek", 2), ("read", 100), ("read", 5),
               ("seek", -4, io.SEEK_END), ("read", -1), ("seek", 1, io.SEEK_SET), ("seek", 3, io.SEEK_CUR),
               ("readline",), ("readline",), ("readline",), ("readline",), ("tell",), ("read", 2000)]:
        assert getattr(ours, op[0])(*op[1:]) == getattr(ref, op[0])(*op[1:]), op
    assert list(open_segment(str(tmp_path), "x.seg")) == list(io.BytesIO(data))
    part = ours.subset(5, 20)
    assert part.get(0, 20) == data[5:25] and part.read(100) == data[5:25]
    assert part.get_array(4, "I", 2).tolist() == ours.subset(9, 8).read_array("I", 2).tolist()
    ours.close()
    assert part.get(0, 3) == data[5:8], "a part keeps the file open until it is closed"
    part.close()


def _segment_mappings():
    with open("/proc/self/maps", encoding="utf-8") as f:
        return [line for line in f if line.rstrip().endswith(".seg")]


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/maps"), reason="needs /proc")
def test_segments_are_read_not_mapped_and_a_truncated_one_is_an_error(tmp_path):
    """A searched segment adds no file-backed pages to the process (they stayed in the server's
    RSS), and a segment truncated under a reader is an OSError, not SIGBUS."""
    import os

    ix = _create(tmp_path, fields.Schema(body=fields.TEXT(stored=True)))
    rnd = random.Random(3)
    vocab = ["w%04d" % i for i in range(3000)]
    with Writer.open(ix) as w:
        for _ in range(2000):
            w.add_document(body=" ".join(rnd.choice(vocab) for _ in range(40)))
    ix = Storage(str(tmp_path)).open_index()
    from whoosh.query import Term

    with ix.searcher() as s:
        assert [h.docnum for h in s.search(Term("body", vocab[5]), limit=None)]
        assert not _segment_mappings()
        [seg] = [p for p in tmp_path.iterdir() if p.name.endswith(".seg")]
        os.truncate(seg, 64)
        with pytest.raises(OSError):
            s.stored_fields(s.doc_count_all() - 1)
        with pytest.raises(OSError):
            s.search(Term("body", vocab[6]), limit=None)


def _search_peak(ix, word):
    """(hits, peak heap) of opening a reader and searching ``word``."""
    from whoosh.query import Term

    tracemalloc.start()
    try:
        reader = ix.reader()
        with ix.searcher() as s:
            hits = [h.docnum for h in s.search(Term("body", word))]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    reader.close()
    return hits, peak


def test_opening_a_reader_does_not_copy_the_postings(tmp_path):
    ix = _create(tmp_path, fields.Schema(body=fields.TEXT))
    rnd = random.Random(7)
    vocab = ["w%05d" % i for i in range(20000)]
    with Writer.open(ix) as w:
        for _ in range(4000):
            w.add_document(body=" ".join(rnd.choice(vocab) for _ in range(60)))
    seg_bytes = sum(p.stat().st_size for p in tmp_path.glob("*.seg"))
    assert seg_bytes > 1_000_000
    hits, peak = _search_peak(Storage(str(tmp_path)).open_index(), vocab[1])
    assert hits, "the term is in some documents"
    assert peak < seg_bytes / 4, (peak, seg_bytes)
    # Whoosh's own storage (BufferFile wraps the mapping in BytesIO) copies the segment
    theirs, their_peak = _search_peak(FileStorage(str(tmp_path)).open_index(), vocab[1])
    assert theirs == hits and their_peak > seg_bytes / 2, (their_peak, seg_bytes)


def test_whoosh_classes_are_left_as_they_are(tmp_path):
    """Nothing is assigned onto Whoosh's classes: the speed-ups are subclasses passed in."""
    from whoosh.codec import whoosh3
    from whoosh.filedb import structfile
    from whoosh.formats import Positions
    from whoosh.writing import SegmentWriter

    ix = _create(tmp_path / "ix", make_schema())
    with Writer.open(ix) as w:
        w.add_document(doc="s:1", kind="passage", body="anything at all", title="a title")
    for cls in (SegmentWriter, structfile.BufferFile, structfile.StructFile, Positions,
                whoosh3.W3FieldWriter, whoosh3.W3PostingsWriter, whoosh3.W3Codec, whoosh3.W3PerDocReader,
                whoosh3.W3LeafMatcher):
        for name, value in vars(cls).items():
            module = getattr(value, "__module__", None)
            assert module is None or module.startswith("whoosh."), (cls, name, module)
    # and what Whoosh writes by itself is Whoosh's own
    assert type(FileStorage(str(tmp_path / "ix")).open_index().writer()) is SegmentWriter


# ------------------------------------------------------------------ faster index writing

def _writer(ix, ours: bool, **kwargs):
    """paperlens's writer, or Whoosh's own (the reference)."""
    return Writer.open(ix, **kwargs) if ours else ix.writer(**kwargs)


def _dump_index(ix):
    """Everything a reader sees: each term's info and raw posting bytes, every document's
    stored fields and field lengths, the field totals."""
    from whoosh.codec.whoosh3 import W3TermInfo

    out = []
    with ix.reader() as r:
        for seg, _ in (r.leaf_readers() if not r.is_atomic() else [(r, 0)]):
            terms = seg._terms
            postings = []
            for key, value in terms._tindex.items():    # raw term info bytes
                info = W3TermInfo.from_bytes(value)
                raw = None
                if not info.is_inlined():
                    offset, length = info.extent()
                    if isinstance(length, tuple):   # how W3TermInfo.from_bytes leaves it
                        length = length[0]
                    raw = terms._postfile.get(offset, length)
                postings.append((key, value, raw))
            names = sorted(seg.schema.names())
            docs = [(seg.stored_fields(d), [seg.doc_field_length(d, f) for f in names])
                    for d in range(seg.doc_count_all())]
            out.append((postings, docs, [seg.field_length(f) for f in names]))
    return out


def _sample_docs(n=700, seed=3):
    rnd = random.Random(seed)
    common = ["network", "networks", "learning", "the", "of", "a", "model", "models", "x",
              "deep", "attention", "transformer", "e.g.", "U.S.A", "3.14", "data*set"]
    rare = ["w%04d" % i for i in range(3000)]
    chinese = ["神经网络", "医学图像分割", "的", "深度学习模型", "注意力"]
    docs = []
    for i in range(n):
        words = [rnd.choice(common) if rnd.random() < 0.5 else rnd.choice(rare)
                 for _ in range(rnd.randint(0, 120))]
        if i % 13 == 0:
            words.insert(rnd.randint(0, len(words)), rnd.choice(chinese))
        if i % 7 == 0:
            words = [w.upper() for w in words]
        text = " ".join(words)
        if i % 50 == 0:
            text = "  "           # no tokens at all
        docs.append(text)
    # 128 = the block size: a term in exactly 128, 256 and 129 documents
    for k, count in (("blockexact", 128), ("blocktwice", 256), ("blockplus", 129)):
        for d in range(count):
            docs[(d * 2) % len(docs)] += " " + k
    return docs


def _build(path, docs, schema_fn, ours=True):
    ix = _create(path, schema_fn())
    w = _writer(ix, ours)
    for i, text in enumerate(docs):
        w.add_document(doc=f"s:{i}", kind="passage", title=docs[(i // 4 * 7) % len(docs)][:80],
                       body=text, abstract=text[:200] if i % 3 == 0 else None,
                       authors="Ada Lovelace and Alan Turing" if i % 5 == 0 else None,
                       text=text, line_start=i)
    w.commit()
    return ix


def test_our_writer_writes_the_same_index(tmp_path):
    docs = _sample_docs()
    ref = _dump_index(_build(tmp_path / "whoosh", docs, make_schema, ours=False))
    ours = _dump_index(_build(tmp_path / "ours", docs, make_schema))
    assert ours == ref
    postings = ref[0][0]
    assert any(raw is not None and len(raw) > 600 for *_, raw in postings)    # several blocks


def test_our_writer_with_whoosh_analyzers_and_small_pool(tmp_path):
    """Fields whose analyzer has no fast path, and a pool that spills runs to disk."""
    def schema():
        return fields.Schema(doc=fields.ID(stored=True), kind=fields.ID, title=fields.TEXT,
                             body=fields.TEXT(analyzer=__import__("whoosh").analysis.StemmingAnalyzer()),
                             abstract=fields.TEXT(phrase=False), authors=fields.KEYWORD(scorable=True),
                             text=fields.STORED, line_start=fields.NUMERIC(stored=True))

    docs = _sample_docs(n=400, seed=11)

    def build(path, ours=True):
        ix = _create(path, schema())
        w = _writer(ix, ours, limitmb=0.05)
        for i, text in enumerate(docs):
            w.add_document(doc=f"s:{i}", kind="passage", title=text[:60], body=text,
                           abstract=text[:200], authors="ada alan" if i % 5 == 0 else "bob",
                           text=text, line_start=i)
        w.commit()
        return ix

    ref = _dump_index(build(tmp_path / "whoosh", ours=False))
    assert _dump_index(build(tmp_path / "ours")) == ref


def test_index_positions_match_the_token_stream():
    from whoosh.formats import tokens

    from paperlens.core.index.whoosh.analysis import mixed_analyzer

    ana = mixed_analyzer()
    for text in _sample_docs(n=200, seed=5) + ["", "The a of", "x y z network", "é café CAFÉ"]:
        fast = ana.index_positions(text, {"positions": True, "boosts": True, "mode": "index"})
        expected: dict = {}
        for t in tokens(text, ana, {"positions": True, "boosts": True, "mode": "index"}):
            expected.setdefault(t.text, []).append(t.pos)
            assert t.boost == 1.0
        if fast is None:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
        else:
            assert fast == expected and list(fast) == list(expected)
        # without positions (Frequency): the same tokens, counted
        counts = ana.index_counts(text, {"boosts": True, "mode": "index"})
        if counts is None:
            assert fast is None
        else:
            whoosh_counts: dict = {}
            for t in tokens(text, ana, {"boosts": True, "mode": "index"}):
                whoosh_counts[t.text] = whoosh_counts.get(t.text, 0) + 1
            assert dict(counts) == whoosh_counts and list(counts) == list(whoosh_counts)


def test_our_writer_merging_segments_and_spilling(tmp_path):
    """A commit that merges an older segment into the new one (its postings reach Whoosh's
    own pool) while the term pool has spilled runs."""
    docs = _sample_docs(n=500, seed=19)

    def build(path, limitmb, ours=True):
        ix = _create(path, make_schema())
        for part, commit in ((docs[:120], {}), (docs[120:], {"optimize": True})):
            w = _writer(ix, ours, limitmb=limitmb)
            for i, text in enumerate(part):
                w.add_document(doc=f"s:{i}", kind="passage", title=text[:40], body=text)
            w.commit(**commit)
        return ix

    ref = _dump_index(build(tmp_path / "whoosh", 128, ours=False))
    assert len(ref) == 1      # one segment: the first was merged into the second
    assert _dump_index(build(tmp_path / "ours", 128)) == ref
    assert _dump_index(build(tmp_path / "spilled", 0.03)) == ref


def test_term_pool_spills_and_merges_in_order(tmp_path):
    pool = writing.TermPool(limit=3000, tempdir=str(tmp_path))
    expected = {}
    rnd = random.Random(2)
    for docnum in range(300):
        items = [(b"t%d" % k, 1, 1.5, b"v%d" % docnum if k % 2 else b"")
                 for k in sorted(rnd.sample(range(40), 6))]
        pool.add("body" if docnum % 3 else "title", docnum, 2.0, items)
        for tb, _, w, v in items:
            e = expected.setdefault(("body" if docnum % 3 else "title", tb), ([], [], []))
            e[0].append(docnum)
            e[1].append(w * 2.0)
            e[2].append(v)
    assert len(pool.runs) > 3
    got = [(f, t, ids, ws, vs) for f, t, ids, ws, vs in pool.terms()]
    assert [(f, t) for f, t, *_ in got] == sorted(expected)
    assert all((ids, ws, vs) == expected[(f, t)] for f, t, ids, ws, vs in got)
    pool.close()


def test_a_merge_without_new_documents_writes_the_same_index(tmp_path):
    """Deletions and a merge, nothing added: the postings go through FieldWriter.add_postings."""
    docs = _sample_docs(n=300, seed=29)

    def build(path, ours=True):
        ix = _create(path, make_schema())
        for part in (docs[:100], docs[100:]):
            w = _writer(ix, ours)
            for i, text in enumerate(part):
                w.add_document(doc=f"s:{i}", kind="passage", title=text[:40], body=text)
            w.commit(merge=False)
        w = _writer(ix, ours)
        w.delete_by_term("doc", "s:3")
        w.commit(optimize=True)
        return ix

    ref = _dump_index(build(tmp_path / "whoosh", ours=False))
    assert len(ref) == 1
    assert _dump_index(build(tmp_path / "ours")) == ref


def test_a_writer_that_cannot_start_releases_the_lock(tmp_path, monkeypatch):
    """Whoosh takes the write lock, then writes the segment's first bytes: a failure there (a
    full disk) left the lock held for good."""
    ix = _create(tmp_path / "ix", make_schema())

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Writer, "_setup_doc_offsets", full)     # inside Whoosh's __init__
    with pytest.raises(OSError):
        Writer.open(ix)
    monkeypatch.undo()
    w = Writer.open(ix)        # the lock is free
    w.abandon()
    assert ix.lock("WRITELOCK").acquire(False)


def test_documents_of_varied_field_names_boosts_and_stored_values(tmp_path):
    """add_document remembers what to do per tuple of field names: documents whose names come
    in other orders, with a field's or the document's boost, or a custom stored value, are
    written as Whoosh writes them."""
    docs = _sample_docs(n=300, seed=5)

    def build(path, ours=True):
        ix = _create(path, make_schema())
        w = _writer(ix, ours)
        for i, text in enumerate(docs):
            kind = i % 5
            if kind == 0:
                w.add_document(doc=f"s:{i}", body=text, title=text[:40], line_start=i)
            elif kind == 1:
                w.add_document(title=text[:40], doc=f"s:{i}", body=text, _title_boost=2.5)
            elif kind == 2:
                w.add_document(doc=f"s:{i}", body=text, _boost=1.5, _stored_body="stored " + text[:10])
            elif kind == 3:
                w.add_document(doc=f"s:{i}", body=text, _body_boost=0.5, _boost=2.0, authors="Ada Lovelace")
            else:
                w.add_document(doc=f"s:{i}", body=text if i % 2 else None, title=None, meta="key2020 2020")
        w.commit()
        return ix

    ref = _dump_index(build(tmp_path / "whoosh", ours=False))
    assert _dump_index(build(tmp_path / "ours")) == ref


def test_a_field_added_while_writing_is_written(tmp_path):
    from whoosh.fields import UnknownFieldError

    ix = _create(tmp_path / "ix", make_schema())
    w = Writer.open(ix)
    with pytest.raises(UnknownFieldError):
        w.add_document(doc="p:1", extra="first words")
    w.add_field("extra", fields.TEXT(stored=True))
    w.add_document(doc="p:1", extra="first words")
    w.commit()
    with ix.searcher() as s:
        assert [hit["extra"] for hit in s.documents()] == ["first words"]
        assert list(s.lexicon("extra")) == [b"first", b"words"]


def test_a_block_is_minified_as_whoosh_minifies_it():
    from array import array

    from whoosh.codec.whoosh3 import W3PostingsWriter

    rnd = random.Random(9)
    ours = writing.PostingsWriter.__new__(writing.PostingsWriter)
    ref = W3PostingsWriter.__new__(W3PostingsWriter)
    for k in range(2000):
        n = rnd.randint(0, 130)
        ids = sorted(rnd.sample(range(100000), n))
        choice = k % 4
        weights = ([1.0] * n if choice == 0 else [2.5] * n if choice == 1 else
                   [rnd.choice([1.0, 2.0, 3.5, float("nan")]) for _ in range(n)])
        for w in (ours, ref):
            w._byteids = False
            w._ids = array("I", ids)
            w._weights = array("f", weights)
        assert ours._mini_ids() == ref._mini_ids()
        a, b = ours._mini_weights(), ref._mini_weights()
        assert repr(a) == repr(b)      # (nan != nan)


def test_counted_postings_with_a_term_counted_more_than_the_table_holds(tmp_path):
    """A term more often in one document than frequency_values' table has rows, and documents
    whose body goes through Whoosh's own analysis (Chinese text) beside counted ones: the
    same index as Whoosh's."""
    docs = _sample_docs(n=200, seed=41)
    docs[5] += " " + " ".join(["recurring"] * 700)
    docs[6] += " recurring 神经网络 recurring"

    def build(path, ours=True, limitmb=128):
        ix = _create(path, make_schema())
        w = _writer(ix, ours, limitmb=limitmb)
        for i, text in enumerate(docs):
            w.add_document(doc=f"s:{i}", kind="passage", body=text, abstract=text[:300] or None)
        w.commit()
        return ix

    ref = _dump_index(build(tmp_path / "whoosh", ours=False))
    assert _dump_index(build(tmp_path / "ours")) == ref
    assert _dump_index(build(tmp_path / "spilled", limitmb=0.02)) == ref


@pytest.mark.parametrize("limitmb", [96, 0.05])
def test_the_side_file_gathered_while_writing_is_the_one_read_from_the_segment(tmp_path, monkeypatch, limitmb):
    """fast.SideFileData watches the terms as the writer writes them: the side file it writes
    is byte for byte the one read back from the segment's postings (which the worker no
    longer reads)."""
    from paperlens.core.index.whoosh import fast

    monkeypatch.setattr(fast, "TOPK", 8)
    monkeypatch.setattr(fast, "MIN_SEGMENT_DOCS", 32)
    docs = _sample_docs(n=400, seed=23)
    ix = _create(tmp_path / "ix", make_schema())
    w = Writer.open(ix, lock=False, limitmb=limitmb)
    w.side_data = data = fast.SideFileData()
    for i, text in enumerate(docs):
        w.add_document(_stored_doc=f"s:{i}", kind="passage", paper_id=f"p{i // 7}", path=f"p{i // 7}.txt",
                       title=docs[(i // 7) % len(docs)][:50], body=text,
                       abstract=text[:200] if i % 3 == 0 else None)
    segment = w.finish_segment()
    assert data.complete and data.lists["body"] and data.lists["abstract"]
    fast.write_side_file_of_segment(ix.storage, ix.schema, segment, tmp_path / "gathered", data)
    fast.write_side_file_of_segment(ix.storage, ix.schema, segment, tmp_path / "read")
    name = segment.segment_id() + fast.SUFFIX
    gathered = (tmp_path / "gathered" / name).read_bytes()
    assert gathered == (tmp_path / "read" / name).read_bytes()
    side = fast._Side(tmp_path / "gathered" / name)
    names, of, counts = side.paper_ordinals(segment.doc_count_all())
    assert len(names) == len(counts) == 58 and list(of[:8]) == [names.index("p0")] * 7 + [names.index("p1")]
