"""The start-up front: ``paperlens serve``'s first answers, before pygls is loaded.

Loading pygls and lsprotocol takes ~0.3 s (attrs makes ~570 protocol classes): more than opening
a 10k library and answering a completion together. Until they are loaded the front reads the
connection itself:

* it answers ``initialize`` with the capabilities pygls computes for the server
  (``capabilities.py``, written by ``scripts/gen_capabilities.py``; a test holds them to what
  pygls builds) and the position encoding pygls would choose;
* it opens the library with the settings pygls' handlers would apply (``initializationOptions``,
  then the editor's ``workspace/configuration`` answer when it has one: the editor's win);
* it answers the completions that come before anything else, with the completion adapter's own
  JSON (``lsp/features/completion.py``) over the same session.

Then it loads the server and hands the connection over (:class:`Handoff`): what it read is
replayed to pygls in order (``initialize`` under an id pygls' answer to which is not sent, as the
editor has it; ``initialized``; the documents opened), except the completions it answered.
Anything it does not expect (another request, a change to a document, unreadable input, an
error) ends the front at once, that message replayed first: pygls answers it as it always did.
``PAPERLENS_NO_FRONT=1`` leaves the whole start to pygls."""
from __future__ import annotations

import copy
import json
import logging
import os
import select
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, BinaryIO, Optional

from paperlens import __version__
from paperlens.lsp import framing
from paperlens.lsp.configuration import editor_section
from paperlens.lsp.convert import ENCODINGS, UTF16
from paperlens.lsp.uris import initialize_folders

log = logging.getLogger("paperlens.front")

HIDDEN_ID = "paperlens-front:initialize"        # the replayed initialize: its answer is not sent
CONFIG_ID = "paperlens-front:configuration"
WAIT_INITIALIZE = 2.0     # s for the first message (an editor sends initialize at once)
IDLE = 0.1                # s without a message after which the front hands over
MOST = 2.0                # s the front serves at most


class _Unreadable(Exception):
    """Input the front does not read (pygls answers it)."""


class _HandOver(Exception):
    """A message the front took (it is in the replay) that pygls must answer."""


def _uint(value: Any) -> bool:
    return type(value) is int and 0 <= value < 2 ** 31


def _request_id(message: dict) -> bool:
    """Whether the message's id is one the front answers under (pygls answers the others)."""
    return _uint(message.get("id")) or isinstance(message.get("id"), str)


def _framed(message: dict) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class _Reader:
    """Messages from a file descriptor, each with its bytes as read (for the replay)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def message(self, timeout: float) -> Optional[tuple[bytes, Any]]:
        """The next message (its bytes, its JSON), or None when none came within ``timeout``.
        _Unreadable (the bytes stay in ``buf``) for headers or JSON it cannot read; EOFError
        when the editor closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._take()
            if got is not None:
                return got
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def _take(self) -> Optional[tuple[bytes, Any]]:
        """The message at the start of ``buf`` once it is whole (its header read by
        lsp/framing.py's rule, as the server's reader reads it: a line at a time, at most
        HEADER_MOST bytes of one), or None. A header the rule skips a message for, or passes
        something over in, is _Unreadable: the server's reader skips it or says so."""
        buf, header, at = self.buf, framing.Header(), 0
        while True:
            end = buf.find(b"\n", at, at + framing.HEADER_MOST)
            if end < 0:
                if len(buf) - at < framing.HEADER_MOST:
                    return None
                end = at + framing.HEADER_MOST - 1
            frame, at = header.line(buf[at:end + 1]), end + 1
            if frame is not None:
                break
        if frame.skip is not None or frame.notes:
            raise _Unreadable(frame.skip or frame.notes[0])
        total = at + frame.length
        if len(buf) < total:
            return None
        try:
            message = json.loads(buf[at:total])
        except (ValueError, RecursionError):       # (RecursionError: nested too deep to read)
            raise _Unreadable("not JSON") from None
        raw, self.buf = buf[:total], buf[total:]
        return raw, message


class Replayed:
    """A binary stdin for pygls: the bytes the front read first, then the real stream."""

    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        self._first, self._rest = first, rest

    def readline(self, size: int = -1) -> bytes:
        """A line (at most ``size`` bytes when ``size`` >= 0), as a binary stream's."""
        if not self._first:
            return self._rest.readline(size)
        end = self._first.find(b"\n") + 1 or len(self._first)
        if size >= 0:
            end = min(end, size)
        line, self._first = self._first[:end], self._first[end:]
        if self._first or line.endswith(b"\n") or len(line) == size:
            return line
        return line + self._rest.readline(size - len(line) if size >= 0 else -1)

    def read(self, n: int) -> bytes:
        if self._first:
            part, self._first = self._first[:n], self._first[n:]
            return part + (self._rest.read(n - len(part)) if len(part) < n else b"")
        return self._rest.read(n)


@dataclass
class Handoff:
    """What the server goes on from: the bytes to replay, the session (None: make one), the ids
    of requests whose answers are not sent (the front sent them), whether the session has its
    settings already (initializationOptions, then the editor's workspace/configuration answer
    when it asks for them: the server does not apply or ask for them again)."""
    replay: bytes = b""
    session: Any = None
    silent: set = field(default_factory=set)
    configured: bool = False


