"""The Zotero library as a store of the Library (core/zotero/store.py): items as papers of the
table, their PDFs' text searchable with pages, their reference lists in the citation graph,
one paper with a folder's .bib entry of the same paper, updates that rewrite only what changed."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fixtures.zotero import build_library, file_hashes, open_db  # noqa: E402

from paperlens.core.library import Library  # noqa: E402




@pytest.fixture
def zotero(tmp_path):
    data = tmp_path / "Zotero"
    _, keys = build_library(data)
    return data, keys


def _library(tmp_path, data, folders=(), collections=None):
    return Library(list(folders), str(tmp_path / "ix"), workers=1, zotero=(str(data), collections, False))


def test_items_are_papers_with_their_pdf_text_pages_and_references(tmp_path, zotero):
    data, k = zotero
    files = file_hashes(data)
    lib = _library(tmp_path, data)
    try:
        report = lib.update()[-1]
        assert not report.error and report.papers_total == 7 and report.files_parsed == 2
        keys = lib.keys()
        assert {"martin2021sparse", "keller2023probes", "smith1999probabilistic"} <= keys
        assert "white2019discarded" not in keys                    # trashed
        row = lib.resolve("martin2021sparse")
        assert row.title.startswith("Sparse Probing") and row.doi == "10.1234/jrs.2021.042"
        # the PDF is the paper text of the item: its text view and reference list are found by it
        assert row.file.endswith(".pdf") and row.source == row.file
        assert lib.row_for_file(row.file).id == row.id
        assert lib.summary_inputs(row) is not None             # summaries have its text
        paper = lib.paper(row)
        assert paper.venue == "Journal of Retrieval Studies" and paper.references
        hits = lib.search("sparse probing budget")
        assert hits and hits[0].key == "martin2021sparse" and hits[0].path == row.file and hits[0].page
        notes = lib.search("probes budget twice")
        assert any(h.key == "martin2021sparse" for h in notes)     # the child note is searchable
        assert row.id in dict(lib.zotero.reference_lines())         # the graph reads its references
        cited = {lib.row(c).key for c in lib.graph().cites.get(row.id, {})}
        assert cited == {"smith1999probabilistic", "brown2020learned"}   # Zotero items its PDF cites
        plain = lib.resolve("keller2023probes")
        assert not plain.file and plain.source == str(data.resolve() / "zotero.sqlite")
        assert lib.zotero_link(plain) == f"zotero://select/library/items/{k['cited']}"
        status = lib.zotero_status()
        assert status["items"] == 7 and status["found"] == "configured" and not status["error"]
    finally:
        lib.close()
    assert file_hashes(data) == files                                   # Zotero's files untouched


def test_a_bib_entry_and_a_zotero_item_of_the_same_paper_are_one_paper(tmp_path, zotero):
    data, _k = zotero
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "refs.bib").write_text(
        "@article{relevance99,\n title={Probabilistic Models of Document Relevance},\n"
        " author={Smith, Anna and Jones, Ben},\n year={1999},\n doi={10.1234/JRS.1999.7}}\n",
        encoding="utf-8")
    lib = _library(tmp_path, data, [folder])
    try:
        lib.update()
        entry = lib.resolve("relevance99")
        assert entry.source_kind == "bib"
        assert lib.resolve("smith1999probabilistic").id == entry.id     # the Zotero key: the same card
        rows, _n = lib.complete("probabilistic relevance")
        assert [r.key for r in rows] == ["relevance99"]                  # offered once
        assert len([r for r in lib.rows() if not r.alias_of]) == 1 + 6
    finally:
        lib.close()


def test_updates_follow_zotero_and_a_restart_reads_nothing_again(tmp_path, zotero):
    data, k = zotero
    lib = _library(tmp_path, data)
    try:
        lib.update()
        db = open_db(data)
        db.set_field(k["dense"], "title", "Learned Dense Representations, Revised Edition")
        db.trash(k["book"])
        new = db.add_item("journalArticle", {"title": "A Brand New Item", "date": "2024"},
                          creators=[("Hana", "Novak")])
        db.conn.close()
        report = lib.update()[-1]
        assert report.papers_indexed == 2 and report.files_removed == 1 and report.files_parsed == 0
        assert "novak2024brand" in lib.keys() and "green2015foundations" not in lib.keys()
        assert lib.resolve("brown2020learned").title == "Learned Dense Representations, Revised Edition"
        assert lib.search("revised edition")[0].key == "brown2020learned"
        assert all(h.key != "green2015foundations" for h in lib.search("foundations statistical retrieval"))
        assert lib.zotero.zotero.items[new].key == "novak2024brand"
    finally:
        lib.close()
    again = _library(tmp_path, data)
    try:
        report = again.update()[-1]
        assert (report.papers_indexed, report.files_parsed, report.rebuilt) == (0, 0, "")
        assert "novak2024brand" in again.keys() and again.search("sparse probing")[0].page
    finally:
        again.close()


def test_collections_limit_the_library(tmp_path, zotero):
    data, _k = zotero
    lib = _library(tmp_path, data, collections=["Retrieval"])
    try:
        lib.update()
        assert lib.keys() == {"martin2021sparse", "smith1999probabilistic", "brown2020learned"}
    finally:
        lib.close()


def test_a_missing_library_is_said_and_nothing_else_stops(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "refs.bib").write_text("@article{a1, title={One}, year={2000}}\n", encoding="utf-8")
    (tmp_path / "NoZotero").mkdir()
    lib = _library(tmp_path, tmp_path / "NoZotero", [folder])
    try:
        reports = lib.update()
        assert not reports[0].error and "zotero.sqlite not found" in reports[1].error
        assert lib.keys() == {"a1"}
        assert "zotero.sqlite not found" in lib.zotero_status()["error"]
    finally:
        lib.close()


def test_texts_wait_for_a_newer_change(tmp_path, zotero):
    """hurry() (a newer Zotero change is queued) ends the update before the attachments'
    texts: the metadata is committed, the texts are left for the next update."""
    data, _k = zotero
    lib = _library(tmp_path, data)
    try:
        z = lib.zotero
        original = z._write_texts

        def hurried(report, wanted, progress):
            z.hurry()
            original(report, wanted, progress)

        z._write_texts = hurried
        report = lib.update()[-1]
        assert report.files_parsed == 0 and z.texts_pending == 2
        assert "martin2021sparse" in lib.keys()
        del z._write_texts
        report = lib.update()[-1]
        assert report.files_parsed == 2 and z.texts_pending == 0
        assert lib.search("sparse probing budget")[0].page
    finally:
        lib.close()


def test_private_copies_stay_in_the_index_folder_and_a_killed_process_s_are_removed(tmp_path, zotero):
    data, _k = zotero
    lib = _library(tmp_path, data)
    copies = lib.zotero.index_dir / "zotero-copy"
    stale = copies / "999999999"          # a process that ended without removing its copy
    (stale / "paperlens-zotero-x").mkdir(parents=True)
    (stale / "paperlens-zotero-x" / "zotero.sqlite").write_bytes(b"old copy")
    try:
        lib.update()
        assert not stale.exists()
        assert list((copies / str(os.getpid())).glob("*/zotero.sqlite"))
        assert all(lib.zotero.owns(p.name) for p in lib.zotero.index_dir.iterdir())
    finally:
        lib.close()
    assert not list(copies.rglob("zotero.sqlite"))       # removed with the library


def test_a_missing_data_folder_is_said_in_the_status(tmp_path):
    lib = _library(tmp_path, tmp_path / "Nowhere")
    try:
        lib.update()
        assert "does not exist" in lib.zotero_status()["error"]
    finally:
        lib.close()


def test_the_table_and_manifest_are_written_as_the_folder_store_writes_them(tmp_path, zotero):
    from paperlens.core import corpus
    from paperlens.core.index.table import PaperTable

    data, _k = zotero
    lib = _library(tmp_path, data)
    try:
        lib.update()
        z = lib.zotero
        z.own_table.write(tmp_path / "expected-table.json", str(z.folder))
        assert (z.index_dir / "table.json").read_bytes() == (tmp_path / "expected-table.json").read_bytes()
        expected = "".join(corpus.manifest_chunks(z.manifest, folder=str(z.folder)))
        assert (z.index_dir / "manifest.json").read_text(encoding="utf-8") == expected
        loaded = PaperTable.load(z.index_dir / "table.json", str(z.folder))
        assert not loaded.damaged and [r.key for r in loaded.rows] == [r.key for r in z.own_table.rows]
    finally:
        lib.close()


def test_a_new_item_is_offered_by_its_key_before_the_word_index_is_built(tmp_path, zotero):
    data, _k = zotero
    lib = _library(tmp_path, data)
    lib.tables_built_behind = True               # as the server has it
    try:
        lib.update()
        lib.build_tables()
        db = open_db(data)
        db.add_item("journalArticle", {"title": "Right After The Commit", "date": "2024"},
                    creators=[("Ida", "Quick")])
        db.conn.close()
        lib.update_paths([str(data / "zotero.sqlite")])
        rows, total = lib.complete("quick2024", 10)
        assert [r.key for r in rows] == ["quick2024right"] and total > len(rows)   # incomplete: ask again
        lib.build_tables()
        rows, total = lib.complete("quick right commit", 10)                      # by its words once built
        assert [r.key for r in rows] == ["quick2024right"] and total == 1
    finally:
        lib.close()


def test_a_first_read_of_many_items_is_citable_while_their_documents_are_written(tmp_path, zotero, monkeypatch):
    from paperlens.core.zotero import store as zstore

    data, _k = zotero
    monkeypatch.setattr(zstore, "EARLY_TABLE_ITEMS", 5)
    lib = _library(tmp_path, data)
    seen = []
    real = zstore.add_docs

    def spy(writer, rel, res):
        if not seen:
            seen.append(sorted(r.key for r in lib.zotero.table.rows))
        real(writer, rel, res)

    monkeypatch.setattr(zstore, "add_docs", spy)
    try:
        lib.update()
        assert seen and "keller2023probes" in seen[0] and len(seen[0]) == 7
        assert lib.paper(lib.resolve("keller2023probes")).venue == "Transactions on Example Systems"
    finally:
        lib.close()


@pytest.mark.parametrize("content", ["garbage", "other-database"])
def test_a_damaged_database_is_said_and_the_folders_are_indexed(tmp_path, content):
    import sqlite3

    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "refs.bib").write_text("@article{a1, title={One}, year={2000}}\n", encoding="utf-8")
    data = tmp_path / "Zotero"
    data.mkdir()
    if content == "garbage":
        (data / "zotero.sqlite").write_bytes(b"\x00not a database at all" * 100)
    else:
        conn = sqlite3.connect(data / "zotero.sqlite")
        conn.execute("CREATE TABLE items (x)")
        conn.commit()
        conn.close()
    lib = _library(tmp_path, data, [folder])
    try:
        reports = lib.update()
        assert not reports[0].error and reports[1].error.startswith("the Zotero library was not read")
        assert lib.keys() == {"a1"} and lib.zotero_status()["error"]
    finally:
        lib.close()


def test_the_attachments_folder_is_readable_by_requests(tmp_path, zotero):
    data, _k = zotero
    lib = _library(tmp_path, data)
    try:
        assert data.resolve() / "storage" in lib.readable_folders()
        assert set(lib.text_view_dirs()) <= set(lib.readable_folders())
    finally:
        lib.close()


def test_a_failed_update_leaves_no_texts_pending(tmp_path, zotero):
    """The server updates again at once while texts are pending: a failure must not say so
    (an update failing on a full disk would be retried in a loop)."""
    data, _k = zotero
    lib = _library(tmp_path, data)
    z = lib.zotero

    def full_disk(report, wanted, batch):
        z.texts_pending = 2
        raise OSError(28, "No space left on device")

    z._text_batch = full_disk
    try:
        report = lib.update()[-1]
        assert "disk full" in report.error and z.texts_pending == 0
        assert "martin2021sparse" in lib.keys()           # the metadata was committed before
    finally:
        lib.close()


def test_an_item_without_a_pdf_opens_in_zotero(tmp_path, zotero):
    """Its definition and its card pointed at zotero.sqlite; they open the item in Zotero.
    An item with a PDF still opens the PDF."""
    from paperlens.core.features import definition, hover
    from paperlens.core.features.document import make_snapshot
    from paperlens.core.features.view import LocalView

    data, k = zotero
    lib = _library(tmp_path, data)
    try:
        lib.update()
        view = LocalView(lib)
        draft = tmp_path / "draft.md"
        text = "Probes explain rankings [@keller2023probes] and sparsity helps [@martin2021sparse].\n"
        doc = make_snapshot(draft.as_uri(), text, "markdown", draft)
        link = f"zotero://select/library/items/{k['cited']}"
        (loc,) = definition.definition(doc, text.index("keller2023"), view)
        assert loc.uri == link
        assert f"[Open in Zotero]({link})" in hover.card(view, lib.resolve("keller2023probes"))
        (loc,) = definition.definition(doc, text.index("martin2021"), view)
        assert loc.uri is None and loc.path.endswith(".pdf")
        assert "Open in Zotero" not in hover.card(view, lib.resolve("martin2021sparse"))
    finally:
        lib.close()
