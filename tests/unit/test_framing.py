"""lsp/framing.py, the one rule both readers of the connection read headers by: the start-up
front's (front._Reader, on a file descriptor) and the server's (protocol.MessageReader under
pygls's read loop). The same bytes, malformed in every way the review found them read
differently (issue 14), give the same outcome through either: the messages read, each
skipped one said in the log, the stream's end where it ends. The front hands the server
everything from the first header it would not read; the server's reader skips it and reads
on (a header without a usable length: from the next Content-Length header)."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from paperlens.lsp import framing, front
from paperlens.lsp.protocol import MessageReader
from test_protocol import HANG_GUARD, _Handled, _served

A = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
B = {"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "Müller"}}
C = {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": "file:///a.tex"}}}


def body(message: dict) -> bytes:
    return json.dumps(message).encode("utf-8")


def frame(message: dict, head: bytes = b"Content-Length: %d\r\n\r\n") -> bytes:
    data = body(message)
    return (head % len(data) if b"%d" in head else head) + data


WORDS = {"Content-Length": {"jsonrpc": "2.0", "method": "m", "params": {"text": "Content-Length: 5 and more"}}}

# (bytes after a first good message A, the messages read after A, what the log says in order)
CASES = {
    "plain": (frame(B) + frame(C), [B, C], []),
    "any case, spaces, lines ending in \\n": (frame(B, b"content-LENGTH:\t %d \n\n") + frame(C), [B, C], []),
    "Content-Type first, charset utf8": (
        frame(B, b"Content-Type: application/vscode-jsonrpc; charset=utf8\r\nContent-Length: %d\r\n\r\n") + frame(C),
        [B, C], []),
    "Content-Type of another charset": (
        frame(B, b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=latin-1\r\n\r\n"),
        [B], ["read as UTF-8 (LSP's only charset), not as the 'latin-1'"]),
    "empty lines between messages": (b"\r\n\n" + frame(B) + b"\r\n" + frame(C), [B, C], []),
    "two Content-Length headers that agree": (
        frame(B, b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n".replace(b"%d", str(len(body(B))).encode())),
        [B], []),
    "X-Content-Length is another header": (frame(B, b"X-Content-Length: 3\r\nContent-Length: %d\r\n\r\n"),
                                           [B], []),
    "a line that is not name: value": (frame(B, b"hello\r\nContent-Length: %d\r\n\r\n") + frame(C), [B, C],
                                       ["not 'name: value' passed over"]),
    "bytes before Content-Length on its line": (frame(B, b'"}Content-Length: %d\r\n\r\n') + frame(C), [B, C],
                                                ["2 bytes before a Content-Length header dropped"]),
    "no Content-Length": (frame(B, b"Content-Type: application/vscode-jsonrpc\r\n\r\n") + frame(C), [C],
                          ["a message skipped: a header without a Content-Length",
                           f"{len(body(B))} bytes passed over up to the next Content-Length header"]),
    "Content-Length: 0": (b"Content-Length: 0\r\n\r\n" + frame(B), [B],
                          ["a message skipped: an empty body (Content-Length: 0)"]),
    "Content-Length headers that disagree": (
        frame(B, b"Content-Length: %d\r\nContent-Length: 3\r\n\r\n") + frame(C), [C],
        ["a message skipped: Content-Length headers that disagree", "passed over"]),
    "a body holding the words Content-Length, skipped": (
        frame(WORDS["Content-Length"], b"Content-Length: x\r\n\r\n") + frame(B), [B],
        ["not a number of bytes", "passed over up to the next Content-Length header"]),
    "a long skipped body holding the words Content-Length (its line cut)": (
        frame({"jsonrpc": "2.0", "method": "m", "params": {"text": "a" * 4000 + " Content-Length: 5 " + "b" * 8000}},
              b"Content-Type: application/vscode-jsonrpc\r\n\r\n") + frame(B) + frame(C), [B, C],
        ["a message skipped: a header without a Content-Length", "passed over up to the next Content-Length header"]),
    "a skipped body holding the words Content-Length, the next header Content-Type first": (
        frame(WORDS["Content-Length"], b"Content-Type: application/vscode-jsonrpc\r\n\r\n")
        + frame(B, b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: %d\r\n\r\n")
        + frame(C), [B, C],
        ["a message skipped: a header without a Content-Length", "passed over up to the next Content-Length header"]),
    "a header over 8 KB": (frame(B, b"Content-Length: %d\r\nX-Pad: " + b"p" * 9000 + b"\r\n\r\n") + frame(C), [C],
                           ["a message skipped: a header over 8 KB", "passed over"]),
    "a line with no end": (b"{" * 20000 + frame(B), [B], ["a header over 8 KB", "passed over"]),
    "the stream ends inside a header": (b"Content-Length: 10\r\nContent-Ty", [],
                                        ["the connection ended inside a message's header"]),
    "the stream ends inside a body": (b"Content-Length: 100\r\n\r\n{}", [],
                                      ["the connection ended inside a message's body"]),
    "the stream ends while passing over": (b"Content-Length: -1\r\n\r\n{}", [],
                                           ["not a number of bytes", "the connection ended inside a message's header"]),
}
for value in (b"x", b"-5", b"+5", b"0x10", b"1.0", b"12 34", b"", "５".encode(), b"9" * 30):
    CASES[f"Content-Length: {value.decode()}"] = (
        frame(B, b"Content-Length: " + value + b"\r\n\r\n") + frame(C), [C],
        ["a message skipped: a Content-Length that is not a number of bytes", "passed over"])
# a Content-Length header cut where a line longer than the readers read at once is cut
for k in (1, 6, 15, 17, 19, 21, 40):
    CASES[f"a Content-Length header {k} bytes before a cut"] = (
        frame(A, b"Content-Length: x\r\n\r\n") + b"}" * (framing.HEADER_MOST - k - len(body(A))) + frame(C), [C],
        ["not a number of bytes", "passed over up to the next Content-Length header"])


class Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _logged():
    """A handler catching the warnings of paperlens's loggers (the level set: an in-process
    command line run leaves it at ERROR), and what puts things back."""
    handler = Logged()
    logger = logging.getLogger("paperlens")
    level = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)

    def done() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return handler, done


def _server_reads(stream) -> list:
    """What pygls's read loop is handed through a MessageReader reading ``stream`` to its end."""
    from pygls.io_ import run_async

    stop = threading.Event()
    protocol = _Handled(stop)
    with ThreadPoolExecutor(1) as pool:
        asyncio.run(asyncio.wait_for(run_async(stop, MessageReader(stream, pool), protocol), HANG_GUARD))
    return protocol.seen


