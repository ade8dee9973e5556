"""paperlens' log records, sent to the editor as ``window/logMessage`` (from any thread)."""
from __future__ import annotations

import logging

from lsprotocol import types


class LogForwarder(logging.Handler):
    """The message only, never a traceback (install paths, locals): that stays in the server's
    log on stderr.  Nothing is sent before the server serves (``server.session.loop``)."""

    LEVELS = {logging.ERROR: types.MessageType.Error, logging.WARNING: types.MessageType.Warning,
              logging.INFO: types.MessageType.Info, logging.DEBUG: types.MessageType.Log}

    def __init__(self, server) -> None:
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.session.loop
        if loop is None or loop.is_closed():
            return
        try:
            msg = record.getMessage()
        except Exception:
            return
        if record.exc_info and record.exc_info[0] is not None:
            msg += f" ({record.exc_info[0].__name__}; details in the server's log)"
        level = max((lv for lv in self.LEVELS if lv <= record.levelno), default=logging.DEBUG)
        params = types.LogMessageParams(type=self.LEVELS[level], message=msg)
        try:
            loop.call_soon_threadsafe(self.server.window_log_message, params)
        except RuntimeError:
            pass
