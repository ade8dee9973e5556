"""The index status, pushed to the editor as the ``paperlens/status`` notification whenever it
changes (an update starts, progresses, ends; the citation graph is built; the settings or the
folders change), so that no client has to poll ``paperlens.server.status``.

Changes are coalesced: at most one notification per :data:`MIN_INTERVAL` seconds, carrying the
status as it is when it is sent, and none when the status is the one sent last."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable, Optional

log = logging.getLogger(__name__)

METHOD = "paperlens/status"
MIN_INTERVAL = 0.25        # seconds between two notifications: at most four a second


class StatusPublisher:
    """``status()`` is what ``paperlens.server.status`` answers (called on the event loop);
    ``send(method, params)`` sends a notification.  :meth:`changed` may be called from any
    thread, as often as wanted: it costs a flag test while a notification is due."""

    def __init__(self, status: Callable[[], dict], send: Callable[[str, dict], None]) -> None:
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._status = status
        self._send = send
        self._due = threading.Event()          # a notification is scheduled
        self._last_sent = float("-inf")        # time.monotonic() of the last notification
        self._last: Optional[dict] = None
        self._closed = False

    def changed(self) -> None:
        loop = self.loop
        if loop is None or self._closed or self._due.is_set():
            return
        self._due.set()
        try:
            loop.call_soon_threadsafe(self._schedule)
        except RuntimeError:        # the loop closed meanwhile: shutting down
            pass

    def _schedule(self) -> None:
        delay = self._last_sent + MIN_INTERVAL - time.monotonic()
        if delay > 0:
            self.loop.call_later(delay, self._publish)
        else:
            self._publish()

    def _publish(self) -> None:
        self._due.clear()          # a change from now on is sent next time
        if self._closed:
            return
        try:
            status = self._status()
        except Exception:
            log.exception("the index status could not be made")
            return
        if status == self._last:
            return
        self._last, self._last_sent = status, time.monotonic()
        self._send(METHOD, status)

    def close(self) -> None:
        """No notification from now on (shutdown)."""
        self._closed = True
