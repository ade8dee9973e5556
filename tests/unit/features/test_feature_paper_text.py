"""core/features/paper_text.py in process: which PDFs get a text view, and the view itself (page
markers, read-only, the line map that reading features use)."""
from __future__ import annotations

import json
import os
import stat

from paperlens.core.features import paper_text
from paperlens.core.index import workers

from library_fixtures import REFS_BIB


def test_only_library_pdfs_get_a_view(build, tmp_path):
    f = build(REFS_BIB)
    assert paper_text.target(None, f.view) == {"error": "not a PDF"}
    assert paper_text.target(f.path("refs.bib"), f.view) == {"error": "not a PDF"}
    outside = tmp_path / "elsewhere.pdf"
    assert paper_text.target(outside, f.view)["error"].startswith("this PDF is not in the library")


def test_the_view_has_page_markers_and_a_line_map(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "call", lambda fn, path, timeout=None: ["one\ntwo", "three"])
    found = paper_text.Target(tmp_path / "p.pdf", "id1", tmp_path / "texts")
    view = paper_text.make(found)
    assert view.path == tmp_path / "texts" / "p-id1.txt" and view.pages == 2
    lines = view.path.read_text(encoding="utf-8").split("\n")
    assert lines[:5] == ["──────── page 1 of 2 · p.pdf ────────", "one", "two",
                         "──────── page 2 of 2 · p.pdf ────────", "three"]
    assert view.lines == [1, 2, 4]
    assert not os.stat(view.path).st_mode & stat.S_IWUSR
    assert json.loads(view.path.with_suffix(".json").read_text()) == {"pdf": str(found.pdf), "lines": [1, 2, 4]}
    assert paper_text.make(found).pages == 2                   # written again over the read-only one
