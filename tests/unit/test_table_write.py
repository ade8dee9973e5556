"""The paper table written again after an update (core/index/table.py): the rows of the table
before, unchanged, are copied from its file; the file holds what a full write gives."""
import json
import os

from paperlens.core.index.table import PaperTable, Row


def _row(i: int, title: str = "", alias: str = "") -> Row:
    return Row(f"id{i}", f"key{i}", title or f"Título [{i}], \"quoted\" ]],[[", [f"Müller{i}", "Li"], "2020", "Venue",
               f"/lib/papers/p{i}.txt", i, "text" if alias else "bib", f"/lib/papers/p{i}.txt", "", "", alias)


def _full(rows, path, base="/lib"):
    PaperTable(rows).write(path, base)
    return path.read_bytes()


def test_a_rewrite_copies_unchanged_rows_and_gives_the_same_bytes(tmp_path):
    rows = [_row(i) for i in range(40)]
    first = PaperTable(rows)
    first.save(tmp_path / "table.json", "/lib")
    # an update: three rows gone, one re-parsed at the end, two new, one row's join changed
    kept = [r for r in rows if r.id not in ("id3", "id17", "id39")]
    kept[5].alias_of = "id9"
    kept += [_row(17, "Parsed again"), _row(40), _row(41)]
    second = PaperTable(kept)
    second.write(tmp_path / "table.tmp", "/lib", previous=first, changed=[kept[5]])
    assert (tmp_path / "table.tmp").read_bytes() == _full(kept, tmp_path / "fresh.json")
    assert [r[0] for r in json.loads((tmp_path / "table.tmp").read_text("utf-8"))] == [r.id for r in kept]
    os.replace(tmp_path / "table.tmp", tmp_path / "table.json")
    second.written(tmp_path / "table.json")
    # and again from that one (its row ends are those it wrote)
    third_rows = kept[10:] + kept[:10]
    PaperTable(third_rows).write(tmp_path / "table.tmp", "/lib", previous=second)
    assert (tmp_path / "table.tmp").read_bytes() == _full(third_rows, tmp_path / "fresh.json")
    assert PaperTable.load(tmp_path / "table.tmp", "/lib").rows == third_rows


def test_a_previous_file_changed_since_is_not_copied(tmp_path):
    rows = [_row(i) for i in range(10)]
    first = PaperTable(rows)
    first.save(tmp_path / "table.json", "/lib")
    (tmp_path / "table.json").write_text("[]", encoding="utf-8")       # another process wrote it
    PaperTable(rows).write(tmp_path / "table.tmp", "/lib", previous=first)
    assert (tmp_path / "table.tmp").read_bytes() == _full(rows, tmp_path / "fresh.json")


def test_a_loaded_table_finds_its_rows_in_its_file_and_copies_them(tmp_path):
    rows = [_row(i) for i in range(30)]
    PaperTable(rows).save(tmp_path / "table.json", "/lib")
    loaded = PaperTable.load(tmp_path / "table.json", "/lib")
    loaded.find_row_ends()
    assert loaded._file[3] is not None and len(loaded._file[3]) == 30
    changed = loaded.rows[:12] + [_row(99, "New")] + loaded.rows[13:]
    changed[4].alias_of = "id7"
    PaperTable(changed).write(tmp_path / "table.tmp", "/lib", previous=loaded, changed=[changed[4]])
    assert (tmp_path / "table.tmp").read_bytes() == _full(changed, tmp_path / "fresh.json")


def test_a_file_not_as_written_is_not_copied_from(tmp_path):
    rows = [_row(i) for i in range(5)]
    (tmp_path / "table.json").write_text(json.dumps(json.loads(_full(rows, tmp_path / "a.json")), indent=1),
                                         encoding="utf-8")        # spaced: the row ends cannot be found
    loaded = PaperTable.load(tmp_path / "table.json", "/lib")
    assert len(loaded.rows) == 5
    loaded.find_row_ends()
    assert loaded._written_file("/lib") is None
    PaperTable(loaded.rows).write(tmp_path / "table.tmp", "/lib", previous=loaded)
    assert (tmp_path / "table.tmp").read_bytes() == _full(rows, tmp_path / "fresh.json")
