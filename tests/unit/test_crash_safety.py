"""Killing the indexer (SIGKILL) at any point never leaves an index that fails to open or that
silently misses papers: the next run repairs or rebuilds by itself and says so."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys

import pytest

from paperlens.core.index.whoosh.store import IndexStore
from paperlens.core.library import Library


def _write_library(folder, n: int, tag: str = "") -> dict[str, str]:
    """n small papers, each with a unique word; returns {word: file name}."""
    folder.mkdir(exist_ok=True)
    words = {}
    for i in range(n):
        word = f"zq{tag}{i:03d}unique"
        (folder / f"paper{i:03d}.txt").write_text(
            f"Paper Number {i} on Crash Safety\nAda Lovelace1, Alan Turing2\n1Univ\nPreprint 2024.\n"
            f"Abstract\nThis paper mentions {word} once. " + "Filler words about indexing. " * 30 + "\n",
            encoding="utf-8")
        words[word] = f"paper{i:03d}.txt"
    return words


def _index(folder, ix, env_extra=None, timeout=120):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "paperlens", "index", str(folder), "--index-path", str(ix),
                           "--json", "--workers", "1"], capture_output=True, text=True, env=env, timeout=timeout)


def _assert_complete(folder, ix, words):
    """A normal run afterwards: index opens, every paper is there and searchable."""
    done = _index(folder, ix)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["folders"][0]
    lib = Library([folder], str(ix))
    assert sum(len(s.table.rows) for s in lib.stores) == len(words)
    for word, name in words.items():
        hits = lib.search(word)
        assert hits and hits[0].path == str(folder / name), word
    return report


@pytest.mark.parametrize("point", ["rebuild-before-swap", "rebuild-mid-swap", "after-table"])
def test_killed_during_first_build(tmp_path, point):
    folder, ix = tmp_path / "lib", tmp_path / "ix"
    words = _write_library(folder, 12)
    killed = _index(folder, ix, {"PAPERLENS_FAULT_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    report = _assert_complete(folder, ix, words)
    # it noticed that the first build never finished, says why, and parsed every file again
    assert report["rebuilt"] == "no index yet" and report["files_parsed"] == len(words)


@pytest.mark.parametrize("point", ["incremental-before-commit", "incremental-after-commit", "after-table"])
def test_killed_during_incremental_update(tmp_path, point):
    folder, ix = tmp_path / "lib", tmp_path / "ix"
    words = _write_library(folder, 12)
    assert _index(folder, ix).returncode == 0
    # change two papers and add one: new unique words
    del words["zq000unique"], words["zq005unique"]
    for i in (0, 5):
        (folder / f"paper{i:03d}.txt").write_text(
            f"Paper Number {i} Rewritten\nAda Lovelace1\n1Univ\nPreprint 2024.\nAbstract\nNow about zqnew{i}word.\n",
            encoding="utf-8")
        words[f"zqnew{i}word"] = f"paper{i:03d}.txt"
    words.update(_write_library(folder / "more", 1, tag="m"))
    words = {w: (n if not w.startswith("zqm") else f"more/{n}") for w, n in words.items()}
    killed = _index(folder, ix, {"PAPERLENS_FAULT_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    _assert_complete(folder, ix, words)
    # the old words of the rewritten papers are gone, not silently kept
    lib = Library([folder], str(ix))
    assert lib.search("zq000unique") == [] and lib.search("zq005unique") == []


def test_killed_at_random_moments_many_times(tmp_path):
    folder, ix = tmp_path / "lib", tmp_path / "ix"
    words = _write_library(folder, 40)
    rng = random.Random(20261123)
    for round_ in range(8):
        if round_ % 3 == 2:      # sometimes the folder changes between kills
            (folder / f"paper{round_:03d}.txt").write_text(
                f"Paper Number {round_} Again\nAda Lovelace1\n1Univ\nPreprint 2024.\nAbstract\nzqr{round_}x here.\n",
                encoding="utf-8")
            words = {w: n for w, n in words.items() if n != f"paper{round_:03d}.txt"}
            words[f"zqr{round_}x"] = f"paper{round_:03d}.txt"
        proc = subprocess.Popen([sys.executable, "-m", "paperlens", "index", str(folder), "--index-path",
                                 str(ix), "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(0.3, 2.0))     # fault injection: kill at a random moment
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _assert_complete(folder, ix, words)


def test_second_process_reads_what_the_first_writes(tmp_path):
    """Two servers on one library: one writes; the other is refused the writer lock (no
    corruption, no waiting) and picks the changes up."""
    folder, ix = tmp_path / "lib", tmp_path / "ix"
    _write_library(folder, 3)
    writer = IndexStore(folder, ix)
    reader = IndexStore(folder, ix)          # opened before anything was indexed
    writer.update()
    assert reader.reload_if_changed() and len(reader.table.rows) == 3
    lock = writer._process_lock()            # the writer is busy updating
    try:
        report = reader.update()
        assert report.busy and report.papers_total == 3
    finally:
        lock.close()
    (folder / "paper001.txt").unlink()
    writer.update()
    lib = Library.__new__(Library)
    lib.stores = [reader]
    assert lib.search("zq001unique") == []               # the reader sees the writer's commit
    assert len(reader.table.rows) == 2                   # ... and its table (reloaded on read)
