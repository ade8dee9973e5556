"""workspace/symbol (full-text passage search), and the search and paper-list commands (see
core/features/symbols.py)."""
from __future__ import annotations

import functools

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from paperlens.core.features import symbols as feature
from paperlens.lsp import convert
from paperlens.lsp.features._view import library_view

KINDS = {"record": types.SymbolKind.Object, "passage": types.SymbolKind.String}


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: a valid request the server cannot answer now; the message says
    why (the editor shows it instead of an empty list)."""
    CODE = types.LSPErrorCodes.RequestFailed.value


@functools.lru_cache(maxsize=4096)
def _uri(path: str) -> str:
    """A hit's file as a URI: the same few files come back query after query, and pathlib's
    conversion cost ~5 µs a result (50 results a query)."""
    return convert.path_to_uri(path)


class JsonSymbols(list):
    """workspace/symbol's answer made as the JSON objects lsprotocol's converter makes of
    SymbolInformation (same keys, order and values: test_symbol_json), passed on by the
    converter as they are: 50 attrs objects made then unstructured field by field by cattrs
    cost ~0.35 ms more a query (a plain list of dicts is walked by cattrs too)."""


_HOOKED: dict[int, object] = {}       # id -> the converters that pass JsonSymbols on


def _as_is(value):
    return value


def _passes_json(ls) -> bool:
    """Whether the server's converter passes JsonSymbols on as they are (the hook is added
    once; a server without pygls' converter gets lsprotocol's objects)."""
    conv = getattr(getattr(ls, "protocol", None), "_converter", None)
    if conv is None or not hasattr(conv, "register_unstructure_hook"):
        return False
    if _HOOKED.get(id(conv)) is not conv:
        conv.register_unstructure_hook(JsonSymbols, _as_is)
        _HOOKED[id(conv)] = conv
    return True


def symbol_json(s: feature.Symbol) -> dict:
    """A symbol as lsprotocol's converter writes its SymbolInformation (None fields left out;
    the range covers whole lines: character 0 is the same in every position encoding)."""
    return {"location": {"uri": _uri(s.path), "range": {
                "start": {"line": max(s.line_start, 0), "character": 0},
                "end": {"line": max(s.line_end, s.line_start, 0) + 1, "character": 0}}},
            "name": s.name, "kind": KINDS[s.kind].value, "containerName": s.container}


def symbol_information(s: feature.Symbol) -> types.SymbolInformation:
    return types.SymbolInformation(
        name=s.name, kind=KINDS[s.kind], container_name=s.container,
        location=types.Location(uri=_uri(s.path), range=convert.line_range(s.line_start, s.line_end)))


def workspace_symbol(ls, params: types.WorkspaceSymbolParams) -> list:
    try:
        found = feature.workspace_symbols(params.query, library_view(ls))
    except feature.LibraryUnreachable as exc:
        raise RequestFailed(str(exc)) from None
    if _passes_json(ls):
        return JsonSymbols(symbol_json(s) for s in found)
    return [symbol_information(s) for s in found]


def query_and_limit(command: str, args, default: int, most: int) -> tuple[str, int]:
    """A command's ``[query, limit?]`` or ``[{"query": ..., "limit": ...}]`` arguments: the
    query (a string; a number is taken as its text, null as nothing) and the limit (clamped to
    1..``most``; ``default`` when absent or not a number). A query of any other type is
    InvalidParams."""
    args = list(args) if isinstance(args, (list, tuple)) else []
    query = args[0] if args else ""
    limit = args[1] if len(args) > 1 else default
    if isinstance(query, dict):
        query, limit = query.get("query", ""), query.get("limit", default)
    if query is None:
        query = ""
    elif isinstance(query, (int, float)) and not isinstance(query, bool):
        query = str(query)
    elif not isinstance(query, str):
        raise JsonRpcInvalidParams(f"{command}: the query must be a string")
    try:
        limit = int(limit)
    except (TypeError, ValueError, OverflowError):
        limit = default
    return query, max(1, min(limit, most))


def search_command(ls, args) -> list[dict]:
    """``paperlens.server.search`` [query, limit?] -> ranked passages as JSON objects."""
    query, limit = query_and_limit("paperlens.server.search", args, 20, 200)
    try:
        return feature.search(query, limit, library_view(ls))
    except feature.LibraryUnreachable as exc:
        raise RequestFailed(str(exc)) from None


def papers_command(ls, args) -> list[dict]:
    """``paperlens.server.papers`` [query, limit?] -> papers matching typed words, as completion
    ranks them."""
    query, limit = query_and_limit("paperlens.server.papers", args, 50, 500)
    return feature.papers(query, limit, library_view(ls))
