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
