"""textDocument/references and textDocument/codeLens (where a paper is cited: see
core/features/usages.py), and the ``paperlens.server.openPaperText`` command (the read-only text
view of a PDF: core/features/paper_text.py)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.constants import ATTR_EXECUTE_IN_THREAD

from paperlens.core.features import paper_text
from paperlens.core.features import usages as feature
from paperlens.lsp import convert
from paperlens.lsp.features._view import library_view, remember_text_view, request
from paperlens.lsp.uris import uri_to_path


def references(ls, params: types.ReferenceParams) -> Optional[list[types.Location]]:
    """Find references: the citations of the paper under the cursor in the user's drafts,
    and the library papers whose reference lists cite it.

    Runs on a worker thread (pygls' thread pool, see the attribute set below): it reads the
    drafts of the workspace and may wait for the citation graph; the event loop answers
    hovers and completions meanwhile.  The index's reader is used on the event loop only."""
    req = request(ls, params.text_document.uri, params.position, params.work_done_token)
    if req is None:
        return None
    found = feature.references(req.doc, req.offset, req.view, params.context.include_declaration)
    return [req.positions.location(loc) for loc in found] if found is not None else None


# pygls runs a function with this attribute on its thread pool, not on the event loop
setattr(references, ATTR_EXECUTE_IN_THREAD, True)


def code_lenses(ls, params: types.CodeLensParams) -> list[types.CodeLens]:
    """On a library paper's text: how the rest of the library cites it.

    Runs on a worker thread (as find references): while the citation graph is being built
    (after an index update, in the background) it waits for it, with $/progress, instead of
    answering "not cited" from no graph."""
    path = uri_to_path(params.text_document.uri)
    if path is None:
        return []
    lens = feature.citation_lens(str(path), library_view(ls, params.work_done_token))
    if lens is None:
        return []
    return [types.CodeLens(range=convert.line_range(lens.line, lens.line),
                           command=types.Command(title=lens.title, command=""))]


setattr(code_lenses, ATTR_EXECUTE_IN_THREAD, True)


def _pdf_path(args) -> Optional[Path]:
    """The PDF ``paperlens.server.openPaperText``'s arguments name: [file uri or path], or
    [{"uri"|"path": ...}]."""
    target = args[0] if args else ""
    if isinstance(target, dict):
        target = target.get("uri") or target.get("path") or ""
    target = str(target)
    try:
        return uri_to_path(target) if target.startswith("file:") else Path(target)
    except ValueError:
        return None


async def open_paper_text_async(ls, args) -> Optional[dict]:
    """``paperlens.server.openPaperText`` [file uri or path of a library PDF]: write its
    extracted text with page markers as a read-only file, open it in the editor, return its uri
    and page count (or an error answer).  The PDF is read in a worker process (time-limited,
    killed when stuck) waited for on a thread: the event loop answers other requests meanwhile."""
    found = paper_text.target(_pdf_path(args), library_view(ls))
    if isinstance(found, dict):
        return found
    made = await asyncio.get_running_loop().run_in_executor(None, paper_text.make, found)
    if isinstance(made, dict):
        return made
    remember_text_view(ls, str(made.path), str(made.pdf), made.lines)
    uri = convert.path_to_uri(str(made.path))
    caps = ls.client_capabilities
    if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=uri, take_focus=True))
    return {"uri": uri, "pages": made.pages}
