"""An editor's paper table read from PostgreSQL comes with its key and id lookups made (by the
reload, on the poller's thread): the first completion, hover or definition after it builds none
(against a real PostgreSQL 15: tests/fixtures/postgres.py)."""
from __future__ import annotations

from paperlens.core.index import table as table_mod
from paperlens.core.index.postgres.store import PostgresIndex

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url


def test_a_table_read_from_the_database_has_its_lookups(tmp_path, pg_url, monkeypatch):
    folder = tmp_path / "lib"
    folder.mkdir()
    for name, title, year in (("a", "Alpha Networks", 2019), ("b", "Beta Graphs", 2021), ("c", "Gamma Codes", 2020)):
        (folder / f"{name}.bib").write_text(f"@article{{{name}{year},\n  title = {{{title}}},\n"
                                            f"  author = {{Ada {name.upper()}mann}},\n  year = {{{year}}},\n}}\n",
                                            encoding="utf-8")
    writer = PostgresIndex(folder, pg_url, workers=1)
    assert writer.update().error == ""
    built: list = []
    real = table_mod.PaperTable._build_ids
    monkeypatch.setattr(table_mod.PaperTable, "_build_ids", lambda self: (built.append(self), real(self))[1])
    reader = PostgresIndex(folder, pg_url, workers=1)
    try:
        assert built == [reader.table]        # made by the reload
        table = reader.table
        assert [r.key for r in table.find("b2021")] == ["b2021"]
        assert table.get(table.find("a2019")[0].id).title == "Alpha Networks"
        assert table.text_row(str(folder / "c.bib")) is None
        assert built == [reader.table]        # the requests built nothing
    finally:
        reader.close()
        writer.close()
