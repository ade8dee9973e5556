"""An LLM server is untrusted: a call ends by its deadline however the server answers (a byte at
a time, in the headers or the body), a huge answer is refused, ``close()`` ends the calls in
flight, the workers never keep the process alive, and the base URL's credentials and query are
sent where they belong and never logged by paperlens (issue 13).

The servers here drip a bounded number of bytes: each test waits for an event (the call's
error, the server's end), and asserts by counting that the client went away before the server
was done, never by timing."""
from __future__ import annotations

import base64
import concurrent.futures
import json
import logging
import os
import re
import socket
import threading
import time

import pytest

from paperlens.config import SummarySettings
from paperlens.core.parse import parse_file
from paperlens.core.summarize import SummaryError, SummaryService, summarize_llm

KEY_ENV = "PAPERLENS_TEST_LIMITS_KEY"
PAPER = """\
Sparse Voxel Diffusion for Indoor Scene Completion
Ada Lovelace
Abstract
Indoor scene completion recovers the missing geometry of partially scanned rooms. We propose a
sparse voxel diffusion model that completes scans at high resolution.
1. Introduction
Depth sensors capture rooms only partially, because furniture occludes large parts of the scene.
"""


def _completion(content: str) -> bytes:
    return json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]}).encode()


class SlowServer:
    """One-connection HTTP server on 127.0.0.1 that answers ``mode``:

    * ``body``: a 200 whose body comes one byte per ``step`` seconds (``count`` bytes);
    * ``headers``: a status line, then header bytes one per ``step`` seconds;
    * ``huge``: a valid completion of ``count`` bytes, sent as fast as the client reads.

    ``requested`` is set when the request has been read; ``done`` when the server stops;
    ``cut_off`` tells whether the client went away before every byte was sent."""

    def __init__(self, mode: str, count: int, step: float = 0.05) -> None:
        self.mode, self.count, self.step = mode, count, step
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.requested, self.done = threading.Event(), threading.Event()
        self.cut_off = False
        self.sent = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _read_request(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += conn.recv(65536)

    def _chunks(self):
        if self.mode == "body":
            yield b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" \
                  b"content-length: %d\r\n\r\n" % self.count
            for _ in range(self.count):
                yield b" "
        elif self.mode == "headers":
            yield b"HTTP/1.1 200 OK\r\nx-slow: "
            for _ in range(self.count):
                yield b"a"
        else:                                 # made as it is sent: the test holds no copy
            head, tail = _completion("\x00").split(b"\\u0000")
            yield b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" \
                  b"content-length: %d\r\n\r\n" % (len(head) + self.count + len(tail)) + head
            chunk = b"a" * 65536
            for _ in range(self.count // len(chunk)):
                yield chunk
            yield b"a" * (self.count % len(chunk)) + tail

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        try:
            self._read_request(conn)
            self.requested.set()
            for chunk in self._chunks():
                try:
                    conn.sendall(chunk)
                except OSError:
                    self.cut_off = True
                    return
                self.sent += 1
                if self.mode != "huge":
                    time.sleep(self.step)          # the attack: one byte at a time
        finally:
            conn.close()
            self.sock.close()
            self.done.set()


pytestmark = pytest.mark.usefixtures("localhost_only")      # tests/conftest.py


@pytest.fixture
def paper(tmp_path):
    path = tmp_path / "paper.txt"
    path.write_text(PAPER, encoding="utf-8")
    result = parse_file(path)
    return result.papers[0], result.passages


def _settings(port: int, timeout: float, suffix: str = "") -> SummarySettings:
    return SummarySettings(provider="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1{suffix}",
                           api_key_env=KEY_ENV, max_input_tokens=2000, timeout_seconds=timeout)


@pytest.mark.parametrize("mode", ["body", "headers"])
def test_a_dripping_server_is_cut_off_at_the_deadline(paper, mode):
    # timeoutSeconds 1; the server would drip for 400 * 0.05 = 20 s: httpx's timeouts are per
    # read, so every byte restarted them and the call outlived its timeout by far
    server = SlowServer(mode, count=400)
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, _settings(server.port, timeout=1))
    assert info.value.kind == "timeout"
    assert "did not answer within 1 s" in str(info.value)
    server.done.wait()
    assert server.cut_off and server.sent < 400


def test_a_huge_answer_is_refused(paper):
    server = SlowServer("huge", count=64 * 1024 * 1024)          # 64 MB of summary
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, _settings(server.port, timeout=600))
    assert info.value.kind == "invalid"
    assert "larger than 8 MB" in str(info.value)
    server.done.wait()
    assert server.cut_off


def test_close_ends_a_call_in_flight_and_workers_never_hold_the_process(paper):
    # the call's own deadline is an hour away: only close() can end it before the server
    # has dripped its 600 bytes (60 s)
    server = SlowServer("body", count=600, step=0.1)
    done = []
    service = SummaryService(_settings(server.port, timeout=3600),
                             on_done=lambda *args: done.append(args))
    future = service.schedule(*paper, "hash-1")
    assert future is not None
    server.requested.wait()
    workers = [t for t in threading.enumerate() if t.name.startswith("paperlens-summary")]
    assert workers and all(t.daemon for t in workers)   # interpreter exit does not join them
    service.close()
    assert future.result() is None                       # ended, without a summary
    server.done.wait()
    assert server.cut_off and server.sent < 600
    assert done == []                                    # nothing is reported after close
    assert service.schedule(*paper, "hash-2") is None    # and nothing new starts


