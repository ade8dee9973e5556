"""workspace/symbol answers with JSON objects made directly (lsp/features/symbols.py): the
client must get the very JSON that lsprotocol's SymbolInformation gave it, whatever the names
hold and whatever position encoding was negotiated (the ranges are whole lines)."""
import json

from lsprotocol import types
from pygls.protocol import default_converter

from paperlens.core.features.symbols import Symbol
from paperlens.lsp.features import symbols

SYMBOLS = [
    Symbol("Attention Is All You Need — Vaswani, Shazeer · NeurIPS · 2017 · vaswani2017", "record",
           "/lib/papers/vaswani2017.pdf", 0, 0, "vaswani2017 (p. 1, line 1)"),
    Symbol("Über Müllers Straße — „Zitat“ 深度学习 \\u00e9 \"quoted\" \\\\ tab\\there", "passage",
           "/lib/papiers/été 2020/naïve #1.txt", 41, 44, "müller2020 (line 42)"),
    Symbol("", "record", "/lib/a b/c%20d.bib", 7, 3, ""),                  # end before start
    Symbol("emoji 🙂 and \u2028 separator", "passage", "/lib/x.md", -1, -1, "k (line 0)"),
]


class _Protocol:
    def __init__(self):
        self._converter = default_converter()


class _Server:
    def __init__(self):
        self.protocol = _Protocol()


def _sent(protocol, result) -> str:
    """What pygls writes for a response (JsonRPCProtocol._send_data: json.dumps with the
    converter's unstructure as ``default``)."""
    response = types.WorkspaceSymbolResponse(id=7, result=result)
    return json.dumps(response, default=protocol._converter.unstructure)


def test_the_json_symbols_are_what_the_objects_gave(monkeypatch):
    server = _Server()
    monkeypatch.setattr(symbols, "library_view", lambda ls: None)
    monkeypatch.setattr(symbols.feature, "workspace_symbols", lambda query, view: SYMBOLS)
    got = symbols.workspace_symbol(server, types.WorkspaceSymbolParams(query="q"))
    assert isinstance(got, symbols.JsonSymbols) and len(got) == len(SYMBOLS)
    objects = [symbols.symbol_information(s) for s in SYMBOLS]
    assert _sent(server.protocol, got) == _sent(server.protocol, objects)
    # whole lines (character 0: the same in every position encoding the client negotiated)
    assert [(s["location"]["range"]["start"]["line"], s["location"]["range"]["end"]["line"]) for s in got] \
        == [(0, 1), (41, 45), (7, 8), (0, 1)]
    assert {s["location"]["range"][e]["character"] for s in got for e in ("start", "end")} == {0}


def test_without_pygls_converter_the_objects_are_answered(monkeypatch):
    monkeypatch.setattr(symbols, "library_view", lambda ls: None)
    monkeypatch.setattr(symbols.feature, "workspace_symbols", lambda query, view: SYMBOLS[:1])
    got = symbols.workspace_symbol(object(), types.WorkspaceSymbolParams(query="q"))
    assert type(got) is list and isinstance(got[0], types.SymbolInformation)


def test_the_hook_is_added_once_per_converter():
    server = _Server()
    for _ in range(3):
        assert symbols._passes_json(server)
    assert symbols._HOOKED[id(server.protocol._converter)] is server.protocol._converter
