"""The library's citation graph, built off the event loop: on the lane of derived data, once
after each index update (or earlier when a request asks for it)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from typing import Callable, Optional

from paperlens.core.library import Library
from paperlens.lsp.background import Lane

GATE_ENV = "PAPERLENS_FAULT_GRAPH_GATE"


class CitationGraphs:
    """``library()`` gives the library whose graph is wanted (it changes with the settings);
    ``on_built()`` is called on the lane's thread after each build (whether it worked or not)."""

    def __init__(self, lane: Lane, library: Callable[[], Library],
                 on_built: Callable[[], None] = lambda: None) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.on_built = on_built
        self._lane = lane
        self._library = library
        self._future: Optional[tuple] = None    # (library, future of its graph being built)
        self._lock = threading.Lock()

    def ready(self):
        """The graph of the library as it is now, or None while it is not built."""
        return self._library().graph_if_ready()

    def schedule(self) -> None:
        """Build the graph in the background (never on a request's path) once the server
        serves (in-process, without an event loop, nothing starts)."""
        if self.loop is not None:
            self.build()

    def build(self) -> concurrent.futures.Future:
        """The citation graph of the library, built on the lane: a future that is done at once
        when the graph is already built, else shared by every caller until the build ends (a
        worker thread may wait for it; the event loop never does)."""
        library = self._library()
        done: concurrent.futures.Future = concurrent.futures.Future()
        ready = library.graph_if_ready()
        if ready is not None:
            done.set_result(ready)
            return done
        with self._lock:
            pending = self._future
            if pending is not None and pending[0] is library and not pending[1].done():
                return pending[1]
            future = self._lane.submit(self._build, library)
            if future is None:
                done.set_exception(RuntimeError("the server is shutting down"))
                return done
            self._future = (library, future)
            return future

    def _build(self, library: Library):
        gate = os.environ.get(GATE_ENV)
        if gate:     # for the tests: the build waits until this file exists (at most a minute)
            deadline = time.monotonic() + 60
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.02)
        try:
            return library.graph()
        finally:
            self.on_built()
