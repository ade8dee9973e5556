"""An index that cannot be written, and an index with nothing in it (issue 13, cases 7 and 10).

A full disk is simulated in this process: every write to a file under the index directory
fails with ENOSPC, as a full disk fails it (the file is created, its bytes are refused). The
end-to-end tests (tests/e2e/test_attacks_index.py) fill a real tmpfs where the kernel allows.
"""
from __future__ import annotations

import builtins
import errno
import io
import logging
from pathlib import Path

import pytest

from paperlens.core.index.search import search, warm
from paperlens.core.index.whoosh.store import IndexStore
from paperlens.core.library import Library


def paper_text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval. The "
            f"{word} method ranks passages well.\n\n1. Introduction\nReaders search libraries.\n")


class _FullDiskFile:
    """A file opened for writing on a full disk: every non-empty write raises ENOSPC."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        if len(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        return 0

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __iter__(self):
        return iter(self._f)

    def __getattr__(self, name):
        return getattr(self._f, name)


@pytest.fixture
def full_disk(monkeypatch):
    """``full_disk(index_dir)`` makes the disk of ``index_dir`` full; ``full_disk(None)`` frees it."""
    real_open = builtins.open
    state = {"root": None, "refused": 0}

    def fake_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        root = state["root"]
        if root is not None and any(c in mode for c in "wax+") and isinstance(file, (str, Path)) \
                and str(Path(file).resolve()).startswith(root):
            state["refused"] += 1
            return _FullDiskFile(f)
        return f

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)

    def set_full(index_dir):
        state["root"] = str(Path(index_dir).resolve()) if index_dir is not None else None

    set_full.state = state
    return set_full


def _library(tmp_path) -> tuple[Path, IndexStore]:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    assert store.update().papers_total == 1
    return folder, store


def _leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir()
                  if p.suffix == ".tmp" or p.name.startswith(("whoosh.new-", "whoosh.old-")))


@pytest.mark.parametrize("rebuild", [False, True], ids=["incremental", "rebuild"])
def test_full_disk_says_so_and_keeps_the_old_index(tmp_path, full_disk, caplog, rebuild):
    """It was a raw traceback: the ENOSPC of the commit, hidden behind a second one raised by
    writer.cancel() while it flushed its buffers to the same full disk."""
    folder, store = _library(tmp_path)
    (folder / "b.txt").write_text(paper_text("Numbat Search", "numbat"), encoding="utf-8")
    full_disk(tmp_path / "ix")
    with caplog.at_level(logging.INFO, logger="paperlens"):
        report = store.update(force_rebuild=rebuild)
    assert full_disk.state["refused"] > 0
    assert report.error == f"disk full while writing the index at {tmp_path / 'ix'}"
    assert report.papers_indexed == 0
    assert any("[Errno 28] No space left on device" in r.getMessage() for r in caplog.records)
    # the old index, whole, in memory and on disk
    assert [r.title for r in store.table.rows] == ["Quokka Passage Ranking"]
    assert search([store], "quokka")[0].title == "Quokka Passage Ranking"
    assert search([store], "numbat") == []
    reopened = IndexStore(folder, tmp_path / "ix", workers=1)
    assert [r.title for r in reopened.table.rows] == ["Quokka Passage Ranking"]
    reopened.close()
    assert _leftovers(tmp_path / "ix") == []
    # room again: the same store (a running server) does the work, nothing locked or stale
    full_disk(None)
    report = store.update()
    assert report.error == "" and report.papers_total == 2
    assert search([store], "numbat")[0].title == "Numbat Search"
    store.close()


@pytest.mark.parametrize("replaced_by", ["failed update", "newer commit"])
def test_a_search_under_way_keeps_its_searcher(tmp_path, full_disk, replaced_by):
    """A failed update closed the searcher while a search on another thread read with it
    ("read from a closed segment file": the search found nothing and logged a traceback). The
    searcher a reader holds is closed when the reader is done, not under it."""
    folder, store = _library(tmp_path)
    (folder / "b.txt").write_text(paper_text("Numbat Search", "numbat"), encoding="utf-8")
    with store.reading() as reading:          # what a search on another thread holds
        if replaced_by == "failed update":
            full_disk(tmp_path / "ix")
            assert store.update().error.startswith("disk full")
            full_disk(None)
        else:
            assert store.update().papers_total == 2
            assert store.searcher() is not reading.searcher      # the newer commit's
        fields = reading.searcher.document(doc="p:" + store.table.rows[0].id)
        assert fields["data"]["title"] == "Quokka Passage Ranking"
        assert not reading.searcher.is_closed
    assert reading.searcher.is_closed          # closed by its last reader
    assert store._leases == {}
    assert search([store], "quokka")[0].title == "Quokka Passage Ranking"
    store.close()


def test_the_first_build_on_a_full_disk(tmp_path, full_disk):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    (tmp_path / "ix").mkdir()
    full_disk(tmp_path / "ix")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert report.error == f"disk full while writing the index at {tmp_path / 'ix'}"
    assert store.table.rows == [] and search([store], "quokka") == []
    assert _leftovers(tmp_path / "ix") == []
    store.close()


# --- an empty library ----------------------------------------------------------------------------------

def _empty(tmp_path, what: str) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    if what == "drafts only":
        (folder / "draft.md").write_text("---\nbibliography: refs.bib\n---\nAs shown in [@smith2020].\n",
                                         encoding="utf-8")
    return folder


@pytest.mark.parametrize("what", ["drafts only", "nothing at all"])
def test_an_empty_library_searches_quietly(tmp_path, caplog, what):
    """Every search and the warm-up raised AttributeError ('NoneType' object has no attribute
    'segment_id') in fast.py: an index without segments has Whoosh's EmptyReader."""
    folder = _empty(tmp_path, what)
    lib = Library([folder], str(tmp_path / "ix"))
    (report,) = lib.update()
    assert report.papers_total == 0 and not report.skipped
    assert lib.stores[0].is_ready()
    with caplog.at_level(logging.DEBUG, logger="paperlens"):
        lib.warm_search()
        warm(lib.stores)
        for query in ("attention", "neural attention mechanisms", "title:attention", "att*",
                      " ".join(f"word{i}" for i in range(30))):
            assert lib.search(query) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    lib.close()
