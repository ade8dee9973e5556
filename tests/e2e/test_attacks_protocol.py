"""End-to-end attacks on the protocol layer (issue 13, cases 1 and 5).

1. A request on a ``file://`` URI the editor never opened reads nothing but a regular file
   inside the configured folders, size-capped: not a FIFO (it would block the server for good),
   not /dev/zero (memory without bound), not /proc/self/environ (the server's secrets), not a
   file outside through a symlink or ``..``.
5. A request whose params fail validation gets -32602 (InvalidParams), a request before
   ``initialize`` -32002, one after ``shutdown`` -32600; an error reply never carries a Python
   traceback or a path of the installation; a notification with bad params changes nothing.

A request that gets no answer is found without waiting for it: a valid request sent after it is
answered first in order (the server reads messages one at a time), then the first must be done.
"""
from __future__ import annotations

import asyncio
import errno
import os
import sys
import uuid
from concurrent.futures import Future
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start

ROOT = Path(__file__).resolve().parents[2]
SECRET = "https://paperlens:hunter2@secret.example.org/token"
OUTSIDE_URL = "https://outside.example.org/private-notes"
INSIDE_URL = "https://inside.example.org/paper"
SEQ = (list, tuple)


@pytest.fixture(autouse=True)
def _a_secret_in_the_environment(monkeypatch):
    """The server inherits a URL with a password in its environment (as a token in a real
    user's environment would be)."""
    monkeypatch.setenv("PAPERLENS_ATTACK_SECRET", SECRET)


def _ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def send_raw(client: LanguageClient, method: str, params=None, *, omit_params: bool = False,
             message: dict | None = None) -> Future:
    """Send a request as raw JSON (no client-side validation); its answer resolves the future
    (an error answer as a JsonRpcException)."""
    msg_id = f"raw-{uuid.uuid4().hex}"
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future
    msg = message if message is not None else {"jsonrpc": "2.0", "id": msg_id, "method": method}
    msg["id"] = msg_id
    if not omit_params and message is None:
        msg["params"] = params
    client.protocol._send_data(msg)
    return future


async def answered_in_order(client: LanguageClient, *futures: Future) -> None:
    """A valid request sent after ``futures`` is answered: every one of them must have been
    answered before it (requests with bad params are answered as they are read)."""
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    assert isinstance(status, dict)
    for n, f in enumerate(futures):
        assert f.done(), f"request {n} got no answer"


def error_of(future: Future) -> JsonRpcException:
    exc = future.exception()
    assert isinstance(exc, JsonRpcException), f"expected an error answer, got {future.result()!r}"
    return exc


def assert_no_internals(error: JsonRpcException) -> None:
    """No traceback, no source file, no path of the installation in an error reply."""
    text = f"{error.message} {error.data!r}"
    for leak in ("Traceback", 'File "', ".py", "site-packages", str(ROOT), sys.prefix, sys.base_prefix):
        assert leak not in text, (leak, text)


async def assert_normal_hover(client: LanguageClient, library_dir: Path) -> None:
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    h = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(uri), position=find_position(tex, r"\cite{vaswani2017attention}", len(r"\cite{") + 3)))
    assert h is not None and "**Attention Is All You Need**" in h.contents.value


# --- case 1: documents the editor never opened -----------------------------------------------------------

async def _every_request_is_empty(client: LanguageClient, uri: str) -> None:
    pos = types.Position(line=0, character=3)
    links = await client.text_document_document_link_async(types.DocumentLinkParams(text_document=_ident(uri)))
    assert not links, (uri, links)
    assert await client.text_document_hover_async(types.HoverParams(text_document=_ident(uri), position=pos)) is None
    assert not await client.text_document_definition_async(types.DefinitionParams(
        text_document=_ident(uri), position=pos))
    completion = await client.text_document_completion_async(types.CompletionParams(
        text_document=_ident(uri), position=pos))
    assert completion is None or not (completion.items if isinstance(completion, types.CompletionList) else completion)
    assert not await client.text_document_references_async(types.ReferenceParams(
        text_document=_ident(uri), position=pos, context=types.ReferenceContext(include_declaration=True)))
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=_ident(uri)))
    assert not lenses


