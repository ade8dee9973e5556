""""Cite a paper for this sentence" (see core/features/cite_here.py): code actions on a sentence that
cites nothing, one per paper, each inserting its citation; and ``paperlens.server.citeHere``
[uri, {line, character}] -> {"sentence": range, "items": [{key, title, detail, why, passage, page,
range, newText}]}, the same list for editors that show their own picker."""
from __future__ import annotations

import logging
from typing import Any, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from paperlens.core.features import cite_here as feature
from paperlens.lsp.features._view import embeddings_on, request
from paperlens.lsp.features.citing import _position

log = logging.getLogger(__name__)

COMMAND = "paperlens.server.citeHere"
KIND = types.CodeActionKind.RefactorRewrite


def _range(where: types.Range) -> dict:
    return {"start": {"line": where.start.line, "character": where.start.character},
            "end": {"line": where.end.line, "character": where.end.character}}


def code_actions(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
    """One action a paper for the sentence at the start of the range, best first; none when the
    client asked only for other kinds or asked by itself (on a cursor move: the ranking is
    done when the user opens the actions menu), or the sentence cites something already."""
    only = params.context.only if params.context is not None else None
    if params.context is not None and params.context.trigger_kind == types.CodeActionTriggerKind.Automatic:
        return []            # asked on every cursor move (a light bulb): ranked only when asked for
    if only and not any(KIND.value.startswith(k.value if hasattr(k, "value") else str(k)) for k in only):
        return []
    req = request(ls, params.text_document.uri, params.range.start)
    if req is None:
        return []
    try:
        found = feature.cite_here(req.doc, req.offset, req.view, embeddings=embeddings_on(ls))
    except Exception:            # never lose the quick fixes asked along with these
        log.exception("could not rank papers for the sentence")
        return []
    if found is None:
        return []
    actions = []
    for n, c in enumerate(found.candidates):
        title = f"Cite {c.key}: {c.detail}" + (f" ({c.why})" if c.why else "")
        actions.append(types.CodeAction(
            title=title[:160], kind=KIND, is_preferred=n == 0,
            edit=types.WorkspaceEdit(changes={params.text_document.uri: [types.TextEdit(
                range=req.positions.range(req.doc.text, c.insertion.span), new_text=c.insertion.text)]})))
    return actions


def cite_here_command(ls, args) -> Optional[dict]:
    """The candidates for the sentence at a position with their edits (None when the document
    cannot be read); ``items`` is empty when the sentence cites something already."""
    args = list(args) if isinstance(args, (list, tuple)) else []
    uri, position = (args + [None] * 2)[:2]
    position = _position(position)
    if not isinstance(uri, str) or position is None:
        raise JsonRpcInvalidParams(f"{COMMAND}: expected [document uri, {{line, character}}]")
    req = request(ls, uri, position)
    if req is None:
        return None
    found = feature.cite_here(req.doc, req.offset, req.view, embeddings=embeddings_on(ls))
    if found is None:
        return {"sentence": None, "items": []}
    items: list[dict[str, Any]] = []
    for c in found.candidates:
        item = c.to_dict()
        item["range"] = _range(req.positions.range(req.doc.text, c.insertion.span))
        item["newText"] = c.insertion.text
        items.append(item)
    return {"sentence": _range(req.positions.range(req.doc.text, found.sentence)), "items": items}
