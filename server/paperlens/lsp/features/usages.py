"""Where a paper is cited: find references (drafts and library papers), code lenses with the
library's citation graph, and the read-only text view of a PDF."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.lsp import convert
from paperlens.lsp.features._doc import citation_under_cursor, doc_context, open_documents
from paperlens.lsp.session import uri_to_path


def references(ls, params: types.ReferenceParams) -> Optional[list[types.Location]]:
    library = ls.session.library
    found = citation_under_cursor(ls, params)
    if found is not None:
        ctx, cite = found
        row = library.resolve(cite.key, ctx.bib_files())
        key = cite.key
    else:
        ctx = doc_context(ls, params.text_document.uri, params.position)
        row = library.row_for_file(str(ctx.path)) if ctx and ctx.path else None
        row = library.canonical(row) if row else None
        key = row.key if row else None
    if key is None:
        return None
    out: list[types.Location] = []
    if params.context.include_declaration and row is not None:
        out.append(types.Location(uri=Path(row.source).as_uri(), range=convert.line_range(row.source_line)))
    # the user's drafts (a LaTeX draft read with its project's own citation commands)
    encoding = convert.encoding_of(ls)
    for path, (text, keys) in ls.session.drafts().citations(open_documents(ls)).items():
        starts = None
        for c in keys:
            if c.key == key:
                starts = starts or convert.line_starts(text)
                out.append(types.Location(uri=Path(path).as_uri(), range=convert.span_to_range(text, c.span, starts, encoding)))
    # library papers whose reference lists cite it
    if row is not None:
        graph = library.graph()
        for citing_id in sorted(graph.cited_by.get(row.id, ())):
            citing = library.row(citing_id)
            if citing is None:
                continue
            text_row = library.row_for_file(citing.fulltext) if citing.fulltext else citing
            label = graph.cites[citing_id].get(row.id, "")
            ref = next((r for r in library.references_of(text_row) if r["label"] == label), None) if text_row else None
            source = text_row.source if text_row else citing.source
            out.append(types.Location(uri=Path(source).as_uri(),
                                      range=convert.line_range(ref["line"] if ref else 0)))
    return out


def code_lenses(ls, params: types.CodeLensParams) -> list[types.CodeLens]:
    """On a library paper's text: how the rest of the library cites it."""
    path = uri_to_path(params.text_document.uri)
    if path is None:
        return []
    library = ls.session.library
    row = library.row_for_file(ls.session.view_source(str(path)))
    if row is None:
        return []
    line = ls.session.graph_line(library.canonical(row))
    title = line or "Not cited by other papers in your library"
    return [types.CodeLens(range=convert.line_range(0, 0),
                           command=types.Command(title=f"{title} · {library.canonical(row).key}", command=""))]


def open_paper_text(ls, args) -> Optional[dict]:
    """``paperlens.openPaperText`` [file uri or path of a library PDF]: write its extracted text
    with page markers as a read-only file, open it in the editor, return its uri."""
    target = args[0] if args else ""
    if isinstance(target, dict):
        target = target.get("uri") or target.get("path") or ""
    path = uri_to_path(target) if str(target).startswith("file:") else Path(str(target))
    if path is None or path.suffix.lower() != ".pdf":
        return {"error": "not a PDF"}
    library = ls.session.library
    row = library.row_for_file(path)
    store = library.store_for(path)
    if row is None or store is None:
        return {"error": "this PDF is not in the library (or not indexed yet)"}
    from paperlens.core.parse.pdf import extract_pages

    pages = extract_pages(path)
    view_dir = store.index_dir / "texts"
    view_dir.mkdir(parents=True, exist_ok=True)
    view = view_dir / f"{path.stem}-{row.id}.txt"
    lines_out, mapping = [], []
    for n, page in enumerate(pages, 1):
        lines_out.append(f"──────── page {n} of {len(pages)} · {path.name} ────────")
        for line in page.split("\n"):
            mapping.append(len(lines_out))
            lines_out.append(line)
    if view.exists():
        os.chmod(view, 0o644)
    view.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    os.chmod(view, 0o444)                               # read-only: it is a view of the PDF
    (view.with_suffix(".json")).write_text(json.dumps({"pdf": str(path), "lines": mapping}), encoding="utf-8")
    ls.session.paper_text_views[str(view)] = str(path)
    ls.session.paper_text_lines[str(view)] = mapping
    uri = view.as_uri()
    caps = ls.client_capabilities
    if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=uri, take_focus=True))
    return {"uri": uri, "pages": len(pages)}
