"""The library with odd input: a year written in superscript digits, a file event on a
symbolic link (issue 13: attack findings 7, and the watcher's paths)."""
from __future__ import annotations

import os

from paperlens.core.index.table import year_int
from paperlens.core.library import Library, event_path

BIB = """@article{good2017,
  title = {A Good Paper},
  author = {Good, Alice},
  year = {2017},
}
@article{odd2020,
  title = {An Odd Year},
  author = {Odd, Bruno},
  year = {\u00b2\u2070\u00b2\u2070},
}
"""


def test_year_int_takes_ascii_digits_only():
    assert year_int("2020") == 2020
    assert year_int("\u00b2\u2070\u00b2\u2070") is None       # isdigit() is True, int() raises
    assert year_int("\u0662\u0660\u0662\u0660") is None       # Arabic-Indic digits: no year either
    assert year_int("") is None and year_int(None) is None and year_int("9" * 400) is None


def test_completion_with_a_superscript_year(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "refs.bib").write_text(BIB, encoding="utf-8")
    library = Library([lib], str(tmp_path / "ix"), 1)
    try:
        library.update()
        rows, _total = library.complete("", 10)
        assert [r.key for r in rows] == ["good2017", "odd2020"]      # newest known year first
        rows, _total = library._complete_keys("", 10)                 # while the word index builds
        assert [r.key for r in rows] == ["good2017", "odd2020"]
    finally:
        library.close()


def test_an_event_on_a_link_stands_for_the_link(tmp_path):
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (lib / "sub" / "real.bib").write_text(BIB, encoding="utf-8")
    library = Library([lib], str(tmp_path / "ix"), 1)
    try:
        library.update()
        os.symlink(lib / "sub" / "real.bib", lib / "alias.bib")
        library.update_paths([str(lib / "alias.bib")])
        sources = {os.path.relpath(r.source, lib.resolve()) for r in library.rows()}
        assert sources == {"sub/real.bib", "alias.bib"}
        assert event_path(lib / "alias.bib") == lib.resolve() / "alias.bib"
    finally:
        library.close()
