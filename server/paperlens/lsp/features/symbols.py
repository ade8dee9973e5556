"""workspace/symbol (full-text passage search), and the search and paper-list commands (see
core/features/symbols.py)."""
from __future__ import annotations

import functools
from json.encoder import encode_basestring_ascii as _string      # a str as json.dumps writes it

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
def _uri_text(path: str) -> str:
    """A hit's file as a URI, as JSON text: the same few files come back query after query,
    and pathlib's conversion cost ~5 µs a result (50 results a query)."""
    return _string(convert.path_to_uri(path))


# a symbol as lsprotocol's converter writes its SymbolInformation, then json.dumps (None fields
# left out; the range covers whole lines: character 0 is the same in every position encoding)
_SYMBOL = ('{"location": {"uri": %s, "range": {"start": {"line": %d, "character": 0}, "end": {"line": %d, '
           '"character": 0}}}, "name": %s, "kind": %d, "containerName": %s}')
_KIND_VALUES = {k: v.value for k, v in KINDS.items()}


def symbols_text(found: list[feature.Symbol]) -> convert.JsonText:
    """The symbols as the JSON text that pygls would send for their SymbolInformation objects,
    written directly (the objects, or dictionaries, and their encoding cost ~0.1-0.35 ms more
    for 50 symbols)."""
    kinds = _KIND_VALUES
    return convert.JsonText("[" + ", ".join([_SYMBOL % (
        _uri_text(s.path), *convert.line_bounds(s.line_start, s.line_end), _string(s.name),
        kinds[s.kind], _string(s.container)) for s in found]) + "]")


def workspace_symbol(ls, params: types.WorkspaceSymbolParams) -> convert.JsonText:
    """The symbols as the protocol's JSON text (50 SymbolInformation objects made, then
    unstructured field by field by cattrs, cost ~0.35 ms more a query)."""
    try:
        found = feature.workspace_symbols(params.query, library_view(ls))
    except feature.LibraryUnreachable as exc:
        raise RequestFailed(str(exc)) from None
    return symbols_text(found)


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
