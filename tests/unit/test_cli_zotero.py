"""`--zotero DIR` and `--zotero-collection NAME` of `paperlens index/search/show/cite`: the
Zotero library read beside (or without) paper folders, read-only."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fixtures.zotero import build_library, file_hashes  # noqa: E402

from paperlens.cli import main  # noqa: E402


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err




@pytest.fixture
def zotero(tmp_path):
    data = tmp_path / "Zotero"
    build_library(data)
    return data


def test_index_cite_search_show_read_the_zotero_library(zotero, tmp_path, capsys):
    ix = str(tmp_path / "ix")
    files = file_hashes(zotero)
    code, out, err = run(capsys, "index", "--zotero", str(zotero), "--workers", "1", "--index-path", ix)
    assert code == 0, err
    assert f"Zotero library {zotero}: 7 items, 2 with a PDF or snapshot\n" in out and "7 items seen" in out
    code, out, _ = run(capsys, "cite", "sparse", "--zotero", str(zotero), "--index-path", ix, "--json")
    assert code == 0 and [r["key"] for r in json.loads(out)["results"]] == ["martin2021sparse"]
    code, out, _ = run(capsys, "search", "sparse probing budget", "--zotero", str(zotero),
                       "--index-path", ix, "--json")
    hits = json.loads(out)["results"]
    assert hits[0]["key"] == "martin2021sparse" and hits[0]["file"].endswith(".pdf") and hits[0]["page"]
    code, out, _ = run(capsys, "show", "keller2023probes", "--zotero", str(zotero), "--index-path", ix, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["paper"]["title"] == "Probes for Rankers"
    assert file_hashes(zotero) == files


def test_a_collection_and_paper_folders_together(zotero, tmp_path, capsys):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "refs.bib").write_text("@article{own2020, title={An Entry Of My Own}, year={2020}}\n",
                                     encoding="utf-8")
    code, out, err = run(capsys, "cite", "--dir", str(folder), "--zotero", str(zotero),
                         "--zotero-collection", "Classics", "--zotero-collection", "Other",
                         "--index-path", str(tmp_path / "ix"), "--limit", "20", "--json")
    assert code == 0, err
    assert sorted(r["key"] for r in json.loads(out)["results"]) == \
        ["green2015foundations", "own2020", "smith1999probabilistic"]


def test_flags_are_checked(zotero, tmp_path, capsys):
    code, _, err = run(capsys, "cite", "x", "--index-path", str(tmp_path / "ix"))
    assert code == 2 and "--zotero DIR" in err
    code, _, err = run(capsys, "cite", "x", "--dir", str(tmp_path), "--zotero-collection", "A",
                       "--index-path", str(tmp_path / "ix"))
    assert code == 2 and "needs --zotero" in err
    code, out, err = run(capsys, "index", "--zotero", str(tmp_path / "nowhere"), "--index-path",
                         str(tmp_path / "ix"))
    assert code == 0 and "skipped" in out
