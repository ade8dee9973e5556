"""lsp/protocol.py: every request gets an answer (InvalidParams, ServerNotInitialized,
InvalidRequest), error answers carry no traceback, bad notifications change nothing; and the
command-argument parsing of lsp/features/symbols.py; the requests the start-up front answered
are not answered again."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from paperlens.lsp.features.symbols import query_and_limit
from paperlens.lsp.protocol import INTERNAL_ERROR_MESSAGE, PaperlensProtocol

HANG_GUARD = 120.0     # only so that a lost answer fails instead of hanging the run


class Capture:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.decode("utf-8")))

    def close(self) -> None:
        pass


@pytest.fixture
def server():
    ls = LanguageServer("t", "1", protocol_cls=PaperlensProtocol)
    calls = []

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: types.HoverParams):
        calls.append(params)
        if params.position.line == 7:
            raise FileNotFoundError(2, "No such file", "/home/someone/.secret/paper.tex")
        return None

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params):
        calls.append(params)

    ls.calls = calls
    ls.out = Capture()
    ls.protocol.set_writer(ls.out, include_headers=False)
    return ls


def send(ls, message: dict) -> list[dict]:
    """Hand ``message`` to the protocol as the read loop does; the answers it wrote."""
    before = len(ls.out.messages)
    ls.protocol.handle_message(json.loads(json.dumps(message), object_hook=ls.protocol.structure_message))
    return ls.out.messages[before:]


def initialize(ls) -> None:
    (answer,) = send(ls, {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                          "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    assert "result" in answer


def hover(msg_id, position, uri="file:///nowhere/a.tex") -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": position}}


def test_requests_before_initialize_get_server_not_initialized(server):
    (answer,) = send(server, hover(1, {"line": 0, "character": 0}))
    assert answer["id"] == 1 and answer["error"]["code"] == -32002
    (answer,) = send(server, hover(2, {"line": -1}))           # the state is checked before the params
    assert answer["error"]["code"] == -32002
    assert send(server, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///a.tex", "languageId": "latex", "version": 1, "text": "x"}}}) == []
    assert server.calls == []
    initialize(server)
    (answer,) = send(server, hover(3, {"line": 0, "character": 0}))
    assert answer == {"jsonrpc": "2.0", "id": 3, "result": None}
    (answer,) = send(server, {"jsonrpc": "2.0", "id": 4, "method": "initialize",
                              "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    assert answer["error"]["code"] == -32600


@pytest.mark.parametrize("position, field", [({"line": -1, "character": 0}, "position"),
                                             ({"line": 0, "character": "a"}, "position.character"),
                                             ({"line": 0}, "position.character"),
                                             (None, "position")])
def test_invalid_params_get_invalid_params(server, position, field):
    initialize(server)
    message = hover(9, position)
    if position is None:
        del message["params"]["position"]
    (answer,) = send(server, message)
    assert answer["id"] == 9 and answer["error"]["code"] == -32602
    assert "textDocument/hover" in answer["error"]["message"] and field in answer["error"]["message"]
    assert server.calls == []


def test_an_exception_in_a_handler_is_answered_without_its_details(server):
    initialize(server)
    (answer,) = send(server, hover(5, {"line": 7, "character": 0}))
    assert answer["error"] == {"code": -32603, "message": INTERNAL_ERROR_MESSAGE}
    assert "secret" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)


def test_bad_notifications_and_non_messages_change_nothing(server):
    initialize(server)
    for message in ({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 5}},
                    {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": {"a": 1}}},
                    {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": [1]}},
                    {"jsonrpc": "2.0", "method": 5},
                    {"jsonrpc": "2.0"},
                    {"id": 3}):
        assert send(server, message) == []
    for not_an_object in ([], [hover(1, {"line": 0, "character": 0})], 5, "x", None):
        server.protocol.handle_message(not_an_object)
    assert server.out.messages[1:] == [] and server.calls == []
    # requests that are not JSON-RPC 2.0 are answered InvalidRequest
    (answer,) = send(server, {"jsonrpc": "1.0", "id": 8, "method": "textDocument/hover"})
    assert answer["error"]["code"] == -32600
    (answer,) = send(server, {"jsonrpc": "2.0", "id": {"x": 1}, "method": "textDocument/hover"})
    assert answer["id"] is None and answer["error"]["code"] == -32600


def test_a_nested_object_with_a_jsonrpc_key_is_data(server):
    """pygls structured every nested object holding "jsonrpc" as a message of its own."""
    initialize(server)
    (answer,) = send(server, {"jsonrpc": "2.0", "id": 6, "method": "workspace/executeCommand", "params": {
        "command": "nope", "arguments": [{"jsonrpc": "2.0", "id": 99, "result": None}]}})
    assert answer["error"]["code"] == -32602 and "nope" in answer["error"]["message"]


def test_requests_after_shutdown_get_invalid_request(server):
    initialize(server)
    (answer,) = send(server, {"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": None}
    (answer,) = send(server, hover(2, {"line": 0, "character": 0}))
    assert answer["error"]["code"] == -32600
    with pytest.raises(SystemExit) as exited:
        send(server, {"jsonrpc": "2.0", "method": "exit", "params": {"whatever": 1}})
    assert exited.value.code == 0


def test_exit_with_odd_params_still_exits(server):
    initialize(server)
    with pytest.raises(SystemExit) as exited:
        send(server, {"jsonrpc": "2.0", "method": "exit", "params": [1, 2]})
    assert exited.value.code == 1                  # no shutdown before it


@pytest.mark.parametrize("args, want", [
    (["a", None], ("a", 50)), ([None, None], ("", 50)), ([], ("", 50)), (["a", "ten"], ("a", 50)),
    (["a", 1e308], ("a", 500)), (["a", float("inf")], ("a", 50)), (["a", float("nan")], ("a", 50)),
    (["a", -5], ("a", 1)), ([{"query": "q", "limit": "7"}], ("q", 7)), ([3.5], ("3.5", 50)),
    ("not a list", ("", 50))])
def test_query_and_limit(args, want):
    assert query_and_limit("paperlens.server.papers", args, 50, 500) == want


@pytest.mark.parametrize("args", [[[1, 2]], [{"query": ["x"]}], [True], [{"query": {"a": 1}}]])
def test_a_query_that_is_not_text_is_invalid_params(args):
    with pytest.raises(JsonRpcInvalidParams) as raised:
        query_and_limit("paperlens.server.papers", args, 50, 500)
    assert "paperlens.server.papers" in raised.value.message


async def answer_to(ls, message: dict) -> dict:
    """The answer to a request whose handler awaits (initialize opens the library on a worker
    thread): waited for as the server's writer receives it."""
    written = asyncio.Event()
    write = ls.out.write

    def write_and_tell(data: bytes) -> None:
        write(data)
        written.set()

    ls.out.write = write_and_tell
    before = len(ls.out.messages)
    ls.protocol.handle_message(json.loads(json.dumps(message), object_hook=ls.protocol.structure_message))

    async def answered() -> dict:
        while True:
            for answer in ls.out.messages[before:]:
                if answer.get("id") == message["id"]:
                    return answer
            written.clear()
            await written.wait()

    try:
        return await asyncio.wait_for(answered(), HANG_GUARD)
    finally:
        ls.out.write = write


