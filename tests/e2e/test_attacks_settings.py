"""End-to-end attacks through settings, .bib files and the LLM server (issue 13, beyond its list).

* Settings an editor sends are untrusted: ``1e999`` (infinity once parsed), NaN, a thousand
  index workers are a message and the default; ``initialize`` answers and every feature works.
* A 479-byte .bib of nested @string concatenations (1.5 GB once expanded) is indexed with its
  field cut to 64 KB and a warning; the server answers for it and for the rest of the library.
* An LLM server that drips a byte at a time: the summary call ends at timeoutSeconds and the
  user is told; with a call in flight, ``exit`` still ends the process.

Nothing here waits for time to pass: each test waits for an event (a notification, the drip
server's end, the process's end) and counts what the server did.
"""
from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start


class DripServer:
    """A chat-completions stand-in on 127.0.0.1 that answers each request with a 200 whose body
    comes one byte per ``step`` seconds, ``count`` bytes at most. ``requested`` is set when a
    request has been read, ``done`` when the connection ends; ``cut_off`` tells whether the
    client went away before every byte was sent."""

    def __init__(self, count: int, step: float = 0.05) -> None:
        self.count, self.step = count, step
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.requested, self.done = threading.Event(), threading.Event()
        self.cut_off = False
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.requested.set()
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n" % self.count)
            for _ in range(self.count):
                try:
                    conn.sendall(b" ")
                except OSError:
                    self.cut_off = True
                    return
                time.sleep(self.step)            # the attack: one byte at a time
        finally:
            conn.close()
            self.sock.close()
            self.done.set()


async def _hover(client: LanguageClient, uri: str, pos: types.Position):
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))


async def _complete(client: LanguageClient, folder: Path, text: str) -> list[str]:
    draft = folder / "drafts" / "attack-settings.tex"
    draft.write_text(text, encoding="utf-8")
    uri = open_doc(client, draft, "latex")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=0, character=len(text))))
    return [item.label for item in result.items]


async def _wait_for_log(client: LanguageClient, needle: str) -> None:
    while not any(needle in m.message for m in client.log_messages + client.messages):
        await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)


async def _status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))


# --- settings: infinity, NaN, a thousand workers ------------------------------------------------------------

BAD_SETTINGS = {"completion": {"limit": math.inf}, "indexWorkers": 1000,
                "summary": {"timeoutSeconds": math.nan, "maxInputTokens": -math.inf}}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bad_settings_client(lsp_client: LanguageClient, library_dir, index_dir):
    # sent as JSON Infinity / NaN, which the server's JSON reader turns into inf and nan (as
    # it does a literal 1e999)
    await start(lsp_client, library_dir, index_dir, settings=BAD_SETTINGS)
    yield
    await lsp_client.shutdown_session()


async def test_non_finite_and_huge_settings_are_reported_and_defaults_kept(
        bad_settings_client: LanguageClient, library_dir: Path):
    client = bad_settings_client
    # initialize answered (it failed with OverflowError before) and the library was indexed
    assert await _complete(client, library_dir, "\\cite{vaswani") == ["vaswani2017attention"]
    errors = (await _status(client))["settings_errors"]
    assert "paperlens.completion.limit must be a whole number, got inf; using the default 50" in errors
    assert any(e.startswith("paperlens.indexWorkers must be at most ") and "got 1000" in e
               for e in errors)
    assert any(e.startswith("paperlens.summary.timeoutSeconds must be a number, got nan")
               for e in errors)
    assert any(e.startswith("paperlens.summary.maxInputTokens must be a whole number, got -inf")
               for e in errors)
    assert len(errors) == 4
    shown = " ".join(m.message for m in client.messages)
    assert "paperlens.completion.limit" in shown          # the user is told


# --- a .bib string bomb in the library -------------------------------------------------------------------

@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bomb_client(lsp_client: LanguageClient, library_dir, index_dir):
    (library_dir / "bomb.bib").write_bytes(
        b"@string{a0={xxxxxxxxxx}}\n"
        + b"".join(b"@string{a%d = a%d # a%d # a%d # a%d}\n" % (i, i - 1, i - 1, i - 1, i - 1)
                   for i in range(1, 14))
        + b"@article{bomb2020, title=a13, author={Bomb, Ann}, year=2020}\n")   # 1.5 GB before
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


async def test_a_string_bomb_is_indexed_cut_to_a_field(bomb_client: LanguageClient, library_dir: Path):
    client = bomb_client
    # the index says what it did with the file (a log message to the editor)
    await asyncio.wait_for(_wait_for_log(
        client, "bomb.bib:15: entry 'bomb2020' field 'title': cut to its first 64 KB"), 60)
    assert await _complete(client, library_dir, "\\cite{bomb") == ["bomb2020"]
    assert await _complete(client, library_dir, "\\cite{vaswani") == ["vaswani2017attention"]
    draft = library_dir / "drafts" / "bomb.tex"
    draft.write_text("\\cite{bomb2020}\n", encoding="utf-8")
    uri = open_doc(client, draft, "latex")
    card = (await _hover(client, uri, types.Position(line=0, character=8))).contents.value
    assert card.startswith("**xxxxxxxxxx") and len(card) < 70_000


# --- an LLM server dripping bytes --------------------------------------------------------------------------

@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def drip_client(lsp_client: LanguageClient, library_dir, index_dir, request):
    timeout = request.param
    server = DripServer(count=400 if timeout == 1 else 1200)
    await start(lsp_client, library_dir, index_dir, settings={"summary": {
        "provider": "openai", "model": "test-model", "baseUrl": server.url,
        "apiKeyEnv": "PAPERLENS_TEST_NO_KEY", "timeoutSeconds": timeout}})
    lsp_client.drip = server
    yield
    if lsp_client._server.returncode is None:
        await lsp_client.shutdown_session()


async def _hover_summarised_paper(client: LanguageClient, library_dir: Path) -> None:
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    first = await _hover(client, uri, find_position(tex, "okafor2024sparse", 2))
    assert "Sparse Passage Retrieval" in first.contents.value   # answered without waiting


@pytest.mark.parametrize("drip_client", [1], indirect=True)
async def test_a_dripping_llm_server_is_cut_off_at_the_timeout(drip_client: LanguageClient,
                                                                 library_dir: Path):
    client = drip_client
    await _hover_summarised_paper(client, library_dir)
    # timeoutSeconds 1; the server would drip for 400 * 0.05 = 20 s (httpx's timeouts are per
    # read: each byte restarted them, and the call never timed out)
    await asyncio.wait_for(_wait_for_log(client, "did not answer within 1 s"), 60)
    await asyncio.to_thread(client.drip.done.wait)
    assert client.drip.cut_off
    tex = library_dir / "drafts" / "survey.tex"
    card = await _hover(client, tex.as_uri(), find_position(tex, "okafor2024sparse", 2))
    assert "Sparse Passage Retrieval" in card.contents.value      # still answering


@pytest.mark.parametrize("drip_client", [3600], indirect=True)
async def test_exit_ends_the_process_with_a_summary_call_in_flight(drip_client: LanguageClient,
                                                                    library_dir: Path):
    client = drip_client
    await _hover_summarised_paper(client, library_dir)
    await asyncio.to_thread(client.drip.requested.wait)     # the call is in flight
    # shutdown, exit, and wait for the process to end: the summary worker (not a daemon thread)
    # kept it alive, dripping, after exit
    await client.shutdown_session()
    assert client._server.returncode == 0
    await asyncio.to_thread(client.drip.done.wait)
    assert client.drip.cut_off                           # the process ended before the drip did
