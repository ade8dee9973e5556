"""textDocument/completion of citation keys, and completionItem/resolve adding the paper's card
(see core/features/completion.py)."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.core.features import completion as feature
from paperlens.lsp.features._view import completion_limit, embeddings_on, library_view, request
from paperlens.lsp.features.hover import markdown

TRIGGER_CHARACTERS = feature.TRIGGER_CHARACTERS


def completion(ls, params: types.CompletionParams) -> Optional[types.CompletionList]:
    req = request(ls, params.text_document.uri, params.position)
    if req is None:
        return None
    found = feature.complete(req.doc, req.offset, req.view, completion_limit(ls),
                             embeddings=embeddings_on(ls))
    if found is None:
        return None
    items = []
    ranges: dict = {}         # (every item replaces the same partial key: converted once)
    for item in found.items:
        where = ranges.get(item.span)
        if where is None:
            where = ranges[item.span] = req.positions.range(req.doc.text, item.span)
        items.append(types.CompletionItem(
            label=item.key, kind=types.CompletionItemKind.Reference, detail=item.detail,
            # why the context ranked it here (title words, passage, co-citation), beside the key
            label_details=types.CompletionItemLabelDetails(description=item.why) if item.why else None,
            sort_text=item.sort_text, filter_text=item.filter_text,
            text_edit=types.TextEdit(range=where, new_text=item.key),
            data=item.data))
    return types.CompletionList(is_incomplete=found.incomplete, items=items)


def resolve(ls, item: types.CompletionItem) -> types.CompletionItem:
    """Fill in the card as documentation (lazily: it needs the abstract from the index)."""
    card = feature.resolve(item.data, library_view(ls))
    if card is not None:
        item.documentation = markdown(card)
    return item
