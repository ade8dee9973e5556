"""textDocument/completion of citation keys after \\cite{, [@, @, [cite:@ and , or ; in a cite, and
after the user's own LaTeX citation commands (``\\longcite{`` defined in the project's preamble)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.core.index.table import Row
from paperlens.lsp.features._doc import doc_context

TRIGGER_CHARACTERS = ["{", "@", ",", ";", "<"]
SPARE_ROWS = 10


def _detail(row: Row) -> str:
    who = row.surnames[0] + (" et al." if len(row.surnames) > 1 else "") if row.surnames else ""
    return " · ".join(x for x in (who, row.year, row.title) if x)


def _one_row_per_key(rows: list[Row], total: int, bib_files) -> tuple[list[Row], int]:
    """A key that several .bib files define is offered once: with the entry of the first
    .bib file the document (its LaTeX project) names, else the first ranked."""
    seen: dict[str, int] = {}
    for n, row in enumerate(rows):
        seen.setdefault(row.key, n)
    if len(seen) == len(rows):
        return rows, total
    order = {str(Path(b).resolve()): n for n, b in enumerate(bib_files())}
    best: dict[str, Row] = {}
    for row in rows:
        held = best.get(row.key)
        if held is None or order.get(row.source, len(order)) < order.get(held.source, len(order)):
            best[row.key] = row
    kept = [best[key] for key in sorted(seen, key=seen.get)]
    return kept, total - (len(rows) - len(kept))


def completion(ls, params: types.CompletionParams) -> Optional[types.CompletionList]:
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cc = citations.completion_context(ctx.text, ctx.offset, ctx.language, ctx.macros())
    if cc is None:
        return None
    limit = ls.session.settings.completion.limit
    # a few spare rows, so that keys defined twice still leave ``limit`` items
    rows, total = ls.session.library.complete(cc.prefix, limit + SPARE_ROWS)
    rows, total = _one_row_per_key(rows, total, ctx.bib_files)
    rows = rows[:limit]
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
    source, row_id = data.get("source"), data.get("id")
    if not (isinstance(source, str) and source and isinstance(row_id, str)):
        return item                   # not one of ours (or mangled): nothing to add
    try:
        store = ls.session.library.store_for(source)
    except (OSError, ValueError, RuntimeError):   # a NUL in it, a symlink loop
        return item
    row = store.table.get(row_id) if store else None
    if row is not None:
        item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=ls.session.card(row))
    return item
