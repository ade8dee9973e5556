"""The indexing's ``$/progress`` (work done progress) in the editor: begin when an update
starts, a report when the percentage changes, end with the number of papers."""
from __future__ import annotations

import asyncio
import uuid
from typing import Callable, Optional

from lsprotocol import types


def new_token() -> str:
    return f"paperlens-index-{uuid.uuid4().hex[:8]}"


class IndexProgress:
    """Called as ``progress(phase, done, total, message)`` from the update's thread (see
    :class:`~paperlens.lsp.indexing.Indexing`); sends on the event loop.  A report goes out
    only when the percentage changes (and for the last file), decided on the update's thread:
    10k files are not 10k wake-ups of the event loop."""

    def __init__(self, server, loop: Callable[[], Optional[asyncio.AbstractEventLoop]],
                 papers: Callable[[], int]) -> None:
        self.server = server
        self._loop = loop
        self._papers = papers
        self._token: Optional[str] = None          # of the update being reported (event loop)
        self._last = -1                            # its last percentage (update's thread)

    def supported(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    def __call__(self, phase: str, done: int, total: int, message: str) -> None:
        loop = self._loop()
        if loop is None or loop.is_closed() or not self.supported():
            return
        if phase == "begin":
            self._last = -1
        elif phase == "report":
            pct = int(100 * done / total) if total else 100
            if pct == self._last and done != total:
                return
            self._last = pct
        try:
            loop.call_soon_threadsafe(self._send, phase, done, total, message)
        except RuntimeError:         # the loop closed meanwhile: shutting down
            pass

    def _send(self, phase: str, done: int, total: int, message: str) -> None:
        progress = self.server.work_done_progress
        if phase == "begin":
            token = self._token = new_token()
            progress.create(token)
            progress.begin(token, types.WorkDoneProgressBegin(
                title="paperlens: indexing", message="scanning paper folders", percentage=0,
                cancellable=False))
        elif phase == "report" and self._token:
            pct = int(100 * done / total) if total else 100
            progress.report(self._token, types.WorkDoneProgressReport(
                message=f"{done}/{total} files" + (f" · {message}" if message else ""), percentage=pct))
        elif phase == "end" and self._token:
            papers = self._papers()          # as completion and `paperlens cite` count
            progress.end(self._token, types.WorkDoneProgressEnd(
                message=f"{papers} paper{'s' if papers != 1 else ''} indexed"))
            self._token = None
