"""pygls' language server protocol, made to answer every request it receives.

pygls 2 turns each incoming JSON object into lsprotocol's types while it is being parsed (a
``json.loads`` object hook).  When the params of a request fail validation (a negative line, a
character that is not a number, no position) the error escapes the read loop: it is logged and
the request never gets an answer, so the editor waits for it.  pygls also answers requests sent
before ``initialize`` and drops those sent after ``shutdown`` without a word, and an exception in
a handler goes back to the editor with its Python traceback.

:class:`PaperlensProtocol` keeps everything else of pygls and changes only this:

* a message is structured once it is whole (:meth:`handle_message`), where its id is known: a
  request whose params fail validation gets -32602 (InvalidParams) saying which field is wrong;
  a notification with bad params is logged and dropped (notifications get no answer);
* a request before ``initialize`` gets -32002 (ServerNotInitialized), a second ``initialize``
  and any request after ``shutdown`` get -32600 (InvalidRequest); notifications before
  ``initialize`` (except ``exit``) are dropped;
* an error reply never carries a traceback or a path: an internal error says only that it
  happened (the traceback goes to the server's log);
* answers an adapter made as the protocol's JSON (``convert.JsonObject``) are sent as they
  are, and those it wrote as JSON text (``convert.JsonText``) written as they are;
* the requests the start-up front answered (``silent_ids``: the ``initialize`` it replays, see
  lsp/front.py) are handled without their answers being sent again; if lsprotocol cannot read
  that ``initialize``'s capabilities, the server goes on with the parts the front read.

:class:`MessageReader` reads the connection for pygls's read loop, a message at a time, its
headers by lsp/framing.py's rule (the start-up front's): a malformed one is skipped with a
warning and the server reads on.
"""
from __future__ import annotations

import asyncio
import collections
import inspect
import json
import logging
import threading
from typing import Any, Optional

from lsprotocol import types
from pygls.exceptions import (JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams,
                              JsonRpcInvalidRequest, JsonRpcServerNotInitialized)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import (JsonRPCNotification, JsonRPCRequestMessage,
                                     JsonRPCResponseMessage, RPCNotification, RPCRequest)

from paperlens.lsp import framing
from paperlens.lsp.convert import JsonObject, JsonText
from paperlens.lsp.front import read_initialize

log = logging.getLogger("paperlens.protocol")

INTERNAL_ERROR_MESSAGE = "paperlens: internal error while answering this request (details in the server's log)"
MAX_ERROR_MESSAGE = 500
MAX_DETAILS = 3


def _valid_id(msg_id: Any) -> bool:
    return isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool)


def describe_structure_error(exc: BaseException) -> str:
    """What is wrong with a message's fields, as cattrs finds it ("invalid value for type,
    expected int @ $.params.position.character"), without values, paths or tracebacks."""
    try:
        from cattrs import transform_error

        details = [d for d in transform_error(exc) if isinstance(d, str)]
    except Exception:
        details = []
    if not details:
        return "the params do not have the expected shape"
    more = len(details) - MAX_DETAILS
    return "; ".join(details[:MAX_DETAILS]) + (f" (and {more} more)" if more > 0 else "")


def public_error(error: types.ResponseError) -> types.ResponseError:
    """The error as the editor may see it: an internal error reduced to a fixed message, no
    traceback in ``data``, a bounded message."""
    if error.code == JsonRpcInternalError.CODE:
        return types.ResponseError(code=error.code, message=INTERNAL_ERROR_MESSAGE)
    data = error.data
    if isinstance(data, dict) and "traceback" in data:
        data = {k: v for k, v in data.items() if k != "traceback"} or None
    message = error.message if isinstance(error.message, str) else ""
    if len(message) > MAX_ERROR_MESSAGE:
        message = message[:MAX_ERROR_MESSAGE] + "…"
    return types.ResponseError(code=error.code, message=message, data=data)


class _ClosableWriter:
    """The protocol's writer, which drops what is written once it is closed: ``exit`` closes
    stdout before the process ends, and what a background thread still had to say then (an
    update's last progress, a log line forwarded to the editor) met the closed stream with a
    traceback on stderr."""

    def __init__(self, writer) -> None:
        self._writer = writer
        self._lock = threading.Lock()
        self.closed = False

    def close(self):
        with self._lock:
            self.closed = True
            return self._writer.close()

    def write(self, data: bytes):
        with self._lock:
            if self.closed:
                log.debug("not sent after exit: %d bytes", len(data))
                return None
            return self._writer.write(data)


