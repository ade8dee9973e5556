"""A file's deadline is its worker's CPU time, none runs while a segment is written out, and a
file skipped for its time is parsed again at the next update (issue 14, "Broken" 1: on a
loaded machine, `paperlens index` of 10k papers with 2 workers skipped 6,668 of 10,002 files).

The jobs (tests/fixtures/worker_jobs.py) measure what they wait for themselves and share no
lock or Event with the test (a SIGKILLed waiter makes ``multiprocessing.Event.set`` wait for
good). No test asserts a duration: each job's wall-clock or CPU time is the situation set up,
and the assertions are about which files were parsed or skipped and why.
"""
from __future__ import annotations

import functools
import os

import pytest

from fixtures.worker_jobs import burn_on, heavy_write_out, idle_on

from paperlens.core import corpus
from paperlens.core.index import workers

needs_proc = pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/stat"),
                                reason="CPU time of another process is read in /proc")


@pytest.fixture(autouse=True)
def no_wall_backstop(monkeypatch):
    """The wall-clock backstop far away: only a CPU budget or none is at stake here (a loaded
    machine never makes these tests fail)."""
    monkeypatch.setenv("PAPERLENS_PARSE_WALL_TIMEOUT", "3600")


def run(tmp_path, tasks, mode="parse", **kwargs):
    parsers = workers.Parsers(str(tmp_path), 1, **kwargs)
    try:
        return list(parsers.run(tasks, mode))
    finally:
        parsers.close()


@needs_proc
def test_writing_out_a_segment_has_no_deadline(tmp_path):
    """After a batch's last file its worker writes out the whole segment (flush, compound file,
    side file: a third of the batch's CPU). That ran under the last file's deadline: 6,667
    files were skipped, "writing the index took longer than 120 s". Here writing out takes 3
    times a file's budget (of CPU, hence at least as much wall-clock time): nothing is
    skipped."""
    out = run(tmp_path, [["a.pdf", "b.pdf"]], "segment", parse=None,
              segment=functools.partial(heavy_write_out, 3.0), timeout=1.0)
    assert out == [("segment", "segment of a.pdf,b.pdf", [("a.pdf", None, ""), ("b.pdf", None, "")])]


@needs_proc
def test_a_file_slow_in_wall_clock_time_but_not_in_cpu_is_parsed(tmp_path):
    """On a loaded machine a 25 s parse took 131 s and was skipped ("parsing took longer than
    120 s"): a file's budget is its worker's CPU time. This parse takes 3 times the budget of
    wall-clock time with almost no CPU, as a process the load keeps from running."""
    out = run(tmp_path, [["a.pdf"], ["b.pdf"], ["c.pdf"]],
              parse=functools.partial(idle_on, "b.pdf", 3.0), timeout=1.0)
    assert out == [("parsed", (rel, "parsed", "")) for rel in ("a.pdf", "b.pdf", "c.pdf")]


@needs_proc
def test_a_file_burning_cpu_is_killed_after_its_cpu_budget(tmp_path):
    """A parse that loops for good (pdfium on a hostile PDF) is still killed: its CPU budget
    is spent; the file is skipped, the next one parsed by a fresh worker."""
    out = run(tmp_path, [["a.pdf"], ["b.pdf"], ["c.pdf"]],
              parse=functools.partial(burn_on, "b.pdf"), timeout=1.0)
    assert out == [("parsed", ("a.pdf", "parsed", "")),
                   ("skipped", "b.pdf", "parsing took longer than 1 s of CPU time; skipped"),
                   ("parsed", ("c.pdf", "parsed", ""))]


@needs_proc
def test_a_worker_starting_up_is_not_charged_to_its_first_file(tmp_path, monkeypatch):
    """A fresh worker's start-up (spawn, imports) is no file's work: with the budget counted
    from the task given to it, a worker that starts slowly timed out before its first file, and
    after a few the run gave up on workers (the store then parses in its own process, where
    nothing can stop a hostile PDF). Only the wall-clock backstop watches a start-up."""
    monkeypatch.setenv("PAPERLENS_TEST_IMPORT_CPU_S", "2")
    out = run(tmp_path, [["a.pdf"], ["b.pdf"]], parse=functools.partial(burn_on, "none"), timeout=1.0)
    assert out == [("parsed", ("a.pdf", "parsed", "")), ("parsed", ("b.pdf", "parsed", ""))]


def test_without_proc_the_budget_is_wall_clock_time(tmp_path, monkeypatch):
    """Where a process's CPU time cannot be read, the budget is wall-clock seconds, and the
    reason says so (no "of CPU time")."""
    monkeypatch.setattr(workers, "cpu_seconds", lambda pid: None)
    out = run(tmp_path, [["a.pdf"], ["b.pdf"]], parse=functools.partial(idle_on, "a.pdf", 3600.0),
              timeout=5.0)
    assert out == [("skipped", "a.pdf", "parsing took longer than 5 s; skipped"),
                   ("parsed", ("b.pdf", "parsed", ""))]


# --- a skip for time or for a dead worker is retried at the next update ------------------------------

TIMED_OUT = "parsing took longer than 120 s of CPU time; skipped"


SKIPS = {
    "timeout.txt": TIMED_OUT,
    "stuck.txt": "parsing took longer than 1200 s; skipped",                 # the wall-clock backstop
    "batch.txt": "writing the index took longer than 120 s",                 # manifests before the fix
    "crash.txt": "the parser crashed on this file (its worker process died)",
    "failed.txt": "the parser process failed: MemoryError: ",
    "broken.txt": "broken PDF: not a PDF file",                              # says what the file is
    "memory.txt": "parsing needed more memory than a parser process may use; skipped",
    "fine.txt": "",
}


def test_an_unchanged_file_is_parsed_again_when_its_skip_said_nothing_about_it(tmp_path):
    """A timeout's manifest entry was permanent until the file changed (same mtime and size):
    6,668 files of a library stayed out of the index for good. A skip that says what the file
    is (a broken PDF, too much memory) stays until the file changes."""
    manifest = {}
    for name, error in SKIPS.items():
        (tmp_path / name).write_text(f"{name} Title\n\nSome text.\n", encoding="utf-8")
        st = os.stat(tmp_path / name)
        manifest[name] = corpus.FileState(st.st_mtime_ns, st.st_size, corpus.file_sha1(tmp_path / name),
                                          [] if error else ["p1"], error)
    changes, skipped = corpus.diff(tmp_path, manifest)
    assert skipped == [] and not changes.touched and not changes.added
    assert changes.changed == ["batch.txt", "crash.txt", "failed.txt", "stuck.txt", "timeout.txt"]
    assert changes.unchanged == 3


def test_an_update_of_a_few_paths_retries_only_those(tmp_path):
    """The watcher's updates (``only``) look at the paths they name: a timed-out file elsewhere
    waits for the next update of the whole folder (no parse budget spent at every change)."""
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"{name} Title\n\nSome text.\n", encoding="utf-8")
    manifest = {}
    for name in ("a.txt", "b.txt"):
        st = os.stat(tmp_path / name)
        manifest[name] = corpus.FileState(st.st_mtime_ns, st.st_size, corpus.file_sha1(tmp_path / name),
                                          [], TIMED_OUT)
    changes, _ = corpus.diff(tmp_path, manifest, only=["b.txt"])
    assert changes.changed == ["b.txt"]
    changes, _ = corpus.diff(tmp_path, manifest)
    assert changes.changed == ["a.txt", "b.txt"]