def through_server(data: bytes) -> tuple[list, list[str]]:
    handler, done = _logged()
    try:
        return _server_reads(io.BufferedReader(io.BytesIO(data))), handler.lines
    finally:
        done()


def through_front(data: bytes) -> tuple[list, list, list[str]]:
    """The front's reader on a pipe holding ``data`` (then closed) up to where it stops (a
    header it does not read, the end), then the server's reader from there, as ``serve`` goes
    on: (the front's messages, the server's, the log)."""
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, data), os.close(w)))
    writer.start()
    handler, done = _logged()
    try:
        reader, read = front._Reader(r), []
        while True:
            try:
                got = reader.message(HANG_GUARD)
            except (front._Unreadable, EOFError):
                break
            assert got is not None
            read.append(got[1])
        rest = os.fdopen(r, "rb", closefd=False)
        return read, _server_reads(front.Replayed(reader.buf, rest)), handler.lines
    finally:
        done()
        writer.join()
        os.close(r)


@pytest.mark.parametrize("name", list(CASES))
def test_both_readers_read_the_same(name, monkeypatch):
    tail, want, said = CASES[name]
    data = frame(A) + tail
    seen, logged = through_server(data)
    by_front, then_server, logged_with_front = through_front(data)
    assert seen == [A] + want
    assert by_front + then_server == seen and logged_with_front == logged
    assert by_front[:1] == [A]
    at = 0
    for words in said:                       # said in this order, and nothing else
        at = next(i for i, line in enumerate(logged) if i >= at and words in line) + 1
    assert len(logged) == len(said), logged


