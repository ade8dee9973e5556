"""Threads for background work: what takes long never runs on the event loop.

Background threads (indexing, tables, the citation graph, diagnostics) run Python loops that hold
the interpreter; the event loop waits for it each time it wakes up, and pygls wakes it several
times per message (it reads stdin on a thread).  At CPython's default of 5 ms a switch, a
completion answered in 1 ms took 60-200 ms while start-up work ran: :data:`SWITCH_INTERVAL` keeps
each wait short (the background work gets a little slower, never the requests), and background
threads run at a lower priority than the event loop's thread.

At start the server makes hundreds of thousands of objects that live as long as it does (the
protocol's ~1000 classes, its own modules, the paper table's rows), and the cyclic garbage
collector traversed them again and again while they were made: ~0.2 CPU-s of a start on a 10k
library, before the first completion.  core/collector.py's ``gc_paused`` pauses it while they are
made, and moves the modules' objects out of its sight for good (``gc.freeze``).
"""
from __future__ import annotations

import concurrent.futures
import functools
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.0005


# glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core): what an
# update frees on its thread is not reused by the graph's or the lane's, and the server's RSS
# grew by tens of megabytes with each changed file at 10k papers (peak anonymous RSS in
# bench/run.py's server scenario: 248 -> 223 MB with two arenas)
MALLOC_ARENAS = 2


@functools.cache
def _libc_function(name: str):
    """The C library's function ``name`` (glibc's ``mallopt``, ``malloc_trim``), or None
    elsewhere (not Linux, or a libc without it: musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def fewer_malloc_arenas(n: int = MALLOC_ARENAS) -> bool:
    """At most ``n`` malloc arenas for the threads started from now on (glibc's ``mallopt``;
    elsewhere nothing). True when it was set."""
    mallopt = _libc_function("mallopt")
    M_ARENA_MAX = -8
    return mallopt is not None and bool(mallopt(M_ARENA_MAX, n))


def release_free_memory() -> None:
    """Give the pages malloc holds free back to the system (glibc's ``malloc_trim``; elsewhere
    nothing): an update of a changed file frees tens of megabytes at 10k papers (the previous
    table's lookups, the joins, the reference lines it copied), and freed heap stayed in the
    server's RSS. A few milliseconds, off the event loop."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


def short_switch_interval() -> None:
    """Let the event loop's thread get the interpreter back quickly (see the module's doc)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


def lower_priority() -> None:
    """Make the calling (background) thread yield the CPU to the event loop's thread when both
    want it (Linux: a thread has its own nice value); elsewhere nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def background_executor(name: str, low_priority: bool = False) -> ThreadPoolExecutor:
    """One worker thread for background work; ``low_priority`` for work requests do not wait
    for, or only for a moment (a request waiting for a lock held by a low-priority thread
    waits longer when the machine is busy)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name,
                              initializer=lower_priority if low_priority else None)


class Lane:
    """One thread for what is derived from an index, one job after the other: never on the
    event loop, never queued behind an index update (nor an update behind it)."""

    def __init__(self, name: str) -> None:
        self._executor = background_executor(name)

    def submit(self, fn: Callable, *args, low_priority: bool = True) -> Optional[concurrent.futures.Future]:
        """Queue ``fn(*args)`` (None once shut down), at a low priority unless asked otherwise
        (the first job, what the first requests wait for, runs at the loop's priority; the lane
        stays low from the first low job on).  A failure is logged (the server goes on without
        what it would have prepared)."""
        def job():
            if low_priority:
                lower_priority()
            return fn(*args)

        try:
            future = self._executor.submit(job)
        except RuntimeError:
            return None

        def failed(f: concurrent.futures.Future) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.error("background work failed", exc_info=f.exception())

        future.add_done_callback(failed)
        return future

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
