"""The garbage collector paused while the server makes its long-lived objects (core/collector.py):
overlapping pauses (the start's imports, a library opened on a worker thread) resume it only
when the last ends, and only if it ran before; importing the server leaves it running."""
from __future__ import annotations

import gc
import importlib
import threading

from paperlens.core.collector import gc_paused


def test_overlapping_pauses_resume_the_collector_once_the_last_ends():
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            assert release.wait(60)

    t = threading.Thread(target=other)
    with gc_paused():
        t.start()
        assert inside.wait(60)
        assert not gc.isenabled()
    assert not gc.isenabled()          # the other thread's block has not ended
    release.set()
    t.join(60)
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_freeze_moves_what_the_block_made_out_of_the_collectors_sight():
    frozen = gc.get_freeze_count()
    with gc_paused(freeze=True):
        made = [[i] for i in range(1000)]
    assert gc.get_freeze_count() >= frozen + len(made)
    assert gc.isenabled()


def test_importing_the_server_leaves_the_collector_running():
    importlib.import_module("paperlens.lsp.server")
    assert gc.isenabled()
