"""A logged exception reaches the client as one line: never its traceback or install paths."""
from __future__ import annotations

import logging

from paperlens.lsp.log_forward import LogForwarder


class _Loop:
    def __init__(self):
        self.sent = []

    def is_closed(self):
        return False

    def call_soon_threadsafe(self, fn, params):
        self.sent.append(params.message)


class _Session:
    def __init__(self):
        self.loop = _Loop()


class _Server:
    def __init__(self):
        self.session = _Session()

    def window_log_message(self, params):      # pragma: no cover - called through the loop stub
        pass


def test_a_logged_exception_is_forwarded_without_its_traceback():
    server = _Server()
    forward = LogForwarder(server)
    forward.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("paperlens.test-forwarder")
    logger.addHandler(forward)
    try:
        try:
            raise RecursionError("deep")
        except RecursionError:
            logger.exception("search failed for %r", "((attention))")
    finally:
        logger.removeHandler(forward)
    assert server.session.loop.sent == [
        "search failed for '((attention))' (RecursionError; details in the server's log)"]