def _no_reader(fifo: Path) -> bool:
    """True when no process holds ``fifo`` open for reading (opening it to write without
    blocking then fails with ENXIO)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        return exc.errno == errno.ENXIO
    os.close(fd)
    return False


async def test_requests_on_documents_never_opened_read_nothing_they_should_not(
        client: LanguageClient, library_dir: Path, tmp_path: Path):
    drafts = library_dir / "drafts"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.md").write_text(f"Private notes: {OUTSIDE_URL} and \\cite{{vaswani2017attention}}\n",
                                      encoding="utf-8")
    os.mkfifo(drafts / "pipe.tex")
    os.mkfifo(outside / "pipe.tex")
    (drafts / "notes-link.md").symlink_to(outside / "notes.md")
    (drafts / "elsewhere").symlink_to(outside, target_is_directory=True)
    big = drafts / "big.md"
    big.write_text(f"see {INSIDE_URL}/big\n", encoding="utf-8")
    os.truncate(big, 64 * 1024 * 1024)                    # sparse: larger than any cap, nothing written
    refused = [
        "file:///proc/self/environ",                       # the server's environment
        (drafts / "notes-link.md").as_uri(),               # a symlink inside, to a file outside
        (drafts / "elsewhere" / "notes.md").as_uri(),      # through a symlinked folder
        drafts.as_uri() + "/../../outside/notes.md",       # up and out with ..
        (outside / "notes.md").as_uri(),                   # outside the folders
        big.as_uri(),                                      # over the size cap
        (drafts / "pipe.tex").as_uri(),                    # a FIFO inside: would block for good
        (outside / "pipe.tex").as_uri(),
        "file:///dev/zero",                                # would grow memory without bound
        "file:///dev/stdin",
        (drafts / "missing.tex").as_uri(),
        drafts.as_uri(),                                   # a folder
    ]
    for uri in refused:
        await _every_request_is_empty(client, uri)
    # nothing opened the FIFOs for reading (a blocked read would still hold one open)
    assert _no_reader(drafts / "pipe.tex") and _no_reader(outside / "pipe.tex")
    # a regular file inside the paper folders is still read when the editor has not opened it
    (drafts / "reading-list.md").write_text(f"To read: {INSIDE_URL}\n", encoding="utf-8")
    links = await client.text_document_document_link_async(types.DocumentLinkParams(
        text_document=_ident((drafts / "reading-list.md").as_uri())))
    assert [link.target for link in links] == [INSIDE_URL]
    tex = drafts / "survey.tex"
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(tex.as_uri()),
        position=find_position(tex, r"\cite{vaswani2017attention}", len(r"\cite{") + 3)))
    assert hover is not None and "**Attention Is All You Need**" in hover.contents.value
    # nothing from the environment or the outside reached the editor in any way
    said = " ".join([m.message for m in client.messages] + [m.message for m in client.log_messages])
    assert "hunter2" not in said and OUTSIDE_URL not in said
    await assert_normal_hover(client, library_dir)


# --- case 5: params that fail validation, internals in error replies -----------------------------------

DOC = {"uri": "file:///nowhere/draft.tex"}
BAD_REQUESTS = {
    "a negative line": ("textDocument/hover", {"textDocument": DOC, "position": {"line": -1, "character": 0}}),
    "a character that is text": ("textDocument/hover", {"textDocument": DOC, "position": {"line": 0, "character": "a"}}),
    "no position": ("textDocument/hover", {"textDocument": DOC}),
    "a line past uinteger": ("textDocument/definition",
                             {"textDocument": DOC, "position": {"line": 2**40, "character": 0}}),
    "no character": ("textDocument/completion", {"textDocument": DOC, "position": {"line": 0}}),
    "a number for a document": ("textDocument/references",
                                {"textDocument": 5, "position": {"line": 0, "character": 0},
                                 "context": {"includeDeclaration": True}}),
    "no context": ("textDocument/references", {"textDocument": DOC, "position": {"line": 0, "character": 0}}),
    "a list for params": ("textDocument/documentLink", []),
    "null params": ("textDocument/codeLens", None),
    "a string for a range": ("textDocument/codeAction", {"textDocument": DOC, "range": "all",
                                                         "context": {"diagnostics": []}}),
    "no query": ("workspace/symbol", {}),
    "no command": ("workspace/executeCommand", {"arguments": []}),
}


async def test_invalid_params_are_answered_with_invalid_params(client: LanguageClient, library_dir: Path):
    futures = {name: send_raw(client, method, params) for name, (method, params) in BAD_REQUESTS.items()}
    futures["no params at all"] = send_raw(client, "textDocument/hover", omit_params=True)
    await answered_in_order(client, *futures.values())
    for name, future in futures.items():
        error = error_of(future)
        assert error.code == -32602, (name, error.code, error.message)
        method = BAD_REQUESTS.get(name, ("textDocument/hover",))[0]
        assert method in error.message, (name, error.message)
        assert_no_internals(error)
    # which field is wrong is said
    assert "position.character" in error_of(futures["a character that is text"]).message
    assert "position" in error_of(futures["no position"]).message
    # notifications with bad params: no answer, no crash, nothing shown to the user
    shown = len(client.messages)
    for method, params in (("textDocument/didOpen", {"textDocument": {"uri": "file:///x.tex"}}),
                           ("textDocument/didChange", {"textDocument": {"uri": "file:///x.tex", "version": 2},
                                                       "contentChanges": "everything"}),
                           ("textDocument/didClose", 5),
                           ("workspace/didChangeWatchedFiles", {"changes": [{"uri": 1, "type": "x"}]}),
                           ("$/cancelRequest", {"id": {"not": "an id"}})):
        client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})
    # and messages that are not JSON-RPC requests at all
    not_rpc = [send_raw(client, "", message={"method": "textDocument/hover"}),                 # no "jsonrpc"
               send_raw(client, "", message={"jsonrpc": "1.0", "method": "textDocument/hover"}),
               send_raw(client, "", message={"jsonrpc": "2.0", "method": ["textDocument/hover"]})]
    await answered_in_order(client, *not_rpc)
    assert all(error_of(f).code == -32600 for f in not_rpc)
    assert len(client.messages) == shown, [m.message for m in client.messages[shown:]]
    await assert_normal_hover(client, library_dir)


COMMAND_ARGUMENTS = [["a", None], [None, None], [None], [], ["a", "ten"], ["a", 1e308], ["a", -5],
                     ["a", float("nan")], [{"query": 5, "limit": "x"}], [{"uri": 5}], ["\x00", 2**70],
                     [[1, 2]], [{"query": ["x"]}], [True, False], ["file:///dev/zero"], ["/proc/self/environ"]]


async def test_commands_with_bad_arguments_never_answer_with_internals(client: LanguageClient, library_dir: Path):
    from paperlens.lsp.server import COMMANDS

    futures = []
    for command in COMMANDS:
        for args in COMMAND_ARGUMENTS:
            if command == "paperlens.server.reindex" and args and args[0]:
                continue                                   # a truthy first argument asks for a rebuild
            futures.append((command, args, send_raw(client, "workspace/executeCommand",
                                                    {"command": command, "arguments": args})))
    await answered_in_order(client, *(f for _, _, f in futures))
    for command, args, future in futures:
        if future.exception() is not None:
            error = error_of(future)
            assert error.code == -32602, (command, args, error.code, error.message)
            assert_no_internals(error)
    answers = {(c, repr(a)): f for c, a, f in futures}
    # the example: a null limit is no limit given
    papers = answers[("paperlens.server.papers", repr(["a", None]))].result()
    assert isinstance(papers, SEQ) and papers
    assert isinstance(answers[("paperlens.server.search", repr(["a", "ten"]))].result(), SEQ)
    # a query that is not text is an invalid param
    assert error_of(answers[("paperlens.server.papers", repr([[1, 2]]))]).code == -32602
    # no PDF outside the library is opened as a paper
    for args in (["file:///dev/zero"], ["/proc/self/environ"]):
        answer = answers[("paperlens.server.openPaperText", repr(args))].result()
        assert getattr(answer, "error", None) == "not a PDF", answer
    unknown = send_raw(client, "workspace/executeCommand", {"command": "paperlens.server.nope", "arguments": []})
    await answered_in_order(client, unknown)
    assert error_of(unknown).code == -32602 and "paperlens.server.nope" in error_of(unknown).message
    await assert_normal_hover(client, library_dir)


# --- case 5: before initialize, a second initialize, after shutdown -----------------------------------------

@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bare_client(lsp_client: LanguageClient):
    """A server that has not been initialized; the test initializes, shuts down and exits it
    (if the test stops before, the server is told to exit, or killed if it cannot hear it)."""
    yield
    server = lsp_client._server
    if server is not None and server.returncode is None:
        lsp_client.exit(None)
        try:
            await asyncio.wait_for(server.wait(), 30)
        except asyncio.TimeoutError:
            server.kill()


async def test_requests_before_initialize_and_after_shutdown(bare_client: LanguageClient, library_dir: Path,
                                                             index_dir: Path, tmp_path: Path):
    client = bare_client
    early = tmp_path / "early.tex"
    early.write_text("\\cite{vaswani2017attention}\n", encoding="utf-8")
    # a notification before initialize changes nothing (and is not answered)
    client.protocol._send_data({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": early.as_uri(), "languageId": "latex", "version": 1,
                         "text": early.read_text(encoding="utf-8")}}})
    before = [send_raw(client, "textDocument/hover", {"textDocument": {"uri": early.as_uri()},
                                                      "position": {"line": 0, "character": 8}}),
              send_raw(client, "workspace/executeCommand", {"command": "paperlens.server.status", "arguments": []}),
              send_raw(client, "shutdown", None),
              send_raw(client, "textDocument/hover", {"textDocument": 5})]   # state first, then params
    # the server reads in order: the initialize answer comes after theirs (a client that does
    # not register file watchers: this test client cannot answer that request mid-test)
    await start(client, library_dir, index_dir, spec="neovim@v0.7.0")
    for future in before:
        error = error_of(future)
        assert error.code == -32002, (error.code, error.message)
        assert_no_internals(error)
    # the document opened before initialize is not open: it is outside the folders, so unread
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(early.as_uri()), position=types.Position(line=0, character=8)))
    assert hover is None
    await assert_normal_hover(client, library_dir)
    # a second initialize is refused; the server keeps serving
    again = send_raw(client, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    await answered_in_order(client, again)
    assert error_of(again).code == -32600
    await assert_normal_hover(client, library_dir)
    # after shutdown every request is refused, with an answer
    await client.shutdown_async(None)
    after = [send_raw(client, "textDocument/hover", {"textDocument": {"uri": early.as_uri()},
                                                     "position": {"line": 0, "character": 8}}),
             send_raw(client, "workspace/executeCommand", {"command": "paperlens.server.status", "arguments": []})]
    done = asyncio.gather(*(asyncio.wrap_future(f) for f in after), return_exceptions=True)
    results = await done
    assert all(isinstance(r, JsonRpcException) and r.code == -32600 for r in results), results
    client.exit(None)
    assert await client._server.wait() == 0