def position_encoding(capabilities: dict) -> str:
    """The encoding pygls chooses: the client's first among UTF-8, UTF-16 and UTF-32 (its
    ``general.positionEncodings``), else UTF-16."""
    general = capabilities.get("general")
    offered = general.get("positionEncodings") if isinstance(general, dict) else None
    for kind in offered if isinstance(offered, list) else ():
        if kind in ENCODINGS:
            return kind
    return UTF16


def initialize_result(capabilities: dict, encoding: str) -> dict:
    """``initialize``'s answer as pygls gives it (see the module's documentation)."""
    from paperlens.lsp.capabilities import SERVER

    server = copy.deepcopy(SERVER)
    sync = (capabilities.get("textDocument") or {}).get("synchronization")
    for name in ("willSave", "willSaveWaitUntil"):
        # pygls says False when the client says anything (the server registers neither)
        if isinstance(sync, dict) and isinstance(sync.get(name), bool):
            server["textDocumentSync"][name] = False
    return {"capabilities": {"positionEncoding": encoding, **server},
            "serverInfo": {"name": "paperlens", "version": __version__}}


@dataclass(frozen=True)
class Initialize:
    """What is read of an ``initialize`` request (:func:`read_initialize`): its id, its params
    as sent, and what the front goes on from (the position encoding pygls chooses, the
    initializationOptions, the workspace folders, whether the editor answers
    workspace/configuration)."""
    id: Any
    params: dict
    encoding: str
    options: Any
    asks_configuration: bool

    def folders(self) -> list[str]:
        """The workspace folders it names (lsp/uris.py's rule, the server's)."""
        params = self.params
        return initialize_folders([w["uri"] for w in params.get("workspaceFolders") or []],
                                  params.get("rootUri"), params.get("rootPath"))

    def kept(self) -> dict:
        """The params with only the parts read here (what the server goes on with when
        lsprotocol cannot read the others: lsp/protocol.py)."""
        params = self.params
        kept = {k: params[k] for k in ("processId", "rootUri", "rootPath", "workspaceFolders",
                                       "initializationOptions") if k in params}
        caps = params["capabilities"]
        general, workspace = caps.get("general") or {}, caps.get("workspace") or {}
        kept["capabilities"] = {}
        if isinstance(general.get("positionEncodings"), list):
            kept["capabilities"]["general"] = {"positionEncodings": general["positionEncodings"]}
        if isinstance(workspace.get("configuration"), bool):
            kept["capabilities"]["workspace"] = {"configuration": workspace["configuration"]}
        return kept


