"""What a PostgreSQL index holds (schema.FORMAT 4) and an editor reading tables of another
format (against a real PostgreSQL server: tests/fixtures/postgres.py)."""
import logging

from paperlens.core.index import search as search_mod
from paperlens.core.index.postgres import schema as sch
from paperlens.core.index.postgres.store import PostgresIndex

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

PAPER = ("Zebra Stripes Theory\nAda One\nAbstract\nWe explain animal coats.\n\n"
         "1 Introduction\nPatterns on savanna animals are studied here.\n\n"
         "2 Method\nWe measure the width of the stripes in photographs.\n")


def make_folder(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "zebra.txt").write_text(PAPER, encoding="utf-8")
    return folder


def test_a_title_is_indexed_in_the_heads_only_and_still_ranks_the_body(tmp_path, pg_url):
    import psycopg

    folder = make_folder(tmp_path)
    index = PostgresIndex(folder, pg_url, workers=1)
    assert index.update().error == ""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute("SELECT kind, section, tsv @@ to_tsquery('english', 'zebra') FROM paperlens.passages"
                            " ORDER BY kind, n").fetchall()
    body = [has for kind, section, has in rows if kind == sch.PASSAGE and not section.startswith("abstract")]
    heads = [has for kind, section, has in rows if kind == sch.RECORD or section.startswith("abstract")]
    assert len(body) >= 2 and not any(body)       # the title's words: not in each body passage
    assert len(heads) == 2 and all(heads)         # in the record and the abstract
    # a body passage is still ranked with its paper's title (as a Whoosh passage is)
    # (every word in the title: each passage of the paper has them, as it had with the title
    # in it, and its words in the body rank it above the record)
    found = search_mod.search([index], "zebra stripes", limit=5)
    assert found and found[0].title == "Zebra Stripes Theory" and "stripes in photographs" in found[0].text
    # a phrase in the title, and one in the body
    assert search_mod.search([index], '"zebra stripes"', limit=5)[0].title == "Zebra Stripes Theory"
    assert "stripes in photographs" in search_mod.search([index], '"stripes in photographs"', limit=5)[0].text
    index.close()


def test_an_editor_on_tables_of_an_older_format_says_to_index_again(tmp_path, pg_url, caplog):
    import psycopg

    folder = make_folder(tmp_path)
    writer = PostgresIndex(folder, pg_url, workers=1)
    assert writer.update().error == ""
    with psycopg.connect(pg_url, autocommit=True) as conn:       # as an older paperlens left them
        conn.execute("UPDATE paperlens.meta SET format = %s", (sch.FORMAT - 1,))
    caplog.set_level(logging.INFO)
    reader = PostgresIndex(folder, pg_url, workers=1)
    assert reader.unavailable.startswith("the library's database was written by an older paperlens; "
                                         "run paperlens index --backend postgresql://paperlens@127.0.0.1:")
    assert "s3cret" not in reader.unavailable
    assert [r.title for r in reader.table.rows] == ["Zebra Stripes Theory"]      # completion still answers
    assert not reader.is_ready()
    assert list(search_mod.search([reader], "zebra")) == []
    assert reader.unavailable.startswith("the library's database was written by an older paperlens")
    assert reader.paper(reader.table.rows[0].id) is not None      # reads other than search still work
    assert reader.unavailable.startswith("the library's database was written by an older paperlens")
    assert "search failed" not in caplog.text

    # the writer rebuilds the tables in this format: the editor hears it and searches again
    report = writer.update()
    assert report.rebuilt == f"index format {sch.FORMAT - 1} -> {sch.FORMAT}"
    assert reader.reload_if_changed()
    assert reader.unavailable == "" and reader.is_ready()
    assert search_mod.search([reader], "zebra")[0].title == "Zebra Stripes Theory"
    writer.close()
    reader.close()


def test_a_rebuild_is_a_new_generation_for_the_editors(tmp_path, pg_url):
    folder = make_folder(tmp_path)
    writer = PostgresIndex(folder, pg_url, workers=1)
    writer.update()
    reader = PostgresIndex(folder, pg_url, workers=1)
    (folder / "more.txt").write_text("Okapi Necks\nBo Two\nAbstract\nLong ones.\n", encoding="utf-8")
    before = writer.stamp
    writer.update(force_rebuild=True)
    assert writer.stamp[-1] > before[-1]
    assert reader.reload_if_changed()
    assert sorted(r.title for r in reader.table.rows) == ["Okapi Necks", "Zebra Stripes Theory"]
    writer.close()
    reader.close()
