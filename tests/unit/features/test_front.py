"""The start-up front (lsp/front.py) in process: it answers ``initialize`` as pygls does and the
first completions as the completion adapter does, and hands the server everything else, in
order (the protocol's side of the hand-over: tests/unit/test_protocol.py)."""
from __future__ import annotations

import io
import json
import os

import pytest

from paperlens.lsp import front
from paperlens.lsp.server import initialize_result

from feature_fixtures import FakeServer
from library_fixtures import REFS_BIB

CLIENTS = [
    {},
    {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
    {"general": {"positionEncodings": ["utf-32"]}},
    {"general": {"positionEncodings": ["utf-7", "whatever"]}},
    {"workspace": {"configuration": True, "workspaceFolders": True,
                   "didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": True},
                   "fileOperations": {"didCreate": True, "willRename": True}},
     "textDocument": {"synchronization": {"willSave": True, "willSaveWaitUntil": True, "didSave": True},
                      "completion": {"completionItem": {"snippetSupport": True}},
                      "hover": {"contentFormat": ["markdown", "plaintext"]}, "rename": {"prepareSupport": True},
                      "diagnostic": {"dynamicRegistration": True}},
     "window": {"workDoneProgress": True}, "notebookDocument": {"synchronization": {}}},
    {"textDocument": {"synchronization": {"willSave": False}}},
    {"textDocument": {"synchronization": {"willSaveWaitUntil": True, "dynamicRegistration": False}}},
]


@pytest.mark.parametrize("caps", CLIENTS)
def test_initialize_is_answered_as_pygls_answers_it(caps):
    """If this fails after a change of the features the server registers: run
    scripts/gen_capabilities.py."""
    assert front.initialize_result(caps, front.position_encoding(caps)) == initialize_result(caps)


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def messages(data: bytes) -> list[dict]:
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b":")[1])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


def run_front(*sent) -> tuple[front.Handoff, list[dict]]:
    """The front over a pipe holding ``sent`` (messages, or bytes as they are), the editor
    silent after them; what it hands over, what it wrote."""
    r, w = os.pipe()
    try:
        os.write(w, b"".join(m if isinstance(m, bytes) else frame(m) for m in sent))
        out = io.BytesIO()
        handoff = front.Front(fd=r, out=out).run()
        return handoff, messages(out.getvalue())
    finally:
        os.close(w)
        os.close(r)


TEXT = "😀 é \\cite{vaswani2017} \\cite{vas"


@pytest.fixture
def editor(build):
    f = build(REFS_BIB + "%! draft.tex\n\\relax\n")
    uri = f.path("draft.tex").as_uri()

    def initialize(caps: dict, request_id=1) -> dict:
        options = {"paperlens": {"paperFolders": [str(f.folder)], "indexPath": str(f.folder.parent / "index")}}
        return {"jsonrpc": "2.0", "id": request_id, "method": "initialize",
                "params": {"processId": None, "rootUri": f.folder.as_uri(), "capabilities": caps,
                           "initializationOptions": options}}

    opened = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "latex", "version": 1, "text": TEXT}}}

    def completion(request_id, character: int, line: int = 0) -> dict:
        return {"jsonrpc": "2.0", "id": request_id, "method": "textDocument/completion",
                "params": {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}}

    return f, uri, initialize, opened, completion


def _shut(handoff: front.Handoff) -> None:
    if handoff.session is not None:
        handoff.session.shutdown()


@pytest.mark.parametrize("encoding, end", [("utf-8", len(TEXT.encode("utf-8"))), ("utf-16", len(TEXT) + 1),
                                           ("utf-32", len(TEXT))])
def test_the_first_completion_is_the_adapters_and_the_rest_is_handed_over(editor, encoding, end):
    f, uri, initialize, opened, completion = editor
    caps = {"general": {"positionEncodings": [encoding]}}
    initialized = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
    handoff, written = run_front(initialize(caps), initialized, opened, completion(2, end))
    try:
        answer, answered = written
        assert answer == {"jsonrpc": "2.0", "id": 1, "result": initialize_result(caps)}
        server = FakeServer(f, encoding)
        server.open(f.path("draft.tex"), TEXT)
        from lsprotocol import types

        from paperlens.lsp.features import completion as adapter
        want = adapter.completion(server, types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=end)))
        assert answered == {"jsonrpc": "2.0", "id": 2, "result": json.loads(json.dumps(want))}
        (item,) = answered["result"]["items"]
        assert item["label"] == "vaswani2017" and item["textEdit"]["range"]["end"]["character"] == end
        # pygls gets initialize (under an id whose answer it does not send), initialized and the
        # document: not the completion
        assert handoff.silent == {front.HIDDEN_ID}
        assert messages(handoff.replay) == [{**initialize(caps), "id": front.HIDDEN_ID}, initialized, opened]
        assert handoff.session.folders() == [str(f.folder)]
    finally:
        _shut(handoff)


