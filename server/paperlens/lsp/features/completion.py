"""textDocument/completion of citation keys, and completionItem/resolve adding the paper's card
(see core/features/completion.py).

The list is made as the protocol's JSON (``convert.JsonObject``), not as lsprotocol objects: the
server sends it as it is, and the start-up front (lsp/front.py) answers the first completions
with it before pygls and lsprotocol are loaded."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from paperlens.core.features import completion as feature
from paperlens.lsp.convert import JsonObject
from paperlens.lsp.features._view import Request, completion_limit, embeddings_on, library_view, request

if TYPE_CHECKING:
    from lsprotocol import types

TRIGGER_CHARACTERS = feature.TRIGGER_CHARACTERS
REFERENCE = 18            # CompletionItemKind.Reference


def completion(ls, params: types.CompletionParams) -> Optional[JsonObject]:
    req = request(ls, params.text_document.uri, params.position)
    if req is None:
        return None
    found = feature.complete(req.doc, req.offset, req.view, completion_limit(ls),
                             embeddings=embeddings_on(ls))
    return None if found is None else completion_list(req, found)


def completion_list(req: Request, found: feature.Completions) -> JsonObject:
    """The CompletionList of ``found`` as JSON (fields in lsprotocol's order)."""
    items = []
    ranges: dict = {}         # (every item replaces the same partial key: converted once)
    for item in found.items:
        where = ranges.get(item.span)
        if where is None:
            where = ranges[item.span] = req.positions.range_json(req.doc.text, item.span)
        out: dict = {"label": item.key}
        if item.why:          # why the context ranked it here (title words, passage, co-citation)
            out["labelDetails"] = {"description": item.why}
        out.update(kind=REFERENCE, detail=item.detail, sortText=item.sort_text, filterText=item.filter_text,
                   textEdit={"range": where, "newText": item.key}, data=item.data)
        items.append(out)
    return JsonObject(isIncomplete=found.incomplete, items=items)


def resolve(ls, item: types.CompletionItem) -> types.CompletionItem:
    """Fill in the card as documentation (lazily: it needs the abstract from the index)."""
    from paperlens.lsp.features.hover import markdown

    card = feature.resolve(item.data, library_view(ls))
    if card is not None:
        item.documentation = markdown(card)
    return item
