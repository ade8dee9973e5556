"""Indexing never hangs and never leaves a process behind (issue 13, cases 2 and 3).

The text taken from one PDF is capped (pages read stop once the budget of characters is spent;
a page is cut), every parse that can take long runs in a worker process that is timed out and
killed (in a big batch and in a small one), a stuck worker never keeps the rest from being
committed, and an update can be stopped from another thread or by the interpreter exiting.

Parsers that hang are simulated by the fault hook PAPERLENS_FAULT_HANG_ON (the worker blocks
on an event that never comes, after writing its pid to PAPERLENS_FAULT_HANG_MARK): the tests
wait for that mark, never for a time to pass.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fixtures.bomb_pdfs import make_shared_stream_pdf
from fixtures.pdfs import make_paper_pdf
from fixtures.processes import alive, marked_pids, wait_until

from paperlens.core.index.search import search
from paperlens.core.index.whoosh import store as store_mod
from paperlens.core.index.whoosh.store import POOL_MIN_FILES, IndexStore
from paperlens.core.parse import pdf

def paper_text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval. The "
            f"{word} method ranks passages well.\n\n1. Introduction\nReaders search libraries.\n")


# --- the text budget of one PDF --------------------------------------------------------------------

def test_a_shared_content_stream_is_read_only_until_the_budget_is_spent(tmp_path, monkeypatch):
    """Every page of this file draws the same stream: without a budget each page costs the whole
    stream again (issue 13: 1,000 pages of 541k characters). Pages stop once it is spent."""
    path = make_shared_stream_pdf(tmp_path / "shared.pdf", pages=60, operators=600)
    per_page = len(pdf.extract_pages(path, max_pages=1)[0].replace("\n", " "))
    assert 3000 < per_page < 4000        # 600 words "lorem " and the like, in lines
    monkeypatch.setattr(pdf, "MAX_FILE_CHARS", 10 * per_page)
    ex = pdf._extract(path)
    assert ex.total == 60
    assert len(ex.pages) == 10 and ex.over_budget      # 10 pages spend the budget exactly
    result = pdf.parse_pdf(path)
    assert ("shared.pdf: only the first 10 of 60 pages were read (the text read from one file "
            f"is capped at {10 * per_page:,} characters)") in result.warnings
    assert max(p.page for p in result.passages) == 10


def test_a_page_with_too_much_text_is_cut(tmp_path, monkeypatch):
    path = make_shared_stream_pdf(tmp_path / "dense.pdf", pages=3, operators=600)
    monkeypatch.setattr(pdf, "MAX_PAGE_CHARS", 500)
    ex = pdf._extract(path)
    assert ex.cut == [1, 2, 3] and not ex.over_budget
    assert all(0 < len(page) <= 500 for page in ex.pages)
    assert ("dense.pdf: page(s) 1, 2, 3 have more than 500 characters; the rest of each was "
            "left out") in pdf.parse_pdf(path).warnings


def test_an_ordinary_paper_is_read_whole(tmp_path):
    make_paper_pdf(tmp_path / "paper.pdf")
    ex = pdf._extract(tmp_path / "paper.pdf")
    assert not ex.cut and not ex.over_budget and len(ex.pages) == ex.total


# --- a parse that hangs is killed, in every path -----------------------------------------------------

@pytest.fixture
def hang(tmp_path, monkeypatch):
    """Workers block for good on files named ``*stuck.pdf``; a file may take 3 s of CPU time,
    and 15 s of wall-clock time whatever it uses (the backstop that kills a parse blocked
    without using CPU, as this one)."""
    mark = tmp_path / "hung-pids"
    monkeypatch.setenv("PAPERLENS_FAULT_HANG_ON", "stuck.pdf")
    monkeypatch.setenv("PAPERLENS_FAULT_HANG_MARK", str(mark))
    monkeypatch.setenv("PAPERLENS_PARSE_TIMEOUT", "3")
    monkeypatch.setenv("PAPERLENS_PARSE_WALL_TIMEOUT", "15")
    return mark


def small_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    make_paper_pdf(folder / "good.pdf", title="Wombat Retrieval for Readers")
    make_paper_pdf(folder / "stuck.pdf", title="A Paper That Never Ends")


TIMED_OUT = "parsing took longer than 15 s; skipped"


def test_small_folder_a_hung_pdf_is_killed_and_the_rest_committed(tmp_path, hang):
    """A small folder used to parse its PDFs in the indexing thread, where nothing can stop
    pdfium: one hostile PDF blocked the first commit (and shutdown) for 45 minutes."""
    folder = tmp_path / "lib"
    small_folder(folder)
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert report.skipped == [("stuck.pdf", TIMED_OUT)]
    assert sorted(r.title for r in store.table.rows) == ["Quokka Passage Ranking",
                                                          "Wombat Retrieval for Readers"]
    assert search([store], "wombat")[0].path == str(folder / "good.pdf")
    (pid,) = marked_pids(hang)
    assert not alive(pid), "the stuck worker was left running"
    # the incremental path too: a changed copy is parsed again, and killed again
    (folder / "stuck.pdf").write_bytes((folder / "stuck.pdf").read_bytes() + b"\n")
    (folder / "b.txt").write_text(paper_text("Numbat Search", "numbat"), encoding="utf-8")
    report = store.update()
    assert report.skipped == [("stuck.pdf", TIMED_OUT)] and not report.rebuilt
    assert "Numbat Search" in {r.title for r in store.table.rows}
    assert len(marked_pids(hang)) == 2 and not any(alive(p) for p in marked_pids(hang))
    store.close()


def test_worker_pool_a_hung_file_is_killed_and_the_rest_committed(tmp_path, hang):
    """In the worker pool the per-file timeout never fired: leaving ``with ProcessPoolExecutor``
    waited for the stuck worker. Now it is killed and its other files go to a fresh worker."""
    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(POOL_MIN_FILES + 4):
        (folder / f"p{i:02d}.txt").write_text(paper_text(f"Paper {i} On Ranking", f"zq{i}word"),
                                              encoding="utf-8")
    make_paper_pdf(folder / "p07-stuck.pdf", title="A Paper That Never Ends")
    store = IndexStore(folder, tmp_path / "ix", workers=2)
    report = store.update()
    assert report.rebuilt == "no index yet"
    assert report.skipped == [("p07-stuck.pdf", TIMED_OUT)]
    assert len(store.table.rows) == POOL_MIN_FILES + 4
    for i in (0, 7, POOL_MIN_FILES + 3):     # the stuck file's batch-mates among them
        assert search([store], f"zq{i}word")[0].title == f"Paper {i} On Ranking"
    assert not any(alive(p) for p in marked_pids(hang))
    store.close()


def test_a_crash_in_a_small_folder_costs_only_its_file(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    small_folder(folder)
    monkeypatch.setenv("PAPERLENS_FAULT_CRASH_ON", "stuck.pdf")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert report.skipped == [("stuck.pdf", "the parser crashed on this file (its worker process died)")]
    assert len(store.table.rows) == 2
    store.close()


def test_a_file_that_timed_out_is_parsed_again_at_the_next_update(tmp_path, hang, monkeypatch):
    """A timeout says nothing sure about a file (on a loaded machine it was two thirds of a
    library), yet it was recorded for good: the next update saw the same mtime and size and
    left the file out until it changed. Now it is parsed again, and indexed once it can be."""
    folder = tmp_path / "lib"
    small_folder(folder)
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    assert store.update().skipped == [("stuck.pdf", TIMED_OUT)]
    monkeypatch.delenv("PAPERLENS_FAULT_HANG_ON")         # the machine is no longer loaded
    report = store.update()
    assert report.skipped == [] and not report.rebuilt
    assert report.files_parsed == 1 and report.unusable == 0
    assert "A Paper That Never Ends" in {r.title for r in store.table.rows}
    store.close()


def test_a_crashed_file_is_retried_once_per_update(tmp_path, monkeypatch):
    """A file that killed its worker is parsed again at each update, once (never in a loop
    within one update); the other files are not parsed again."""
    folder = tmp_path / "lib"
    small_folder(folder)
    monkeypatch.setenv("PAPERLENS_FAULT_CRASH_ON", "stuck.pdf")
    crashed = [("stuck.pdf", "the parser crashed on this file (its worker process died)")]
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    assert store.update().skipped == crashed
    report = store.update()
    assert report.skipped == crashed and report.files_parsed == 0
    monkeypatch.delenv("PAPERLENS_FAULT_CRASH_ON")
    report = store.update()
    assert report.skipped == [] and report.files_parsed == 1
    assert len(store.table.rows) == 3
    store.close()


def test_the_real_hostile_pdf_is_indexed_within_its_budget(tmp_path):
    """Issue 13's file itself: 1,000 pages sharing one stream of 100k text operators. Only the
    first pages are read (the budget), and the folder's other papers are committed with it."""
    folder = tmp_path / "lib"
    folder.mkdir()
    make_shared_stream_pdf(folder / "bomb.pdf")
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert report.skipped == []
    read = [w for w in report.warnings if "pages were read" in w]
    assert read == ["bomb.pdf: only the first 10 of 1000 pages were read (the text read from one "
                    f"file is capped at {pdf.MAX_FILE_CHARS:,} characters)"]
    assert search([store], "quokka")[0].title == "Quokka Passage Ranking"
    store.close()