def test_a_body_over_the_bound_is_read_past_by_either(monkeypatch):
    monkeypatch.setattr(framing, "BODY_MOST", 1000)
    big = {"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "y" * 5000}}
    data = frame(A) + frame(big) + frame(B)
    seen, logged = through_server(data)
    by_front, then_server, logged_with_front = through_front(data)
    assert seen == [A, B] and by_front + then_server == seen and by_front == [A]
    assert logged == logged_with_front == [f"a message skipped: a body of {len(body(big))} bytes (at most 0 MB)"]


def test_the_server_answers_after_a_header_it_skipped():
    """The server stays: a request after a message without a Content-Length is answered."""
    request = frame({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "x"}})
    answers = _served(frame(A, b"Content-Type: application/vscode-jsonrpc\r\n\r\n") + request
                      + frame({"jsonrpc": "2.0", "method": "exit"}))
    assert answers[7]["error"]["code"] == -32002        # (before initialize)


def test_a_header_read_a_line_at_a_time():
    header = framing.Header()
    assert header.line(b"\r\n") is None and header.ended() is None
    assert header.line(b"Content-Length: 12\r\n") is None and header.ended()
    assert header.line(b"\r\n") == framing.Frame(12)
    assert header.line(b"Content-Length: 1e3\r\n") is None
    lost = header.line(b"\n")
    assert lost.skip.startswith("a Content-Length that is not a number of bytes") and lost.length == 0
    assert header.line(b"{}Content-Len") is None and header.line(b"gth: 5\r") is None
    assert header.line(b"\n") is None and header.line(b"\r\n") == framing.Frame(5, None, (
        "2 bytes passed over up to the next Content-Length header",))


@pytest.mark.parametrize("where", [0, 2])
def test_paperlens_serve_reads_on_after_a_header_it_skips(tmp_path, where):
    """``paperlens serve`` (the front, then the server): a message without a Content-Length,
    before initialize (the front hands it over at once) or after initialized (the front has
    answered initialize), is skipped; every request after it is answered."""
    import subprocess
    import sys

    skipped = {"jsonrpc": "2.0", "id": 5, "method": "workspace/symbol", "params": {"query": "x"}}
    sent = [frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "rootUri": None, "capabilities": {},
                "initializationOptions": {"paperlens": {"indexPath": str(tmp_path / "ix")}}}}),
            frame(A),
            frame({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "x"}}),
            frame({"jsonrpc": "2.0", "id": 8, "method": "shutdown"}),
            frame({"jsonrpc": "2.0", "method": "exit"})]
    sent.insert(where, frame(skipped, b"Content-Type: application/vscode-jsonrpc\r\n\r\n"))
    env = {**os.environ, "PAPERLENS_INDEX_DIR": str(tmp_path / "ix")}
    done = subprocess.run([sys.executable, "-m", "paperlens", "serve", "--stdio"], input=b"".join(sent),
                          capture_output=True, env=env, cwd=tmp_path, timeout=HANG_GUARD)
    answers, data = {}, done.stdout
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        n = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        message = json.loads(rest[:n])
        answers.setdefault(message.get("id"), message)
        data = rest[n:]
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert set(answers) >= {1, 7, 8} and 5 not in answers
    assert answers[7]["result"] == [] and "result" in answers[1] and answers[8]["result"] is None
    assert b"a message skipped: a header without a Content-Length" in done.stderr
    assert (b"start-up front: initialize answered" in done.stderr) == (where > 0)
