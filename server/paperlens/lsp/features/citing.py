"""``paperlens.server.citationInsert`` [uri, {line, character}, key] -> {"range", "newText"}: what
the editor writes for a citation key at a position (see core/features/insertion.py)."""
from __future__ import annotations

from typing import Any, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from paperlens.core.features import insertion as feature
from paperlens.lsp.features._view import request

COMMAND = "paperlens.server.citationInsert"


def _position(value: Any) -> Optional[types.Position]:
    if not isinstance(value, dict):
        return None
    line, character = value.get("line"), value.get("character")
    if not all(type(v) is int and 0 <= v < 2 ** 31 for v in (line, character)):
        return None
    return types.Position(line=line, character=character)


def citation_insert_command(ls, args) -> Optional[dict]:
    """The insertion as an LSP range of the document and the text to write there; None when
    the document cannot be read (not open, not a file inside the configured folders)."""
    args = list(args) if isinstance(args, (list, tuple)) else []
    uri, position, key = (args + [None] * 3)[:3]
    position = _position(position)
    if not isinstance(uri, str) or position is None or not isinstance(key, str) or not key.strip():
        raise JsonRpcInvalidParams(f"{COMMAND}: expected [document uri, {{line, character}}, key]")
    req = request(ls, uri, position)
    if req is None:
        return None
    found = feature.insertion(req.doc, req.offset, key.strip())
    if found is None:
        return None
    where = req.positions.range(req.doc.text, found.span)
    return {"range": {"start": {"line": where.start.line, "character": where.start.character},
                      "end": {"line": where.end.line, "character": where.end.character}},
            "newText": found.text}
