"""Inside a library paper: hover and definition on numeric citations ``[12]``, ``[3, 15]``,
``[3-7]`` (the paper's own reference entries, and the library paper each one is), and from a
reference entry to the library paper it cites."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.core.cards import escape_md, render_card
from paperlens.lsp import convert
from paperlens.lsp.features._doc import DocContext


def paper_of_document(ls, ctx: DocContext):
    """The library paper this document is the text of (a paper file, or a PDF's text view)."""
    if ctx.path is None:
        return None
    library = ls.session.library
    source = ls.session.view_source(str(ctx.path))
    return library.row_for_file(source)


def _line_in_view(ls, ctx: DocContext, line: int) -> int:
    """A line of the paper's text -> the line in this document (PDF views add page markers)."""
    mapping = ls.session.paper_text_lines.get(str(ctx.path)) if ctx.path else None
    return mapping[line] if mapping and 0 <= line < len(mapping) else line


def _paper_and_cite(ls, ctx: DocContext):
    """(library paper of this document, its reference list, numeric citation at the cursor or
    None), or None when the document is not a library paper with a reference list."""
    row = paper_of_document(ls, ctx)
    if row is None:
        return None
    refs = ls.session.library.references_of(row)
    if not refs:
        return None
    from paperlens.core.references import numeric_citation_at   # not needed to start the server

    return row, refs, numeric_citation_at(ctx.text, ctx.offset, max_label=len(refs))


def numeric_hover(ls, ctx: DocContext) -> Optional[types.Hover]:
    found = _paper_and_cite(ls, ctx)
    if found is None or found[2] is None:
        return None
    row, refs, cite = found
    library = ls.session.library
    by_label = {r["label"]: r for r in refs}
    parts = []
    matched = []
    for label in cite.labels[:12]:
        ref = by_label.get(label)
        if ref is None:
            parts.append(f"**[{escape_md(label)}]** not in this paper's reference list")
            continue
        target = library.match_reference(ref, citing=row)
        line = f"**[{escape_md(label)}]** {escape_md(ref['text'])}"
        if target is not None:
            line += f"  \n→ in your library: **{escape_md(target.title)}** `{target.key.replace('`', '')}`"
            matched.append(target)
        parts.append(line)
    if len(cite.labels) > 12:
        parts.append(f"… and {len(cite.labels) - 12} more")
    value = "\n\n".join(parts)
    if len(matched) == 1 and len(cite.labels) == 1:
        value += "\n\n---\n\n" + render_card(library.paper(matched[0]), graph_line=ls.session.graph_line(matched[0]))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value),
                       range=ctx.range(cite.span))


def numeric_definition(ls, ctx: DocContext) -> Optional[list[types.Location]]:
    found = _paper_and_cite(ls, ctx)
    if found is None:
        return None
    row, refs, cite = found
    library = ls.session.library
    if cite is not None:
        by_label = {r["label"]: r for r in refs}
        return [types.Location(uri=ctx.uri, range=convert.line_range(_line_in_view(ls, ctx, by_label[l]["line"])))
                for l in cite.labels if l in by_label] or None
    # on a reference entry: go to the library paper it cites
    line = ctx.position(ctx.offset).line
    entry = None
    for ref in sorted(refs, key=lambda r: r["line"]):
        if _line_in_view(ls, ctx, ref["line"]) <= line:
            entry = ref
        else:
            break
    last = refs[-1]
    if entry is None or (entry is last and line > _line_in_view(ls, ctx, last["line"]) + 6):
        return None
    target = library.match_reference(entry, citing=row)
    if target is None:
        return None
    return [types.Location(uri=Path(target.source).as_uri(), range=convert.line_range(target.source_line))]
