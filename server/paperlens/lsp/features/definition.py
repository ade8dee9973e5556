"""textDocument/definition: a citation key's .bib entry (see core/features/definition.py)."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.core.features import definition as feature
from paperlens.lsp.features._view import request


def definition(ls, params: types.DefinitionParams) -> Optional[list[types.Location]]:
    req = request(ls, params.text_document.uri, params.position)
    if req is None:
        return None
    found = feature.definition(req.doc, req.offset, req.view)
    return [req.positions.location(loc) for loc in found] if found is not None else None
