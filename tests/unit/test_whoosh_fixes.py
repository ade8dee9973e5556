"""The reader of a segment must not hold a private copy of the segment's postings."""
import io
import random
import tracemalloc

from paperlens.core.index.store import _windex
from paperlens.core.index.whoosh_fixes import ViewFile


def test_view_file_reads_like_bytesio():
    data = b"first line\nsecond\n\nlast"
    ours, ref = ViewFile(memoryview(data)), io.BytesIO(data)
    for op in [("read", 3), ("readline",), ("tell",), ("seek", 2), ("read", 100), ("read", 5),
               ("seek", -4, io.SEEK_END), ("read", -1), ("seek", 1, io.SEEK_SET), ("seek", 3, io.SEEK_CUR),
               ("readline",), ("readline",), ("readline",), ("readline",), ("tell",)]:
        assert getattr(ours, op[0])(*op[1:]) == getattr(ref, op[0])(*op[1:]), op
    assert list(ViewFile(memoryview(data))) == list(io.BytesIO(data))


def test_opening_a_reader_does_not_copy_the_postings(tmp_path):
    from whoosh import fields
    from whoosh.query import Term

    index = _windex()
    ix = index.create_in(str(tmp_path), fields.Schema(body=fields.TEXT))
    rnd = random.Random(7)
    vocab = ["w%05d" % i for i in range(20000)]
    with ix.writer() as w:
        for _ in range(4000):
            w.add_document(body=" ".join(rnd.choice(vocab) for _ in range(60)))
    seg_bytes = sum(p.stat().st_size for p in tmp_path.glob("*.seg"))
    assert seg_bytes > 1_000_000
    ix = index.open_dir(str(tmp_path))
    tracemalloc.start()
    try:
        reader = ix.reader()
        with ix.searcher() as s:
            hits = [h.docnum for h in s.search(Term("body", vocab[1]))]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    reader.close()
    assert hits, "the term is in some documents"
    # before the fix, BytesIO copied the whole postings file: peak >= most of the segment size
    assert peak < seg_bytes / 4, (peak, seg_bytes)
