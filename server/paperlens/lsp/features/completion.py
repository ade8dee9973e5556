"""textDocument/completion of citation keys after \\cite{, [@, @, [cite:@ and , or ; in a cite."""
from __future__ import annotations

from typing import Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.core.index.table import Row
from paperlens.lsp.features._doc import doc_context

TRIGGER_CHARACTERS = ["{", "@", ",", ";", "<"]


def _detail(row: Row) -> str:
    who = row.surnames[0] + (" et al." if len(row.surnames) > 1 else "") if row.surnames else ""
    return " · ".join(x for x in (who, row.year, row.title) if x)


def completion(ls, params: types.CompletionParams) -> Optional[types.CompletionList]:
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cc = citations.completion_context(ctx.text, ctx.offset, ctx.language)
    if cc is None:
        return None
    limit = ls.session.settings.completion.limit
    rows, total = ls.session.library.complete(cc.prefix, limit)
    edit_range = ctx.range(cc.span)
    items = []
    for rank, row in enumerate(rows):
        items.append(types.CompletionItem(
            label=row.key,
            kind=types.CompletionItemKind.Reference,
            detail=_detail(row),
            sort_text=f"{rank:04d}",
            # the words a user may type to find this paper, so client-side filtering keeps it
            filter_text=" ".join([row.key, *row.surnames, row.year, row.title]) if cc.prefix else row.key,
            text_edit=types.TextEdit(range=edit_range, new_text=row.key),
            data={"id": row.id, "source": row.source},
        ))
    return types.CompletionList(is_incomplete=total > len(items), items=items)


def resolve(ls, item: types.CompletionItem) -> types.CompletionItem:
    """Fill in the card as documentation (lazily: it needs the abstract from the index)."""
    data = item.data if isinstance(item.data, dict) else {}
    store = ls.session.library.store_for(data.get("source", "")) if data.get("source") else None
    row = store.table.get(data.get("id", "")) if store else None
    if row is not None:
        item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=ls.session.card(row))
    return item
