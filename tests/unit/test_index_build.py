"""How the index is written: the server's update pools few postings, a parallel build gives
each worker one batch of about the same size, and what the index stores per document."""
from paperlens.core.index.whoosh import store as store_mod
from paperlens.core.index.whoosh import writing
from paperlens.core.index.whoosh.store import IndexStore


def _paper(title: str, body: str) -> str:
    return f"{title}\nAda Lovelace1\n1University of Testing\nPreprint, 2020.\nAbstract\n{body}\n1. Introduction\n{body}\n"


def test_the_servers_incremental_writer_pools_at_most_32_mb(tmp_path, monkeypatch):
    """An update in the server's process spills its postings past 32 MB (Whoosh's default,
    128 MB, stayed in the server's heap after a big update)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(_paper("Gaze Estimation", "We estimate gaze."), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    limits = []
    real = writing.Writer.open.__func__

    def spy(cls, ix, **kwargs):
        writer = real(cls, ix, **kwargs)
        limits.append(writer.pool.limit)
        return writer

    monkeypatch.setattr(writing.Writer, "open", classmethod(spy))
    (folder / "b.txt").write_text(_paper("Radar Detection", "Radar simulation."), encoding="utf-8")
    report = store.update()
    assert not report.rebuilt and report.papers_total == 2
    assert limits and all(limit <= 32 * 1024 * 1024 for limit in limits), limits
    assert store_mod.INCREMENTAL_POOL_MB == 32


def test_only_paper_docs_have_their_id_as_a_term(tmp_path):
    """A passage's or record's ``doc`` id is stored, not indexed (nothing looks it up, and it
    was most of a segment's terms); a paper doc's is looked up by IndexStore.paper."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(_paper("Gaze Estimation", "We estimate gaze from webcams."), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    [row] = store.table.rows
    reader = store.searcher().reader()
    terms = sorted(t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("doc"))
    assert terms == [f"p:{row.id}"]
    stored = [f for _, f in reader.iter_docs()]
    ids = sorted(f["doc"] for f in stored)
    assert ids[0] == f"p:{row.id}" and f"r:{row.id}" in ids
    assert {i.rsplit(":", 1)[0] for i in ids if i.startswith("s:")} == {f"s:{row.id}"}
    assert store.paper(row.id).title == "Gaze Estimation"
    assert store.search("webcams", 5, 3, 1, set())


def test_a_stored_only_value_needs_a_stored_field(tmp_path):
    import pytest
    from whoosh import fields

    from paperlens.core.index.whoosh.storage import Storage

    ix = Storage(str(tmp_path)).create_index(fields.Schema(a=fields.ID(stored=True), b=fields.ID))
    with writing.Writer.open(ix) as w:
        w.add_document(_stored_a="kept", b="x")
        with pytest.raises(ValueError):
            w.add_document(_stored_b="not stored", a="y")
    with ix.searcher() as s:
        assert s.stored_fields(0) == {"a": "kept"} and s.doc_frequency("a", "kept") == 0


def test_a_parallel_build_gives_each_worker_one_batch_of_about_the_same_size(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "library.bib").write_text("@article{a, title={A}}\n" * 20000, encoding="utf-8")   # ~460 KB
    for i in range(60):
        (folder / f"p{i:02d}.txt").write_text(_paper(f"Paper {i}", "words " * (500 + 300 * (i % 7))),
                                              encoding="utf-8")
    rels = sorted(p.name for p in folder.iterdir())
    batches = store_mod.balanced_batches(folder, rels, 2)
    assert len(batches) == 2 and sorted(sum(batches, [])) == rels
    assert all(b == sorted(b) for b in batches)

    def cost(batch):    # bytes, and a fixed cost per file
        return sum((folder / r).stat().st_size + store_mod.FILE_COST_BYTES for r in batch)

    costs = [cost(b) for b in batches]
    assert max(costs) < 1.05 * min(costs), costs
    # every n-th file (the previous cut) put the bibliography on top of half of the rest
    old = [cost(rels[i::2]) for i in range(2)]
    assert max(old) > 1.3 * min(old), old
    assert store_mod.balanced_batches(folder, rels[:1], 2) == [rels[:1]]
    assert store_mod.balanced_batches(folder, [], 2) == []


def test_a_parallel_build_writes_one_segment_per_worker(tmp_path, monkeypatch):
    from paperlens.core.index import workers as workers_mod

    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(store_mod.POOL_MIN_FILES + 6):
        (folder / f"p{i:02d}.txt").write_text(_paper(f"Paper number {i}", f"topic{i} words here"), encoding="utf-8")
    tasks = []
    real = workers_mod.Parsers.run

    def spy(self, batch, mode="parse"):
        tasks.append((mode, [list(t) for t in batch]))
        return real(self, batch, mode)

    monkeypatch.setattr(workers_mod.Parsers, "run", spy)
    store = IndexStore(folder, tmp_path / "ix", workers=2)
    report = store.update()
    assert report.papers_total == store_mod.POOL_MIN_FILES + 6
    assert [(mode, len(batches)) for mode, batches in tasks] == [("segment", 2)]
    assert len(store.searcher().reader().leaf_readers()) == 2
    assert store.search("topic7", 5, 3, 1, set())[0][1].title == "Paper number 7"


def test_a_parallel_build_keeps_what_a_build_in_one_process_keeps(tmp_path):
    """The workers make each paper's references.jsonl line and its generated key's base (the
    process collecting their results no longer does): the same references.jsonl, keys and
    table as a build in one process."""
    folder = tmp_path / "lib"
    folder.mkdir()
    refs = "\nReferences\n[1] A. Turing. Computing machinery and intelligence. Mind, 1950.\n" \
           "[2] C. Shannon. A mathematical theory of communication. Bell System Technical Journal, 1948.\n"
    for i in range(store_mod.POOL_MIN_FILES + 6):
        text = _paper(f"Learning things number {i % 5}", f"topic{i} words here")   # keys collide
        (folder / f"p{i:02d}.txt").write_text(text + (refs if i % 3 else ""), encoding="utf-8")
    built = {}
    for workers in (1, 2):
        store = IndexStore(folder, tmp_path / f"ix{workers}", workers=workers)
        store.update()
        lines = (store.index_dir / "references.jsonl").read_text(encoding="utf-8").splitlines()
        built[workers] = (sorted(lines), sorted((r.id, r.key, r.title) for r in store.table.rows))
        store.close()
    assert built[2] == built[1]
    lines, rows = built[2]
    assert len(lines) == 20 and all("Computing machinery and intelligence" in line for line in lines)
    assert len({key for _, key, _ in rows}) == len(rows) == store_mod.POOL_MIN_FILES + 6