# --- stopping an update --------------------------------------------------------------------------------

def test_abort_stops_an_update_stuck_in_a_worker(tmp_path, hang, monkeypatch):
    """``IndexStore.abort`` (a process that is ending) kills the worker and the update returns
    without committing; the index stays as it was."""
    monkeypatch.setenv("PAPERLENS_PARSE_TIMEOUT", "3600")
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    assert store.update().papers_total == 1
    make_paper_pdf(folder / "stuck.pdf", title="A Paper That Never Ends")
    (folder / "b.txt").write_text(paper_text("Numbat Search", "numbat"), encoding="utf-8")
    reports = []
    t = threading.Thread(target=lambda: reports.append(store.update()))
    t.start()
    wait_until(lambda: marked_pids(hang), "the worker to hang")
    store.abort()
    t.join(120)
    assert not t.is_alive(), "the update did not stop"
    (report,) = reports
    assert report.error == "indexing stopped: paperlens is exiting"
    assert [r.title for r in store.table.rows] == ["Quokka Passage Ranking"]
    assert not any(alive(p) for p in marked_pids(hang))
    assert not list((tmp_path / "ix").glob("*.tmp"))
    # the next process finds the old index and does the work
    again = IndexStore(folder, tmp_path / "ix", workers=1)
    monkeypatch.delenv("PAPERLENS_FAULT_HANG_ON")
    assert again.update().papers_total == 3
    again.close()