class MessageReader:
    """pygls's reader of the connection (``io_.run_async`` asks it for each header line, then
    for the body), taking each message whole in one step on a worker thread: pygls's own
    (``StdinAsyncReader``) hands every ``readline`` and ``read`` to a worker thread and back to
    the event loop, three thread hand-offs a message (~0.1 ms of each request's round trip).
    Here the worker reads a message's header (its lines read by lsp/framing.py's rule, the
    start-up front's) and the body it announces; the event loop takes them from here without
    waiting, the header as run_async reads it (``Content-Length: N\r\n``, an empty line). A
    message the rule skips is skipped here, with a warning (run_async never sees it); nothing
    is read beyond the message (``exit`` stops the loop after it)."""

    CHUNK = 1 << 20          # a body over framing.BODY_MOST is read past in chunks of this

    def __init__(self, stream, executor=None) -> None:
        self.stream, self.executor = stream, executor
        self._header = framing.Header()
        self._lines: collections.deque = collections.deque()
        self._body: Optional[bytes] = None

    def _message(self) -> tuple[list[bytes], Optional[bytes]]:
        """The next message's header lines (as run_async reads them) and body; ``[b""]`` and
        no body at the end of the stream."""
        stream, header = self.stream, self._header
        while True:
            line = stream.readline(framing.HEADER_MOST)
            if not line:
                ended = header.ended()
                if ended:
                    log.warning("%s", ended)
                return [b""], None
            frame = header.line(line)
            if frame is None:
                continue
            for note in frame.notes:
                log.warning("a message's header: %s", note)
            if frame.skip is None:
                body = stream.read(frame.length)
                if len(body) == frame.length:
                    return [b"Content-Length: %d\r\n" % frame.length, b"\r\n"], body
            else:
                log.warning("a message skipped: %s", frame.skip)
                if self._read_past(frame.length):
                    continue
            log.warning("the connection ended inside a message's body")
            return [b""], None

    def _read_past(self, length: int) -> bool:
        """Read past ``length`` bytes without keeping them (False: the stream ended first)."""
        left = length
        while left:
            got = self.stream.read(min(left, self.CHUNK))
            if not got:
                return False
            left -= len(got)
        return True

    @staticmethod
    def _ready(value) -> asyncio.Future:
        done = asyncio.get_running_loop().create_future()
        done.set_result(value)
        return done

    async def _next_line(self) -> bytes:
        lines, self._body = await asyncio.get_running_loop().run_in_executor(self.executor, self._message)
        self._lines.extend(lines)
        return self._lines.popleft()

    def readline(self):
        if self._lines:
            return self._ready(self._lines.popleft())
        return self._next_line()

    def readexactly(self, n: int):
        body, self._body = self._body, None
        if body is not None and len(body) <= n:      # (shorter: the stream ended inside it)
            return self._ready(body)
        return asyncio.get_running_loop().run_in_executor(self.executor, self.stream.read, n)


def _as_is(value):
    return value


