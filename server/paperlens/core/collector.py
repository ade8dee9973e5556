"""The cyclic garbage collector paused while many objects are made (any thread).

A collection traverses every container the heap holds: a 10k library's table, a citation graph's
build (~350k containers), the protocol's classes at start. While such work makes objects by the
hundred thousand, the collector ran again and again over them (~0.07 CPU-s of a graph build,
~0.2 CPU-s of a server's start, up to 0.15 CPU-s of a changed file's second). :func:`gc_paused`
pauses it for a block; blocks may overlap in any thread, and it runs again, if it ran before the
first began, once the last ends.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_pauses = 0                 # blocks in gc_paused now (any thread)
_resume = False             # whether the collector ran when the first of them began


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """The cyclic garbage collector paused for the block (blocks may overlap, in any thread;
    it runs again, if it ran before, once the last ends); with ``freeze``, every object alive
    at the block's end is then moved to the collector's permanent generation (``gc.freeze``:
    long-lived objects such as modules and classes, never traversed again; objects freed by
    their reference count are freed as before)."""
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            if freeze:
                gc.freeze()
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
