"""The Zotero library read from Zotero's own database (issue 18), on fixtures built from
Zotero's real schema (tests/fixtures/zotero_schema)."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from fixtures.zotero import build_bbt, build_library, open_db  # noqa: E402

from paperlens.core.zotero import ZoteroError, changes, html_to_text, read_library  # noqa: E402
from paperlens.core.zotero import reader as zreader  # noqa: E402


@pytest.fixture(scope="module")
def fixture_lib(tmp_path_factory):
    data = tmp_path_factory.mktemp("z") / "Zotero"
    _, keys = build_library(data)
    return data, keys


def test_items_become_papers_with_zotero_metadata(fixture_lib):
    data, k = fixture_lib
    lib = read_library(data)
    items = lib.items
    sparse = items[k["sparse"]]
    p = sparse.paper
    assert (p.title, p.year, p.venue, p.doi) == (
        "Sparse Probing of Dense Retrievers for Scientific Literature Search", "2021",
        "Journal of Retrieval Studies", "10.1234/jrs.2021.042")
    assert p.authors == ["Martin, Alice", "Keller, Bruno", "Wei, Chen"]
    assert p.abstract.startswith("We propose a sparse probing method")
    assert p.url == "https://example.org/sparse" and p.entry_type == "article"
    assert p.source == str(data.resolve() / "zotero.sqlite") and p.source_kind == "zotero"
    assert sparse.tags == ["interpretability", "retrieval"]
    assert sparse.collections == [k["retrieval"]]
    assert sparse.notes == ["Read this twice: the probes & their budget."]
    assert sparse.select_url == f"zotero://select/library/items/{k['sparse']}"
    # the PDF stored under storage/<attachment key>/ is the item's full text
    pdf = data.resolve() / "storage" / k["sparse_pdf"] / "Martin et al. - 2021 - Sparse Probing.pdf"
    assert p.file == str(pdf) and sparse.full_text().content_type == "application/pdf"
    # an HTML snapshot is the full text of an item without a PDF
    rel = items[k["relevance"]]
    assert rel.paper.file.endswith("/relevance.html") and rel.paper.year == "1999"
    # conference paper: proceedingsTitle is its venue (base field publicationTitle); editors
    # are not authors; an arXiv URL gives the arXiv id
    dense = items[k["dense"]].paper
    assert dense.venue == "Proceedings of the Example Conference" and dense.authors == ["Brown, Carol"]
    assert dense.entry_type == "inproceedings" and dense.arxiv == "2004.01234" and dense.file == ""
    book = items[k["book"]].paper
    assert (book.entry_type, book.venue) == ("book", "Example Press")
    # the trash and notes are not papers
    assert k["trashed"] not in items and k["standalone_note"] not in items
    assert len(items) == 7
    lib.close()


def test_citation_keys_zotero_field_then_better_bibtex_then_generated(tmp_path):
    data = tmp_path / "Zotero"
    _, k = build_library(data, pdfs=False)
    lib = read_library(data)
    keys = {key: (it.key, it.key_source) for key, it in lib.items.items()}
    assert keys[k["cited"]] == ("keller2023probes", "zotero")
    assert keys[k["sparse"]] == ("martin2021sparse", "generated")
    assert lib.items[k["sparse"]].paper.key_generated
    assert not lib.items[k["cited"]].paper.key_generated
    # same stem: the earlier-added item keeps it, the later one gets a suffix
    assert keys[k["twin1"]][0] == "smith2001ranking" and keys[k["twin2"]][0] == "smith2001rankinga"
    lib.close()

    build_bbt(data, {k["dense"]: "Brown2020Dense", k["cited"]: "ignoredForField"})
    lib = read_library(data)
    assert (lib.items[k["dense"]].key, lib.items[k["dense"]].key_source) == ("Brown2020Dense", "better-bibtex")
    assert lib.items[k["cited"]].key == "keller2023probes"       # Zotero's field wins
    # a Better BibTeX key changed: changes() sees it without any item being modified
    build_bbt(data, {k["dense"]: "brownDense"})
    ch = changes(lib)
    assert [it.key for it in ch.changed] == ["brownDense"] and not ch.added and not ch.removed
    lib.close()


def test_generated_keys_do_not_change_when_items_are_added_and_survive_a_restart(tmp_path):
    data = tmp_path / "Zotero"
    _, k = build_library(data, pdfs=False)
    first = {key: it.key for key, it in read_library(data).items.items()}
    db = open_db(data)
    new = db.add_item("journalArticle", {"title": "Ranking Functions at Scale", "date": "2001"},
                      creators=[("Gina", "Smith")])
    # an explicit key equal to nobody's: no effect on generated ones either
    db.add_item("journalArticle", {"title": "Other", "citationKey": "zz2000other"}, creators=[("Zed", "Zz")])
    db.conn.close()
    again = read_library(data)
    second = {key: it.key for key, it in again.items.items()}
    assert {key: second[key] for key in first} == first
    assert second[new] == "smith2001rankingb"
    assert {key: it.key for key, it in read_library(data).items.items()} == second
    # a trashed item keeps its key reserved, and takes it back when restored
    db = open_db(data)
    db.trash(k["twin1"])
    trashed = read_library(data).items
    assert k["twin1"] not in trashed and trashed[k["twin2"]].key == "smith2001rankinga"
    db.restore(k["twin1"])
    db.conn.close()
    assert {key: it.key for key, it in read_library(data).items.items()} == second


def test_collections_filter_takes_subcollections(fixture_lib):
    data, k = fixture_lib
    lib = read_library(data, collections=["Retrieval"])
    assert set(lib.items) == {k["sparse"], k["relevance"], k["dense"]}
    assert set(read_library(data, collections=["Retrieval/Classics"]).items) == {k["relevance"]}
    assert set(read_library(data, collections=[k["other"]]).items) == {k["book"]}
    # keys do not depend on the filter
    assert lib.items[k["sparse"]].key == read_library(data).items[k["sparse"]].key


def test_changes_reads_only_the_changed_items(tmp_path, monkeypatch):
    data = tmp_path / "Zotero"
    _, k = build_library(data, pdfs=False)
    lib = read_library(data)
    loaded = []
    real = zreader._Reader.load

    def spy(self, ids):
        loaded.append(ids)
        return real(self, ids)

    monkeypatch.setattr(zreader._Reader, "load", spy)
    assert not changes(lib)
    assert loaded == []
    db = open_db(data)
    db.set_field(k["book"], "title", "Foundations of Statistical Retrieval, Second Edition")
    db.add_note(k["dense"], "<p>a child note changes its parent</p>")
    db.conn.close()
    ch = changes(lib)
    ids = sorted(loaded[0])
    conn = sqlite3.connect(data / "zotero.sqlite")
    want = sorted(conn.execute("SELECT itemID FROM items WHERE key IN (?, ?)", (k["book"], k["dense"])).fetchall())
    conn.close()
    assert ids == [w[0] for w in want]
    assert {it.item_key for it in ch.changed} == {k["book"], k["dense"]}
    assert ch.library.items[k["book"]].paper.title.endswith("Second Edition")
    assert ch.library.items[k["dense"]].notes == ["a child note changes its parent"]
    # the previous state is left as it was
    assert lib.items[k["book"]].paper.title == "Foundations of Statistical Retrieval"


def test_errors_are_clear(tmp_path):
    with pytest.raises(ZoteroError, match="zotero.sqlite not found"):
        read_library(tmp_path)
    (tmp_path / "zotero.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(ZoteroError):
        read_library(tmp_path)


def test_notes_as_text():
    assert html_to_text('<div data-schema-version="8"><h1>Title</h1><p>One &lt;two&gt;</p>'
                        '<script>x()</script><ul><li>a</li><li>b</li></ul></div>') == "Title\nOne <two>\na\nb"


def test_full_text_of_an_item_keeps_pages_and_zotero_metadata(fixture_lib):
    from fixtures.pdfs import REFERENCES

    from paperlens.core.zotero.fulltext import parse_item_text
    data, k = fixture_lib
    lib = read_library(data)
    item = lib.items[k["sparse"]]
    res = parse_item_text(item)
    (paper,) = res.papers
    assert (paper.id, paper.key, paper.doi, paper.source_kind) == (item.paper.id, "martin2021sparse",
                                                                 "10.1234/jrs.2021.042", "zotero")
    assert paper.file == item.full_text().path
    assert len(paper.references) == len(REFERENCES)
    assert res.passages and {p.paper_id for p in res.passages} == {item.paper.id}
    assert all(p.page and p.page >= 1 for p in res.passages) and res.passages[0].page == 1
    html = parse_item_text(lib.items[k["relevance"]])
    assert html.papers[0].key == "smith1999probabilistic"
    assert any("Relevance is estimated from term weights" in p.text for p in html.passages)
    assert parse_item_text(lib.items[k["dense"]]) is None      # no attachment
    lib.close()


def test_attachment_symlinked_out_of_storage_is_not_read(tmp_path):
    data = tmp_path / "Zotero"
    db = open_db(data)
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF-1.4 not yours")
    key = db.add_item("journalArticle", {"title": "Linked Out"}, creators=[("Ann", "Out")])
    att = db.add_attachment(key, "paper.pdf")
    (data / "storage" / att).mkdir(parents=True)
    (data / "storage" / att / "paper.pdf").symlink_to(outside)
    linked = db.add_item("journalArticle", {"title": "Linked File"}, creators=[("Bob", "Out")])
    db.add_attachment(linked, str(outside), link_mode=2)
    db.conn.close()
    lib = read_library(data)
    for k in (key, linked):
        item = lib.items[k]
        assert item.full_text() is None and item.paper.file == ""
    assert lib.items[linked].attachments[0].path == str(outside)    # known, not read
    lib.close()


def test_changes_follow_collection_membership(tmp_path):
    data = tmp_path / "Zotero"
    _, k = build_library(data, pdfs=False)
    lib = read_library(data, collections=["Other"])
    assert set(lib.items) == {k["book"]}
    db = open_db(data)
    other = db.conn.execute("SELECT collectionID FROM collections WHERE key=?", (k["other"],)).fetchone()[0]
    with db.conn:           # filed into "Other" (the item's own stamps do not move)
        db.conn.execute("INSERT INTO collectionItems VALUES (?, ?, 0)", (other, db.item_id(k["dense"])))
    ch = changes(lib)
    assert [it.item_key for it in ch.added] == [k["dense"]] and not ch.removed
    assert ch.added[0].key == "brown2020learned"
    with db.conn:
        db.conn.execute("DELETE FROM collectionItems WHERE itemID=?", (db.item_id(k["book"]),))
    ch2 = changes(ch.library)
    assert [it.item_key for it in ch2.removed] == [k["book"]] and not ch2.added
    db.conn.close()
    ch2.library.close()


def _view(lib):
    return {k: (it.key, it.key_source, it.paper.title, it.paper.year, tuple(it.tags), tuple(it.collections),
                tuple(it.notes), it.paper.file) for k, it in lib.items.items()}


def test_incremental_reads_agree_with_full_reads(tmp_path, monkeypatch):
    """A run of edits of every kind: after each, changes() gives what a full read gives, and
    reads everything again only after an erasure."""
    import random
    data = tmp_path / "Zotero"
    _, k = build_library(data, pdfs=False)
    lib = read_library(data)
    full_scans = []
    real = zreader._Reader.stamps

    def spy(self):
        full_scans.append(1)
        return real(self)

    monkeypatch.setattr(zreader._Reader, "stamps", spy)
    db = open_db(data)
    rnd = random.Random(5)
    colls = [db.conn.execute("SELECT collectionID FROM collections WHERE key=?", (k[c],)).fetchone()[0]
             for c in ("retrieval", "classics", "other")]
    erasures = 0
    for step in range(40):
        keys = [r[0] for r in db.conn.execute(
            "SELECT key FROM items WHERE itemTypeID IN (SELECT itemTypeID FROM itemTypesCombined "
            "WHERE typeName NOT IN ('note', 'attachment', 'annotation'))")]
        key = rnd.choice(keys)
        op = rnd.choice(["add", "title", "trash", "restore", "note", "collection", "uncollect", "pdf", "erase"])
        if op == "add":
            db.add_item("journalArticle", {"title": f"Ranking Functions Step {step}", "date": "2001"},
                        creators=[("Ray", "Smith")], tags=[f"t{step % 3}"])
        elif op == "title":
            db.set_field(key, "title", f"Retitled At Step {step}")
        elif op == "trash" and not db.conn.execute("SELECT 1 FROM deletedItems WHERE itemID=?",
                                                   (db.item_id(key),)).fetchone():
            db.trash(key)
        elif op == "restore":
            db.restore(key)
        elif op == "note":
            db.add_note(key, f"<p>note {step}</p>")
        elif op == "collection":
            with db.conn:
                db.conn.execute("INSERT OR IGNORE INTO collectionItems VALUES (?, ?, 0)",
                                (rnd.choice(colls), db.item_id(key)))
        elif op == "uncollect":
            with db.conn:
                db.conn.execute("DELETE FROM collectionItems WHERE itemID=?", (db.item_id(key),))
        elif op == "pdf":
            db.add_attachment(key, f"step{step}.pdf", content=b"%PDF-1.4 stub")
        elif op == "erase":
            db.delete(key)
            erasures += 1
        ch = changes(lib)
        fresh = read_library(data)
        assert _view(ch.library) == _view(fresh), (step, op)
        before, after = _view(lib), _view(ch.library)
        assert {it.item_key for it in ch.added} == set(after) - set(before)
        assert {it.item_key for it in ch.removed} == set(before) - set(after)
        # changed: every item that differs (and items saved without a visible difference)
        assert {it.item_key for it in ch.changed} >= {x for x in set(before) & set(after) if before[x] != after[x]}
        assert len(ch.changed) <= 2
        fresh.close()
        lib = ch.library
    db.conn.close()
    # full reads: one per read_library, plus one per changes() after an erasure
    assert len(full_scans) == 40 + erasures
    lib.close()


def test_group_library_items_link_to_their_group(tmp_path):
    data = tmp_path / "Zotero"
    db, k = build_library(data, pdfs=False, keep_open=True)
    with db.conn:
        db.conn.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (2, 'group', 1, 1)")
        db.conn.execute("INSERT INTO groups VALUES (4711, 2, 'Lab', '', 0)")
        db.conn.execute("UPDATE items SET libraryID=2 WHERE key=?", (k["twin2"],))
        db.conn.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (3, 'feed', 0, 0)")
        db.conn.execute("UPDATE items SET libraryID=3 WHERE key=?", (k["twin1"],))
    db.conn.close()
    lib = read_library(data)
    assert lib.items[k["twin2"]].select_url == f"zotero://select/groups/4711/items/{k['twin2']}"
    assert lib.items[k["twin2"]].library_id == 2
    assert k["twin1"] not in lib.items            # feed items are not the user's library
    assert lib.items[k["twin2"]].key == "smith2001ranking"
    lib.close()


def test_default_data_dir_follows_zoteros_preferences(tmp_path, monkeypatch):
    from paperlens.core.zotero import default_data_dir
    monkeypatch.delenv("APPDATA", raising=False)
    home = tmp_path / "home"
    assert default_data_dir(home) is None
    (home / "Zotero").mkdir(parents=True)
    (home / "Zotero" / "zotero.sqlite").write_bytes(b"")
    assert default_data_dir(home) == home / "Zotero"
    custom = tmp_path / 'My "Library"'
    custom.mkdir()
    (custom / "zotero.sqlite").write_bytes(b"")
    profile = home / ".zotero" / "zotero" / "abcd.default"
    profile.mkdir(parents=True)
    import json
    (profile / "prefs.js").write_text(
        f'user_pref("extensions.zotero.dataDir", {json.dumps(str(custom))});\n'
        'user_pref("extensions.zotero.useDataDir", true);\n', encoding="utf-8")
    assert default_data_dir(home) == custom