EXITING = r'''
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from paperlens.core.index.whoosh.store import IndexStore

folder, index, mark = (Path(a) for a in sys.argv[1:4])
store = IndexStore(folder, index, workers=1)
pool = ThreadPoolExecutor(1)           # the server's index thread
future = pool.submit(store.update)
while not (mark.exists() and mark.read_text().strip()):
    time.sleep(0.02)                   # until the worker is stuck in the "parser"
print("exiting", flush=True)
# the end of the script: the interpreter joins the index thread, as at the server's `exit`
'''


def test_interpreter_exit_does_not_wait_for_a_stuck_parse(tmp_path, hang):
    """The server's ``exit`` ends the interpreter, which joins the index thread: an update
    waiting on a stuck worker kept the process alive (for 45 minutes with issue 13's PDF)."""
    folder = tmp_path / "lib"
    small_folder(folder)
    env = {**os.environ, "PAPERLENS_PARSE_TIMEOUT": "3600"}
    proc = subprocess.Popen([sys.executable, "-c", EXITING, str(folder), str(tmp_path / "ix"), str(hang)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=120)      # a guard against a hang, not a bound
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out == "exiting\n"
    (pid,) = marked_pids(hang)
    assert not alive(pid)



# --- memory of an update -------------------------------------------------------------------------------

def test_an_incremental_update_writes_each_file_as_it_is_parsed(tmp_path, monkeypatch):
    """Every new file's passages were kept until all were parsed (a batch of new PDFs grew the
    server by their whole text); now each file's documents are written as it comes and only
    what the paper table needs is kept (as in a rebuild)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    for name in ("b", "c", "d"):
        (folder / f"{name}.txt").write_text(paper_text(f"Paper {name.upper()} On Search", f"{name}zz"),
                                            encoding="utf-8")
    events = []
    real_parse, real_add = store_mod._parse_job, IndexStore._add_docs

    def parse(folder_, rel):
        events.append(("parse", rel))
        return real_parse(folder_, rel)

    def add(self, writer, rel, res):
        events.append(("write", rel))
        return real_add(self, writer, rel, res)

    monkeypatch.setattr(store_mod, "_parse_job", parse)
    monkeypatch.setattr(IndexStore, "_add_docs", add)
    report = store.update()
    assert report.papers_indexed == 3 and not report.rebuilt
    assert events == [(kind, f"{n}.txt") for n in "bcd" for kind in ("parse", "write")]
    assert search([store], "czz")[0].title == "Paper C On Search"
    store.close()


def test_a_parse_whose_memory_grows_without_bound_is_stopped(tmp_path, monkeypatch):
    """A worker's heap is capped (PAPERLENS_WORKER_MEMORY_MB): a parse that keeps allocating
    fails there, its file is skipped, and the others are indexed."""
    folder = tmp_path / "lib"
    small_folder(folder)
    monkeypatch.setenv("PAPERLENS_FAULT_GROW_ON", "stuck.pdf")
    monkeypatch.setenv("PAPERLENS_WORKER_MEMORY_MB", "400")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert report.skipped == [("stuck.pdf", "parsing needed more memory than a parser process may "
                                            "use; skipped")]
    assert len(store.table.rows) == 2
    store.close()


# --- pdfium outside the indexer: one call in a worker ---------------------------------------------------

def test_a_call_in_a_worker_answers_and_is_killed_when_it_hangs(tmp_path):
    """For a PDF's text view (paperlens.openPaperText): pdfium in the server process cannot be
    interrupted, so it runs in a worker that a timeout kills."""
    import signal

    from paperlens.core.index import workers
    from paperlens.core.parse.common import ParseError

    make_paper_pdf(tmp_path / "paper.pdf", title="Wombat Retrieval for Readers")
    assert workers.call(pdf.extract_pages, tmp_path / "paper.pdf") == pdf.extract_pages(tmp_path / "paper.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really\n")
    with pytest.raises(ParseError, match="broken PDF"):
        workers.call(pdf.extract_pages, tmp_path / "broken.pdf")
    with pytest.raises(TimeoutError, match="took longer than 1 s"):
        workers.call(signal.pause, timeout=1)            # blocks for good
    assert [pid for pid in children() if "spawn_main" in cmdline(pid)] == []


def children() -> list[int]:
    """Live child processes of this one."""
    out = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            out.append(int(d))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