def read_initialize(message: Any) -> Optional[Initialize]:
    """What is read of an ``initialize`` request the front answers, or None (pygls answers it:
    anything lsprotocol might refuse is left to it)."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != "initialize":
        return None
    if not _request_id(message):
        return None
    params = message.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("capabilities"), dict):
        return None
    if params.get("processId") is not None and type(params.get("processId")) is not int:
        return None
    for name in ("rootUri", "rootPath"):
        if params.get(name) is not None and not isinstance(params[name], str):
            return None
    folders = params.get("workspaceFolders")
    if folders is not None and not (isinstance(folders, list) and all(
            isinstance(f, dict) and isinstance(f.get("uri"), str) and isinstance(f.get("name"), str) for f in folders)):
        return None
    caps = params["capabilities"]
    for part in ("general", "workspace", "textDocument", "window"):
        if caps.get(part) is not None and not isinstance(caps[part], dict):
            return None
    offered = (caps.get("general") or {}).get("positionEncodings")
    if offered is not None and not (isinstance(offered, list) and all(isinstance(k, str) for k in offered)):
        return None
    return Initialize(message["id"], params, position_encoding(caps), params.get("initializationOptions"),
                      bool((caps.get("workspace") or {}).get("configuration")))


class Front:
    """See the module's documentation. :meth:`run` serves, then says what to hand over."""

    def __init__(self, fd: int = 0, out: Optional[BinaryIO] = None) -> None:
        self.reader = _Reader(fd)
        self.out = out if out is not None else sys.stdout.buffer
        self.replay: list[Optional[bytes]] = []      # None: a completion the front answered
        self.silent: set = set()
        self.session = None
        self.docs: dict[str, Any] = {}
        self.initialize: Optional[Initialize] = None      # what is read of the editor's initialize
        self.configured = False              # the library is open with the settings to use
        self.waiting: list[tuple[int, dict]] = []      # completions until then (their place in the replay)
        self.answered = 0
        self.why = "idle"                    # why the front stopped

    def run(self) -> Handoff:
        began = time.monotonic()
        try:
            self._serve()
        except (_Unreadable, _HandOver, EOFError) as exc:
            self.why = str(exc) or type(exc).__name__
        except Exception:
            self.why = "failed"
            log.exception("start-up front failed; the server answers from here")
        log.info("start-up front: %s; %d completions answered in %.3f s (process CPU %.3f s); the server "
                 "goes on (%s)", "initialize answered" if self.silent else "initialize left to the server",
                 self.answered, time.monotonic() - began, time.process_time(), self.why)
        return Handoff(b"".join(raw for raw in self.replay if raw is not None) + self.reader.buf,
                       self.session, self.silent, self.configured)

    def _send(self, message: dict) -> None:
        self.out.write(_framed(message))
        self.out.flush()

    def _serve(self) -> None:
        got = self.reader.message(WAIT_INITIALIZE)
        if got is None:
            return
        raw, message = got
        initialize = read_initialize(message)
        if initialize is None:
            self.replay.append(raw)
            return
        self.initialize = initialize
        self.replay.append(_framed({**message, "id": HIDDEN_ID}))
        self.silent.add(HIDDEN_ID)
        self._send({"jsonrpc": "2.0", "id": initialize.id,
                    "result": initialize_result(initialize.params["capabilities"], initialize.encoding)})
        from paperlens.lsp.session import Session

        self.session = Session()
        if not initialize.asks_configuration:
            self._configure(None)
        ends = time.monotonic() + MOST
        while time.monotonic() < ends:
            # once a completion is answered, only what has come already (the server starts now)
            got = self.reader.message(0 if self.answered else IDLE)
            if got is None:
                self.why = "answered" if self.answered else "idle"
                return
            if not self._take(*got):
                self.why = f"{got[1].get('method') if isinstance(got[1], dict) else 'a message'} for the server"
                self.replay.append(got[0])
                return
        self.why = "time"

    def _configure(self, editor: Any) -> None:
        """Settings as the server's handlers apply them: initializationOptions, then the
        editor's own; the library opened (its tables read with the collector paused)."""
        from paperlens.core.collector import gc_paused

        with gc_paused():
            self.session.configure(self.initialize.options, self.initialize.folders())
            settings = editor_section(editor)
            if settings is not None:
                self.session.configure(settings)
        self.configured = True

    def _take(self, raw: bytes, message: Any) -> bool:
        """Serve one message (kept in the replay unless it is the front's own business or
        answered); False: hand over, this message next (not in the replay yet)."""
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return False
        method = message.get("method")
        if method is None and message.get("id") == CONFIG_ID:     # the editor's settings
            self._configure(message.get("result"))
            self._answer_waiting()
            return True
        if method == "initialized" and "id" not in message:
            self.replay.append(raw)
            if self.initialize.asks_configuration:
                self._send({"jsonrpc": "2.0", "id": CONFIG_ID, "method": "workspace/configuration",
                            "params": {"items": [{"section": "paperlens"}]}})
            return True
        if method == "textDocument/didOpen" and "id" not in message:
            item = (message.get("params") or {}).get("textDocument")
            if not (isinstance(item, dict) and isinstance(item.get("uri"), str) and isinstance(item.get("text"), str)
                    and isinstance(item.get("languageId"), str) and type(item.get("version")) is int):
                return False
            from paperlens.lsp.features._doc import Document

            self.docs[item["uri"]] = Document(item["uri"], item["text"], item["languageId"], item["version"])
            self.replay.append(raw)
            return True
        if method == "textDocument/completion" and _request_id(message):
            self.waiting.append((len(self.replay), message))
            self.replay.append(raw)
            self._answer_waiting()
            return True
        return False

    def _answer_waiting(self) -> None:
        """Answer the completions asked for so far, once the library is open."""
        if not self.configured:
            return
        from paperlens.lsp.features import completion

        ls = SimpleNamespace(session=self.session, client_capabilities=None,
                             workspace=SimpleNamespace(text_documents=self.docs, position_encoding=self.initialize.encoding))
        while self.waiting:
            at, message = self.waiting[0]
            params = message.get("params")
            doc = params.get("textDocument") if isinstance(params, dict) else None
            where = params.get("position") if isinstance(params, dict) else None
            if not (isinstance(doc, dict) and isinstance(doc.get("uri"), str) and isinstance(where, dict)
                    and _uint(where.get("line")) and _uint(where.get("character"))):
                raise _HandOver("a completion pygls answers (its params)")
            request = SimpleNamespace(text_document=SimpleNamespace(uri=doc["uri"]),
                                      position=SimpleNamespace(line=where["line"], character=where["character"]))
            result = completion.completion(ls, request)
            self.waiting.pop(0)
            self.replay[at] = None
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            self.answered += 1


def configure_logging(log_file: Optional[str] = None, verbose: bool = False) -> None:
    """The server's log: stderr (stdout carries the protocol only), and ``log_file``."""
    root = logging.getLogger()
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if log_file:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setFormatter(handler.formatter)
        root.addHandler(fh)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):   # their request lines carry URLs
        logging.getLogger(name).setLevel(logging.WARNING)


def serve(log_file: Optional[str] = None, verbose: bool = False) -> int:
    """``paperlens serve``: the front, then the server (lsp/server.py) from where it stopped."""
    configure_logging(log_file, verbose)
    # (select() waits on pipes on POSIX systems only)
    off = os.environ.get("PAPERLENS_NO_FRONT") or os.name != "posix"
    handoff = Handoff() if off else Front().run()
    from paperlens.lsp.server import run

    return run(handoff=handoff)
