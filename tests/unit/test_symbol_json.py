"""Answers made as the protocol's JSON (lsp/convert.py's JsonObject) are sent as
they are by the server's converter, and those written as JSON text (JsonText) as they are by
the protocol (lsp/protocol.py). workspace/symbol (lsp/features/symbols.py) answers with JSON
text: the client must get the very JSON that lsprotocol's SymbolInformation gave it,
whatever the names hold and whatever position encoding was negotiated (the ranges are whole
lines)."""
import json

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from paperlens.core.features.symbols import Symbol
from paperlens.lsp import convert
from paperlens.lsp.features import symbols
from paperlens.lsp.protocol import PaperlensProtocol

SYMBOLS = [
    Symbol("Attention Is All You Need — Vaswani, Shazeer · NeurIPS · 2017 · vaswani2017", "record",
           "/lib/papers/vaswani2017.pdf", 0, 0, "vaswani2017 (p. 1, line 1)"),
    Symbol("Über Müllers Straße — „Zitat“ 深度学习 \\u00e9 \"quoted\" \\\\ tab\\there", "passage",
           "/lib/papiers/été 2020/naïve #1.txt", 41, 44, "müller2020 (line 42)"),
    Symbol("", "record", "/lib/a b/c%20d.bib", 7, 3, ""),                  # end before start
    Symbol("emoji 🙂 and \u2028 separator", "passage", "/lib/x.md", -1, -1, "k (line 0)"),
]


def _sent(protocol, result, headers: bool = False) -> bytes:
    """What the server writes for a workspace/symbol response with this result: pygls's
    JsonRPCProtocol._send_data (json.dumps with the converter's unstructure as ``default``),
    or PaperlensProtocol's own for a JsonText."""
    out = []

    class Capture:
        def write(self, data: bytes) -> None:
            out.append(data)

        def close(self) -> None:
            pass

    protocol.set_writer(Capture(), include_headers=headers)
    protocol._send_data(types.WorkspaceSymbolResponse(id=7, result=result))
    (data,) = out
    return data


def test_the_json_symbols_are_what_the_objects_gave(monkeypatch):
    server = LanguageServer("t", "1", protocol_cls=PaperlensProtocol)
    monkeypatch.setattr(symbols, "library_view", lambda ls: None)
    monkeypatch.setattr(symbols.feature, "workspace_symbols", lambda query, view: SYMBOLS)
    got = symbols.workspace_symbol(server, types.WorkspaceSymbolParams(query="q"))
    assert isinstance(got, convert.JsonText) and len(json.loads(got)) == len(SYMBOLS)
    objects = [types.SymbolInformation(
        name=s.name, kind=symbols.KINDS[s.kind], container_name=s.container,
        location=types.Location(uri=convert.path_to_uri(s.path), range=convert.line_range(s.line_start, s.line_end)))
        for s in SYMBOLS]
    # the very bytes pygls writes for the objects, headers (Content-Length) included
    for headers in (False, True):
        assert _sent(server.protocol, got, headers) == _sent(server.protocol, objects, headers)
    assert _sent(server.protocol, symbols.symbols_text([])) == _sent(server.protocol, [])
    # whole lines (character 0: the same in every position encoding the client negotiated)
    got = json.loads(got)
    assert [(s["location"]["range"]["start"]["line"], s["location"]["range"]["end"]["line"]) for s in got] \
        == [(0, 1), (41, 45), (7, 8), (0, 1)]
    assert {s["location"]["range"][e]["character"] for s in got for e in ("start", "end")} == {0}


def test_a_json_text_answer_to_a_string_id_and_other_answers_as_pygls_writes_them():
    server = LanguageServer("t", "1", protocol_cls=PaperlensProtocol)
    out = []

    class Capture:
        def write(self, data: bytes) -> None:
            out.append(json.loads(data))

        def close(self) -> None:
            pass

    server.protocol.set_writer(Capture(), include_headers=False)
    server.protocol._send_data(types.WorkspaceSymbolResponse(id='a "b"', result=convert.JsonText("[]")))
    server.protocol._send_data(types.WorkspaceSymbolResponse(id=3, result=None))
    assert out == [{"id": 'a "b"', "result": [], "jsonrpc": "2.0"}, {"id": 3, "result": None, "jsonrpc": "2.0"}]


def test_json_answers_are_not_walked_again():
    server = LanguageServer("t", "1", protocol_cls=PaperlensProtocol)
    unstructure = server.protocol._converter.unstructure
    answer = convert.JsonObject(isIncomplete=False, items=[{"label": "a", "kind": 18}])
    assert unstructure(answer) is answer