class PaperlensProtocol(LanguageServerProtocol):
    """See the module's documentation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.silent_ids: set = set()
        self._converter.register_unstructure_hook(JsonObject, _as_is)

    def set_writer(self, writer, include_headers: bool = True):
        super().set_writer(_ClosableWriter(writer), include_headers)

    # -- parsing -------------------------------------------------------------------------------
    def structure_message(self, data: dict[str, Any]):
        """The ``json.loads`` object hook: leave every object as it is; :meth:`handle_message`
        structures the whole message (a nested object that happens to hold a "jsonrpc" key is
        data, not a message)."""
        return data

    def _structure(self, data: dict[str, Any]):
        """The message as lsprotocol's types, or None once a bad message has been answered
        (request) or logged (anything else)."""
        has_id, method = "id" in data, data.get("method")
        msg_id = data.get("id")
        is_request = has_id and "method" in data
        if data.get("jsonrpc") != self.VERSION or ("method" in data and not isinstance(method, str)) \
                or (has_id and not _valid_id(msg_id)):
            if is_request:
                error = JsonRpcInvalidRequest("Invalid Request: not a JSON-RPC 2.0 request")
                if _valid_id(msg_id):
                    self._send_response(msg_id, error=error.to_response_error())
                else:                  # JSON-RPC: "id": null when the id cannot be read
                    self._send_data({"jsonrpc": self.VERSION, "id": None,
                                     "error": {"code": error.code, "message": error.message}})
            else:
                log.warning("ignored a message that is not JSON-RPC 2.0")
            return None
        if is_request:                 # the server's state first: no initialize, no params to check
            refused = self._refusal(method)
            if refused is not None:
                self._send_response(msg_id, error=refused.to_response_error())
                return None
        try:
            if has_id and "error" in data:
                return self._converter.structure(data, types.ResponseErrorMessage)
            if is_request:
                return self._converter.structure(data, self.get_message_type(method) or JsonRPCRequestMessage)
            if has_id:
                kind = self._result_types.pop(msg_id, None) or JsonRPCResponseMessage
                return self._converter.structure(data, kind)
            return self._converter.structure(data, self.get_message_type(method or "") or JsonRPCNotification)
        except Exception as exc:
            details = describe_structure_error(exc)
            if method == types.EXIT and not has_id:      # exit means exit, whatever comes with it
                return types.ExitNotification()
            if is_request and method == types.INITIALIZE and msg_id in self.silent_ids:
                log.warning("the editor's initialize params: %s; going on with those the start-up front read", details)
                read = read_initialize(data)        # (the front read it: not None)
                return self._converter.structure({**data, "params": read.kept() if read else {"capabilities": {}}},
                                                 types.InitializeRequest)
            if is_request:
                log.warning("%s request %r: invalid params: %s", method, msg_id, details)
                self._send_response(msg_id, error=JsonRpcInvalidParams(
                    f"Invalid params for {method}: {details}").to_response_error())
            elif has_id:              # the editor's answer to one of our requests: fail that request
                log.warning("the editor's answer to request %r cannot be read: %s", msg_id, details)
                future = self._request_futures.pop(msg_id, None)
                if future is not None and not future.done():
                    future.set_exception(JsonRpcInvalidParams(f"unreadable answer: {details}"))
            else:
                log.warning("ignored %s notification: invalid params: %s", method or "a", details)
            return None

    # -- dispatch ------------------------------------------------------------------------------
    def handle_message(self, message):
        if isinstance(message, dict):
            message = self._structure(message)
            if message is None:
                return
        elif not hasattr(message, "jsonrpc"):      # a JSON array (batch), number, string, null
            log.warning("ignored a message that is not a JSON object")
            return
        if isinstance(message, RPCRequest):
            refused = self._refusal(message.method)
            if refused is not None:
                self._send_response(message.id, error=refused.to_response_error())
                return
        elif isinstance(message, RPCNotification):
            if message.method == types.CANCEL_REQUEST and not _valid_id(getattr(message.params, "id", None)):
                log.warning("ignored $/cancelRequest: not a request id")
                return
            if self._workspace is None and message.method not in (types.EXIT, types.CANCEL_REQUEST):
                log.warning("ignored %s: the server is not initialized yet", message.method)
                return
        super().handle_message(message)

    def _refusal(self, method: str) -> Optional[JsonRpcException]:
        """The error a request gets in the server's current state (None: handle it)."""
        if self._shutdown:
            return JsonRpcInvalidRequest(f"Invalid Request: {method} after shutdown")
        if self._workspace is None and method != types.INITIALIZE:
            return JsonRpcServerNotInitialized(f"ServerNotInitialized: {method} before initialize")
        if self._workspace is not None and method == types.INITIALIZE:
            return JsonRpcInvalidRequest("Invalid Request: the server is already initialized")
        return None

    # -- answers -------------------------------------------------------------------------------
    def _send_data(self, data: Any):
        """pygls's, but an answer whose result is JSON text already (``JsonText``) is written
        around it, as pygls's ``json.dumps`` of the response would write it."""
        result = getattr(data, "result", None)
        if not isinstance(result, JsonText):             # (only a response has a result)
            return super()._send_data(data)
        if self.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        body = ('{"id": %s, "result": %s, "jsonrpc": "2.0"}' % (json.dumps(data.id), result)).encode(self.CHARSET)
        if self._include_headers:
            body = (f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; "
                    f"charset={self.CHARSET}\r\n\r\n").encode(self.CHARSET) + body
        try:
            written = self.writer.write(body)
            if inspect.isawaitable(written):
                asyncio.ensure_future(written)
        except BrokenPipeError:
            log.exception("Error sending data. BrokenPipeError")
            raise
        except Exception as error:
            log.exception("Error sending data")
            self._server._report_server_error(error, JsonRpcInternalError)

    def _send_response(self, msg_id, result: Any | None = None, error: Optional[types.ResponseError] = None):
        if msg_id in self.silent_ids:           # answered by the start-up front
            self.silent_ids.discard(msg_id)
            return
        if error is not None:
            error = public_error(error)
        super()._send_response(msg_id, result, error)
