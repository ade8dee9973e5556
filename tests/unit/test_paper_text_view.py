"""paperlens.server.openPaperText: the PDF is read by pdfium in a time-limited worker process waited
for off the event loop (it ran pdfium on the loop: a hostile PDF blocked every request, and
pdfium cannot be interrupted). A PDF that takes too long or cannot be read gets a clear answer."""
from __future__ import annotations

import asyncio
import os
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures.pdfs import make_paper_pdf
from paperlens.core.index import workers
from paperlens.lsp.features import usages

HANG_GUARD = 120.0     # only so that a broken test fails instead of hanging the run


class FakeLibrary:
    def __init__(self, pdf: Path, index_dir: Path):
        self.pdf = pdf
        self.index_dir = index_dir

    def row_for_file(self, path):
        return SimpleNamespace(id="p1") if Path(path) == self.pdf else None

    def text_view_dir(self, path):
        return self.index_dir / "texts" if Path(path) == self.pdf else None


def fake_ls(pdf: Path, index_dir: Path):
    session = SimpleNamespace(library=FakeLibrary(pdf, index_dir), paper_text_views={}, paper_text_lines={})
    return SimpleNamespace(session=session, client_capabilities=None)


async def test_the_pdf_is_read_in_a_worker_off_the_event_loop(tmp_path, monkeypatch):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF")
    ls = fake_ls(pdf, tmp_path / "ix")
    loop = asyncio.get_running_loop()
    loop_answered = threading.Event()
    calls = []

    def call(fn, *args, timeout=None):
        calls.append((fn.__name__, args, threading.current_thread() is threading.main_thread()))
        loop.call_soon_threadsafe(loop_answered.set)    # runs only if the loop is free
        assert loop_answered.wait(HANG_GUARD)
        return ["first page\nline two", "second page"]

    monkeypatch.setattr(workers, "call", call)
    result = await asyncio.wait_for(usages.open_paper_text_async(ls, [pdf.as_uri()]), HANG_GUARD)
    assert calls == [("extract_pages", (pdf,), False)]
    assert result["pages"] == 2
    view = Path(result["uri"].removeprefix("file://"))
    assert view.read_text(encoding="utf-8").split("\n")[:4] == [
        "──────── page 1 of 2 · paper.pdf ────────", "first page", "line two",
        "──────── page 2 of 2 · paper.pdf ────────"]
    assert not os.stat(view).st_mode & stat.S_IWUSR
    assert ls.session.paper_text_views[str(view)] == str(pdf)


@pytest.mark.parametrize("failure, said", [
    (TimeoutError("took longer than 120 s"), "reading this PDF took longer than"),
    (RuntimeError("the worker process died"), "this PDF could not be read"),
])
async def test_a_pdf_that_cannot_be_read_gets_an_answer(tmp_path, monkeypatch, failure, said):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF")

    def call(fn, *args, timeout=None):
        raise failure

    monkeypatch.setattr(workers, "call", call)
    result = await usages.open_paper_text_async(fake_ls(pdf, tmp_path / "ix"), [pdf.as_uri()])
    assert said in result["error"]
    assert not (tmp_path / "ix" / "texts").exists()


async def test_a_real_pdf_and_a_broken_one(tmp_path):
    pdf, broken = tmp_path / "paper.pdf", tmp_path / "broken.pdf"
    make_paper_pdf(pdf, title="Wombat Retrieval for Readers")
    broken.write_bytes(b"%PDF-1.4\nnot really\n")
    result = await usages.open_paper_text_async(fake_ls(pdf, tmp_path / "ix"), [pdf.as_uri()])
    assert result["pages"] >= 1
    assert "Wombat Retrieval for Readers" in Path(result["uri"].removeprefix("file://")).read_text(encoding="utf-8")
    result = await usages.open_paper_text_async(fake_ls(broken, tmp_path / "ix"), [broken.as_uri()])
    assert "broken PDF" in result["error"]