def test_closed_service_cancels_what_has_not_started(paper):
    server = SlowServer("body", count=600, step=0.1)
    service = SummaryService(_settings(server.port, timeout=3600), max_workers=1)
    first = service.schedule(*paper, "hash-1")
    second = service.schedule(*paper, "hash-2")          # queued behind the first
    server.requested.wait()
    service.close()
    concurrent.futures.wait([first, second])
    assert second.cancelled() and first.result() is None
    assert service.pending() == 0 and service.wait()
    server.done.wait()
    assert server.cut_off


def test_base_url_query_and_credentials_go_where_they_belong(httpserver, paper, caplog):
    caplog.set_level(logging.DEBUG)
    basic = "Basic " + base64.b64encode(b"alice:PASSWORD123").decode()
    httpserver.expect_request("/v1/chat/completions", method="POST",
                              query_string={"api-key": "QUERYSECRET"},
                              headers={"Authorization": basic}).respond_with_data(
        _completion("A summary of the paper [P1]."), content_type="application/json")
    settings = _settings(httpserver.port, timeout=30, suffix="?api-key=QUERYSECRET")
    settings.base_url = settings.base_url.replace("http://", "http://alice:PASSWORD123@")
    summary = summarize_llm(*paper, settings)
    assert summary.text == "A summary of the paper [P1]."
    (request, _), = httpserver.log
    assert request.path == "/v1/chat/completions"        # was /v1/?api-key=QUERYSECRETchat/...
    assert "PASSWORD123" not in caplog.text              # not in any logger's message
    for record in caplog.records:
        if record.name.startswith("paperlens"):
            assert "QUERYSECRET" not in record.getMessage()


def test_errors_name_the_server_without_its_secrets(paper):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                         # nothing listens there
    settings = _settings(port, timeout=5, suffix="?api-key=QUERYSECRET")
    settings.base_url = settings.base_url.replace("http://", "http://alice:PASSWORD123@")
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert info.value.kind == "connection"
    assert f"cannot reach http://127.0.0.1:{port}/v1?api-key=***" in str(info.value)
    assert "PASSWORD123" not in str(info.value) and "QUERYSECRET" not in str(info.value)


def test_a_long_answer_is_cut_to_a_card_summary(httpserver, paper):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_data(
        _completion("A sentence about the paper [P1]. " * 5000), content_type="application/json")
    summary = summarize_llm(*paper, _settings(httpserver.port, timeout=30))
    assert summary.text.startswith("A sentence about the paper [P1].")
    assert len(summary.text) <= 16 * 1024                 # 170 000 characters were kept


def test_think_blocks_are_removed_in_one_pass(httpserver, paper):
    # "<think>.*?</think>" scanned to the end for every unclosed "<think>": 20 000 of them
    # (140 KB) took 15 s, an 8 MB answer hours
    content = ("<think>weighing the passages</think>The paper completes rooms [P1]. "
               + "<think>" * 200_000)
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_data(
        _completion(content), content_type="application/json")
    summary = summarize_llm(*paper, _settings(httpserver.port, timeout=60))
    assert summary.text.startswith("The paper completes rooms [P1]. <think><think>")


@pytest.mark.parametrize("text, expected", [
    ("a<think>b</think>c", "a c"), ("<THINK>x</Think>y<think>z", " y<think>z"),
    ("<think>a</think><think>b</think>c", "  c"), ("a</think>b<think>c</think>d", "a</think>b d"),
    ("<think><think>x</think>y", " y"), ("no tags", "no tags")])
def test_think_blocks_as_the_pattern_removed_them(text, expected):
    from paperlens.core.summarize.client import _strip_think
    assert _strip_think(text) == expected == re.sub(r"<think>.*?</think>", " ", text,
                                                    flags=re.DOTALL | re.IGNORECASE)


def test_the_summary_cache_reads_only_small_regular_files(tmp_path):
    from paperlens.core.summarize import Summary, SummaryCache

    cache = SummaryCache(tmp_path / "cache")
    small = Summary(text="Short.", sentences=[], kind="extractive")
    cache.put("h1", "extractive", "", "", small)
    assert cache.get("h1", "extractive").text == "Short."
    # a huge entry (the index path, and so the cache, may be a folder others write to)
    cache.put("h2", "extractive", "", "", Summary(text="x" * 2_000_000, sentences=[],
                                                  kind="extractive"))
    assert cache.get("h2", "extractive") is None
    # a FIFO in an entry's place: opening it for reading waited for a writer, for ever
    fifo = cache.path(cache.key("h3", "extractive"))
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    assert cache.get("h3", "extractive") is None