@pytest.mark.parametrize("params", [
    {"rootUri": "file:///tmp/a%00b"}, {"rootUri": None, "rootPath": "/tmp/\u0000x"},
    {"rootUri": None, "rootPath": "relative/dir"},
    {"rootUri": None, "workspaceFolders": [{"uri": "file:///tmp/%00", "name": "x"}]}])
async def test_a_workspace_folder_that_cannot_be_a_path_is_ignored(params):
    """It made ``initialize`` fail (Path.resolve raised on the NUL) and every later request."""
    from paperlens.lsp.server import create_server

    ls = create_server()
    ls.out = Capture()
    ls.protocol.set_writer(ls.out, include_headers=False)
    try:
        initialize_params = {"processId": None, "capabilities": {}, **params}
        answer = await answer_to(ls, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": initialize_params})
        assert "result" in answer, answer
        assert ls.session.workspace_folders == [] and ls.session.folders() == []
        (answer,) = send(ls, hover(1, {"line": 0, "character": 0}, uri="file:///tmp/a.tex"))
        assert answer == {"jsonrpc": "2.0", "id": 1, "result": None}
    finally:
        ls.session.shutdown()


@pytest.mark.parametrize("caps", [{"general": {"positionEncodings": ["utf-8"]}},
                                  # lsprotocol cannot read these: the server goes on with what the front read
                                  {"general": {"positionEncodings": ["utf-8"]}, "textDocument": {"hover": 5}}])
async def test_the_server_answers_nothing_for_the_start_up_fronts_initialize(build, caps):
    """lsp/front.py answered it; the server reads it for its state only."""
    from paperlens.lsp import front
    from paperlens.lsp.server import create_server

    f = build("%! refs.bib\n@article{a2020, title={A title}, author={Alder, Ann}, year={2020}}\n")
    ls = create_server()
    out = Capture()
    ls.protocol.set_writer(out, include_headers=False)
    ls.protocol.silent_ids.add(front.HIDDEN_ID)
    try:
        message = {"jsonrpc": "2.0", "id": front.HIDDEN_ID, "method": "initialize", "params": {
            "processId": None, "rootUri": f.folder.as_uri(), "capabilities": caps,
            "initializationOptions": {"paperlens": {"indexPath": str(f.folder.parent / "index")}}}}
        ls.protocol.handle_message(json.loads(json.dumps(message), object_hook=ls.protocol.structure_message))

        async def settled() -> None:
            while front.HIDDEN_ID in ls.protocol.silent_ids:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(settled(), HANG_GUARD)
        assert out.messages == []
        assert ls.workspace.position_encoding == "utf-8"
        assert ls.session.folders() == [str(f.folder)]
    finally:
        ls.session.shutdown()


class _Handled:
    """A protocol for pygls's read loop that keeps the messages it is handed."""

    def __init__(self, stop) -> None:
        self.seen: list = []
        self.stop = stop

    def structure_message(self, data):
        return data

    def handle_message(self, message) -> None:
        self.seen.append(message)
        if message.get("method") == "exit":
            self.stop.set()


def _framed(body: dict, extra: bytes = b"") -> bytes:
    data = json.dumps(body).encode("utf-8")
    return b"Content-Length: %d\r\n" % len(data) + extra + b"\r\n" + data


@pytest.mark.parametrize("cut", [None, 7])
def test_message_reader_hands_pygls_each_message_whole(cut):
    """MessageReader under pygls's own read loop (io_.run_async): the same messages in order,
    headers with a Content-Type line or none, a body of non-ASCII text; nothing read after
    ``exit``; a stream ending inside a message ends the loop."""
    msgs = [{"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "Müller ∑ " * 50}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "method": "exit"}]
    data = _framed(msgs[0], b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n")
    data += _framed(msgs[1]) + _framed(msgs[2]) + _framed({"jsonrpc": "2.0", "method": "after-exit"})
    if cut is not None:            # the stream ends inside the second message's body
        data = data[:len(_framed(msgs[0], b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"))
                    + len(_framed(msgs[1])) - cut]
    seen, rest = _read_all(data)
    if cut is None:
        assert seen == msgs
        assert rest == _framed({"jsonrpc": "2.0", "method": "after-exit"})
    else:
        assert seen == msgs[:1]


def _read_all(data: bytes, **limits) -> tuple[list, bytes]:
    """What pygls's read loop (io_.run_async) is handed through a MessageReader (its bounds
    set to ``limits``) from the stream ``data``, and what is left unread."""
    import io
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from pygls.io_ import run_async

    from paperlens.lsp.protocol import MessageReader

    stream = io.BufferedReader(io.BytesIO(data))
    stop = threading.Event()
    protocol = _Handled(stop)
    reader = MessageReader(stream, None)
    for name, value in limits.items():
        setattr(reader, name, value)
    with ThreadPoolExecutor(1) as pool:
        reader.executor = pool
        asyncio.run(asyncio.wait_for(run_async(stop, reader, protocol), HANG_GUARD))
    return protocol.seen, stream.read()


def test_message_reader_takes_the_length_header_as_the_start_up_front_does():
    """Any case, spaces around the number, lines ending in \\n alone (the front accepted them;
    pygls's pattern did not, and the message and the next were lost)."""
    one = {"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "x"}}
    body = json.dumps(one).encode()
    data = (b"content-length:  %d \n\n" % len(body) + body
            + b"CONTENT-LENGTH: %d\r\n\r\n" % len(body) + body + _framed({"jsonrpc": "2.0", "method": "exit"}))
    seen, _rest = _read_all(data)
    assert seen == [one, one, {"jsonrpc": "2.0", "method": "exit"}]


def test_message_reader_drops_a_body_over_its_bound_and_reads_on(caplog, monkeypatch):
    """A Content-Length over framing.BODY_MOST is read past in chunks, not allocated
    (99999999999999 made the server die of MemoryError): the log says so and the next message
    is read."""
    from paperlens.lsp import framing

    monkeypatch.setattr(framing, "BODY_MOST", 1000)
    big = {"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "y" * 5000}}
    exit_ = {"jsonrpc": "2.0", "method": "exit"}
    with caplog.at_level("WARNING", logger="paperlens.protocol"):
        seen, _rest = _read_all(_framed(big) + _framed(exit_), CHUNK=64)
    assert seen == [exit_]
    assert "a message skipped: a body of 5082 bytes" in caplog.text
    # a stream ending inside such a body ends the loop (nothing allocated for the length given)
    seen, _rest = _read_all(b"Content-Length: 99999999999999\r\n\r\n" + b"{" * 100)
    assert seen == []


def test_the_server_reads_its_connection_with_the_message_reader():
    """start_io goes through PaperlensServer._start_io_async (pygls's private hook, overridden):
    a lowercase length header, which only MessageReader reads, gets its answer."""
    request = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "x"}}).encode()
    answers = _served(b"content-length: %d\r\n\r\n" % len(request) + request + _framed({"jsonrpc": "2.0", "method": "exit"}))
    assert answers[7]["error"]["code"] == -32002       # before initialize


def _served(stdin: bytes) -> dict:
    """The answers (by id) of a server run in process on the connection ``stdin``."""
    import io

    from paperlens.lsp.server import create_server

    stdout = io.BytesIO()
    stdout.close = lambda: None          # (the writer closes it at exit; the test reads it after)
    ls = create_server()
    try:
        ls.start_io(stdin=io.BytesIO(stdin), stdout=stdout)
    except SystemExit:
        pass
    finally:
        ls.session.shutdown()
    answers, data = {}, stdout.getvalue()
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        n = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        message = json.loads(rest[:n])
        answers[message.get("id")] = message
        data = rest[n:]
    return answers


def test_a_hover_right_after_initialize_reads_the_library_initialize_opened(build):
    """Without the start-up front's library (an editor whose settings came late, or no front),
    initialize opens the first library before the next message is handled: a hover sent at
    once read an empty library and said the key was not in it."""
    f = build("%! refs.bib\n@article{alder2020, title={A Title of Some Length}, author={Alder, Ann}, year={2020}}\n")
    draft = f.folder / "draft.tex"
    draft.write_text("See \\cite{alder2020}.\n", encoding="utf-8")
    f.library.close()
    index_root = str(f.folder.parent / "index")
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": f.folder.as_uri(), "capabilities": {},
            "initializationOptions": {"paperlens": {"indexPath": index_root}}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": draft.as_uri(), "languageId": "latex", "version": 1, "text": draft.read_text()}}},
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": draft.as_uri()}, "position": {"line": 0, "character": 12}}},
        {"jsonrpc": "2.0", "method": "exit"}]
    answers = _served(b"".join(_framed(m) for m in messages))
    hover = answers[2]["result"]["contents"]["value"]
    assert "A Title of Some Length" in hover and "Unknown" not in hover


async def test_a_session_the_front_configured_keeps_the_editors_settings(build, caplog):
    """The front applied initializationOptions, then the editor's workspace/configuration
    answer: the replayed initialize does not apply the options alone again (they replace the
    settings wholesale: the library was opened again on the options' folders until the server
    asked the editor once more), and initialized does not ask again."""
    from paperlens.lsp import front
    from paperlens.lsp.server import create_server
    from paperlens.lsp.session import Session

    f = build("%! refs.bib\n@article{a2020, title={A title}, author={Alder, Ann}, year={2020}}\n")
    other = f.folder.parent / "other"
    other.mkdir()
    options = {"paperlens": {"indexPath": str(f.folder.parent / "index"), "paperFolders": [str(other)]}}
    session = Session()
    session.configure(options, [str(f.folder)])
    session.configure({"paperFolders": [str(f.folder)], "indexPath": str(f.folder.parent / "index")})
    opened = session.library
    ls = create_server(session, configured=True)
    ls.out = Capture()
    ls.protocol.set_writer(ls.out, include_headers=False)
    ls.protocol.silent_ids.add(front.HIDDEN_ID)
    try:
        caps = {"workspace": {"configuration": True}}
        send(ls, {"jsonrpc": "2.0", "id": front.HIDDEN_ID, "method": "initialize", "params": {
            "processId": None, "rootUri": f.folder.as_uri(), "capabilities": caps, "initializationOptions": options}})

        async def settled() -> None:
            while front.HIDDEN_ID in ls.protocol.silent_ids:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(settled(), HANG_GUARD)
        with caplog.at_level(logging.INFO, logger="paperlens"):
            send(ls, {"jsonrpc": "2.0", "method": "initialized", "params": {}})

            async def served() -> None:     # initialized's handler has run to its end
                while "serving folders" not in caplog.text:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(served(), HANG_GUARD)
        assert ls.session.library is opened
        assert ls.session.folders() == [str(f.folder)]
        assert not any(m.get("method") == "workspace/configuration" for m in ls.out.messages)
        # a later change is the editor's to say: asked for (its notification may carry none)
        send(ls, {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": None}})

        async def asked() -> dict:
            while True:
                for m in ls.out.messages:
                    if m.get("method") == "workspace/configuration":
                        return m
                await asyncio.sleep(0.01)

        request = await asyncio.wait_for(asked(), HANG_GUARD)
        send(ls, {"jsonrpc": "2.0", "id": request["id"], "result": [
            {"paperFolders": [str(f.folder)], "indexPath": str(f.folder.parent / "index")}]})
    finally:
        ls.session.shutdown()