def test_the_editors_settings_are_asked_for_and_win(editor):
    f, uri, initialize, opened, completion = editor
    caps = {"workspace": {"configuration": True}}
    editors = {"paperFolders": [str(f.folder)], "indexPath": str(f.folder.parent / "index"), "completion": {"limit": 1}}
    settings = {"jsonrpc": "2.0", "id": front.CONFIG_ID, "result": [editors]}
    handoff, written = run_front(initialize(caps), {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                                 opened, completion(2, len(TEXT) - 2), settings)   # after "{" (UTF-16)
    try:
        _, asked, answered = written
        assert asked == {"jsonrpc": "2.0", "id": front.CONFIG_ID, "method": "workspace/configuration",
                         "params": {"items": [{"section": "paperlens"}]}}
        # asked before the settings came, answered with them (one item only), not replayed
        assert answered["id"] == 2 and len(answered["result"]["items"]) == 1
        assert answered["result"]["isIncomplete"] is True
        assert [m.get("method") for m in messages(handoff.replay)] == ["initialize", "initialized",
                                                                       "textDocument/didOpen"]
    finally:
        _shut(handoff)


def test_anything_else_goes_to_the_server_in_the_order_it_came(editor):
    f, uri, initialize, opened, completion = editor
    caps = {"workspace": {"configuration": True}}
    changed = {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "x"}]}}
    hover = {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover",
             "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 9}}}
    # a completion waiting for the editor's settings, then a change: pygls answers both, in order
    handoff, written = run_front(initialize(caps), {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                                 opened, completion(2, len(TEXT)), changed, hover)
    try:
        assert [m.get("id") for m in written] == [1, front.CONFIG_ID]
        replayed = messages(handoff.replay)
        assert [m.get("method") for m in replayed] == ["initialize", "initialized", "textDocument/didOpen",
                                                       "textDocument/completion", "textDocument/didChange",
                                                       "textDocument/hover"]
    finally:
        _shut(handoff)


def test_a_completion_with_bad_params_is_left_to_the_server(editor):
    f, uri, initialize, opened, completion = editor
    bad = completion(2, 3, line=-1)
    handoff, written = run_front(initialize({}), {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                                 opened, bad, completion(3, len(TEXT)))
    try:
        assert [m["id"] for m in written] == [1]
        assert [m.get("id") for m in messages(handoff.replay)][-2:] == [2, 3]
    finally:
        _shut(handoff)


@pytest.mark.parametrize("first", [
    {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {}},          # before initialize
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {"general": 5}}},
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": "x", "capabilities": {}}},
    {"jsonrpc": "2.0", "id": True, "method": "initialize", "params": {"capabilities": {}}},
    {"jsonrpc": "1.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
])
def test_what_pygls_might_refuse_is_left_to_it_untouched(first):
    sent = frame(first) + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    handoff, written = run_front(sent)
    assert written == [] and handoff.replay == sent and handoff.silent == set() and handoff.session is None


@pytest.mark.parametrize("garbage", [b"Content-Length: x\r\n\r\n{}", b"Content-Length: 2\r\n\r\n{]",
                                     b"Content-Type: a\r\n\r\n{}"])
def test_unreadable_input_is_left_to_the_server_byte_for_byte(editor, garbage):
    f, uri, initialize, opened, completion = editor
    handoff, written = run_front(initialize({}), garbage)
    try:
        assert [m["id"] for m in written] == [1]
        assert handoff.replay.endswith(garbage) and messages(handoff.replay[:-len(garbage)])[0]["id"] == front.HIDDEN_ID
    finally:
        _shut(handoff)


def test_the_replay_comes_first_then_the_stream():
    rest = io.BytesIO(b"tail line\nmore bytes")
    stdin = front.Replayed(b"Content-Length: 2\r\n\r\n{}half", rest)
    assert stdin.readline() == b"Content-Length: 2\r\n"
    assert stdin.readline() == b"\r\n"
    assert stdin.read(2) == b"{}"
    assert stdin.readline() == b"halftail line\n"
    assert stdin.read(4) == b"more"
    stdin = front.Replayed(b"ab", io.BytesIO(b"cdef"))
    assert stdin.read(4) == b"abcd" and stdin.read(10) == b"ef"
    # a line of at most so many bytes (the server's reader reads headers so: lsp/framing.py)
    stdin = front.Replayed(b"abc\ndef", io.BytesIO(b"ghij\nk"))
    assert [stdin.readline(2), stdin.readline(2), stdin.readline(5), stdin.readline(3), stdin.readline(9),
            stdin.readline(9), stdin.readline(9)] == [b"ab", b"c\n", b"defgh", b"ij\n", b"k", b"", b""]


def test_what_the_server_keeps_of_the_fronts_initialize():
    """read_initialize: the one reading of initialize's params (the front's answer, its
    settings, and what the server goes on with when lsprotocol cannot read the rest)."""
    caps = {"general": {"positionEncodings": ["utf-32", "utf-8"], "markdown": {"parser": 5}},
            "workspace": {"configuration": True, "workspaceFolders": "odd"}, "textDocument": {"hover": 5}}
    params = {"processId": 12, "rootUri": "file:///tmp/w", "rootPath": None, "trace": "off",
              "workspaceFolders": [{"uri": "file:///tmp/x", "name": "x"}], "initializationOptions": {"a": 1},
              "capabilities": caps}
    read = front.read_initialize({"jsonrpc": "2.0", "id": "i", "method": "initialize", "params": params})
    assert (read.id, read.encoding, read.options, read.asks_configuration) == ("i", "utf-32", {"a": 1}, True)
    assert read.folders() == ["/tmp/x"]
    assert read.kept() == {"processId": 12, "rootUri": "file:///tmp/w", "rootPath": None,
                           "workspaceFolders": [{"uri": "file:///tmp/x", "name": "x"}],
                           "initializationOptions": {"a": 1},
                           "capabilities": {"general": {"positionEncodings": ["utf-32", "utf-8"]},
                                            "workspace": {"configuration": True}}}
    no_workspace = {**params, "capabilities": {"workspace": {"configuration": "yes"}}}
    read = front.read_initialize({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": no_workspace})
    assert read.encoding == "utf-16" and read.kept()["capabilities"] == {}
