"""Bounded HTTP exchanges for the ``openai`` client.

httpx's timeouts bound each socket operation, not a request: a server that sends one byte every
few seconds (in the headers or the body) keeps a request alive for ever, and one that sends a
300 MB answer is read whole into memory. The client's network streams are wrapped: every read,
write and connect of a call gets at most the time left before the call's deadline, and the
bytes a call receives are counted. The limits belong to the thread that makes the call (the
client is synchronous: the socket work happens on the calling thread): ``CALL.start(deadline,
stop)`` before a call, ``CALL.end()`` after.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Optional

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 8 * 1024 * 1024      # an answer larger than this is refused


class _Call(threading.local):
    deadline: Optional[float] = None
    stop: Optional[threading.Event] = None
    received: int = 0
    too_large: bool = False
    stopped: bool = False

    def start(self, deadline: float, stop: threading.Event) -> None:
        self.deadline, self.stop = deadline, stop
        self.received, self.too_large, self.stopped = 0, False, False

    def end(self) -> None:
        self.deadline = self.stop = None


CALL = _Call()


def _time_left(timeout: Optional[float], exc_type: type) -> Optional[float]:
    """What a socket operation of the current call may take: ``timeout``, and never past the
    call's deadline; raises ``exc_type`` (a timeout of the HTTP library) once it is passed or
    the summarizer is closed."""
    deadline = CALL.deadline
    if deadline is None:
        return timeout
    if CALL.stop is not None and CALL.stop.is_set():
        CALL.stopped = True
        raise exc_type("the summary request was stopped")
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc_type("the summary request outlived its deadline")
    return left if timeout is None else min(timeout, left)


_client_class: Any = None


def bounded_http_client(openai: Any, timeout: float) -> Any:
    """An ``httpx`` client for the ``openai`` client whose connections obey ``CALL`` (proxies
    from the environment too), with an ``abort()`` that wakes up every request in flight."""
    global _client_class
    if _client_class is None:
        _client_class = _make_client_class(openai)
    return _client_class(timeout=timeout)


def _make_client_class(openai: Any) -> Any:
    import weakref

    import httpcore2

    class Stream(httpcore2.NetworkStream):
        def __init__(self, inner: Any, live: "weakref.WeakSet") -> None:
            self._inner, self._live = inner, live
            live.add(self)

        def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
            data = self._inner.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))
            if CALL.deadline is not None:
                CALL.received += len(data)
                if CALL.received > MAX_ANSWER_BYTES:
                    CALL.too_large = True
                    raise httpcore2.ReadError("the answer is too large")
            return data

        def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
            self._inner.write(buffer, _time_left(timeout, httpcore2.WriteTimeout))

        def close(self) -> None:
            self._live.discard(self)
            self._inner.close()

        def start_tls(self, ssl_context: Any, server_hostname: Optional[str] = None,
                      timeout: Optional[float] = None) -> Any:
            inner = self._inner.start_tls(ssl_context, server_hostname,
                                          _time_left(timeout, httpcore2.ConnectTimeout))
            self._live.discard(self)
            return Stream(inner, self._live)

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

        def abort(self) -> None:
            """Wake up a read or write blocked on this connection in another thread."""
            try:
                sock = self._inner.get_extra_info("socket")
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError, AttributeError):
                pass

    class Backend(httpcore2.NetworkBackend):
        def __init__(self, inner: Any, live: "weakref.WeakSet") -> None:
            self._inner, self._live = inner, live

        def connect_tcp(self, host: str, port: int, timeout: Optional[float] = None,
                        local_address: Optional[str] = None, socket_options: Any = None) -> Any:
            return Stream(self._inner.connect_tcp(
                host, port, _time_left(timeout, httpcore2.ConnectTimeout),
                local_address=local_address, socket_options=socket_options), self._live)

        def connect_unix_socket(self, path: str, timeout: Optional[float] = None,
                                socket_options: Any = None) -> Any:
            return Stream(self._inner.connect_unix_socket(
                path, _time_left(timeout, httpcore2.ConnectTimeout),
                socket_options=socket_options), self._live)

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    class Client(openai.DefaultHttpxClient):
        """``openai``'s default client, its connection pools' network I/O bounded."""

        def __init__(self, **kwargs: Any) -> None:
            self._live: weakref.WeakSet = weakref.WeakSet()
            super().__init__(**kwargs)

        def _bound(self, transport: Any) -> Any:
            # httpx builds its pools without a way to pass a network backend: set the pool's
            # (tests/unit/test_summary_limits.py fails if a new httpx release renames it)
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if inner is None:
                log.warning("summary requests are bounded by per-read timeouts only "
                            "(unknown httpx transport %s)", type(transport).__name__)
            else:
                pool._network_backend = Backend(inner, self._live)
            return transport

        def _init_transport(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("transport") is not None:
                return kwargs["transport"]
            return self._bound(super()._init_transport(*args, **kwargs))

        def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> Any:
            return self._bound(super()._init_proxy_transport(*args, **kwargs))

        def abort(self) -> None:
            for stream in list(self._live):
                stream.abort()

    return Client
