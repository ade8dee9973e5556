"""Where a paper is cited: find references (drafts and library papers), code lenses with the
library's citation graph, and the read-only text view of a PDF."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Callable, Optional, TypeVar

from lsprotocol import types
from pygls.constants import ATTR_EXECUTE_IN_THREAD

from paperlens.lsp import convert
from paperlens.lsp.features._doc import citation_under_cursor, doc_context, open_documents
from paperlens.lsp.session import uri_to_path

log = logging.getLogger(__name__)
T = TypeVar("T")
LOOP_TIMEOUT = 30.0


def _on_loop(ls, fn: Callable[[], T]) -> T:
    """``fn()`` run on the event loop (the index's reader is used there), waited for from a
    worker thread; called on the loop, or without one (in-process), it just runs."""
    loop = ls.session.loop
    if loop is None or loop.is_closed() or threading.current_thread() is threading.main_thread():
        return fn()
    try:
        if asyncio.get_running_loop() is loop:
            return fn()
    except RuntimeError:
        pass
    done: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        try:
            done.set_result(fn())
        except BaseException as exc:
            done.set_exception(exc)

    loop.call_soon_threadsafe(run)
    return done.result(LOOP_TIMEOUT)


class _Progress:
    """$/progress for work a request waits for: on the request's own token when the editor
    gave one, else on one the server creates (when the editor supports that), else none.
    Safe to use from any thread (notifications go out from the event loop)."""

    def __init__(self, ls, token, title: str, message: str) -> None:
        self.ls, self.title, self.message = ls, title, message
        self.created = False
        if token is None:
            caps = getattr(ls, "client_capabilities", None)
            if caps and caps.window and caps.window.work_done_progress:
                token, self.created = f"paperlens-graph-{uuid.uuid4().hex[:8]}", True
        self.token = token

    def _send(self, fn) -> None:
        if self.token is None:
            return
        loop = self.ls.session.loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:          # the loop closed meanwhile: shutting down
            pass

    def begin(self) -> None:
        token = self.token

        def send() -> None:
            progress = self.ls.work_done_progress
            if self.created:
                progress.create(token)
            progress.begin(token, types.WorkDoneProgressBegin(title=self.title, message=self.message,
                                                              cancellable=False))
        self._send(send)

    def end(self, message: str) -> None:
        token = self.token

        def send() -> None:
            progress = self.ls.work_done_progress
            progress.end(token, types.WorkDoneProgressEnd(message=message))
            progress.tokens.pop(token, None)
        self._send(send)


def citation_graph(ls, token=None):
    """The library's citation graph, waited for on a worker thread: built on the session's
    lane of derived data (about a second at 10k papers) with $/progress while it builds; the
    event loop answers other requests meanwhile."""
    session = ls.session
    graph = session.library.graph_if_ready()
    if graph is not None:
        return graph
    future = session.build_graph()
    progress = _Progress(ls, token, "paperlens: citation graph", "linking the library's reference lists")
    progress.begin()
    try:
        graph = future.result()
    finally:
        progress.end("citation graph ready")
    return graph


def references(ls, params: types.ReferenceParams) -> Optional[list[types.Location]]:
    """Find references: the citations of the paper under the cursor in the user's drafts,
    and the library papers whose reference lists cite it.

    Runs on a worker thread (pygls' thread pool, see the attribute set below): it reads the
    drafts of the workspace and may wait for the citation graph; the event loop answers
    hovers and completions meanwhile.  The index's reader is used on the event loop only."""
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
        graph = citation_graph(ls, params.work_done_token)
        citing_rows = []
        for citing_id in sorted(graph.cited_by.get(row.id, ())):
            citing = library.row(citing_id)
            if citing is None:
                continue
            text_row = library.row_for_file(citing.fulltext) if citing.fulltext else citing
            citing_rows.append((citing, text_row, graph.cites[citing_id].get(row.id, "")))

        def lines() -> list[Optional[dict]]:      # the reference lists, from the index
            return [next((r for r in library.references_of(text_row) if r["label"] == label), None)
                    if text_row else None for _citing, text_row, label in citing_rows]

        for (citing, text_row, _label), ref in zip(citing_rows, _on_loop(ls, lines)):
            source = text_row.source if text_row else citing.source
            out.append(types.Location(uri=Path(source).as_uri(),
                                      range=convert.line_range(ref["line"] if ref else 0)))
    return out


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
    library = ls.session.library
    row = library.row_for_file(ls.session.view_source(str(path)))
    if row is None:
        return []
    row = library.canonical(row)
    graph = citation_graph(ls, params.work_done_token)
    line = ls.session.graph_line(row, graph)
    title = line or "Not cited by other papers in your library"
    return [types.CodeLens(range=convert.line_range(0, 0),
                           command=types.Command(title=f"{title} · {row.key}", command=""))]


setattr(code_lenses, ATTR_EXECUTE_IN_THREAD, True)


def _paper_text_target(ls, args):
    """(the PDF, its row, its store) named by ``paperlens.openPaperText``'s arguments, or an
    error answer."""
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
    return path, row, store


def _extract_pages(path: Path):
    """The PDF's pages, read by pdfium in a worker process that is killed when it takes too
    long (pdfium cannot be interrupted, and is not thread-safe), or an error answer."""
    from paperlens.core.index import workers
    from paperlens.core.parse.common import ParseError
    from paperlens.core.parse.pdf import extract_pages

    try:
        return workers.call(extract_pages, path)
    except TimeoutError:
        return {"error": f"reading this PDF took longer than {workers.parse_timeout():g} s; stopped"}
    except ParseError as exc:
        return {"error": str(exc)}
    except Exception:   # noqa: BLE001 - the worker died, or pdfium failed another way
        log.info("paper text view of %s failed", path, exc_info=True)
        return {"error": "this PDF could not be read (its reader stopped)"}


def _write_view(path: Path, row, store, pages: list[str]) -> tuple[Path, list[int]]:
    """The read-only text view of the PDF, with page markers, and its sidecar."""
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
    return view, mapping


def _make_view(path: Path, row, store):
    """Off the event loop: the PDF's pages, then its view written (or an error answer)."""
    pages = _extract_pages(path)
    if isinstance(pages, dict):
        return pages
    try:
        view, mapping = _write_view(path, row, store, pages)
    except OSError as exc:
        return {"error": f"cannot write the text view: {exc.strerror or type(exc).__name__}"}
    return view, mapping, len(pages)


def _show_view(ls, path: Path, made) -> dict:
    if isinstance(made, dict):
        return made
    view, mapping, n_pages = made
    ls.session.paper_text_views[str(view)] = str(path)
    ls.session.paper_text_lines[str(view)] = mapping
    uri = view.as_uri()
    caps = ls.client_capabilities
    if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=uri, take_focus=True))
    return {"uri": uri, "pages": n_pages}


async def open_paper_text_async(ls, args) -> Optional[dict]:
    """``paperlens.openPaperText`` [file uri or path of a library PDF]: write its extracted text
    with page markers as a read-only file, open it in the editor, return its uri.  The PDF is
    read in a worker process (time-limited, killed when stuck) waited for on a thread: the
    event loop answers other requests meanwhile."""
    found = _paper_text_target(ls, args)
    if isinstance(found, dict):
        return found
    path, row, store = found
    made = await asyncio.get_running_loop().run_in_executor(None, _make_view, path, row, store)
    return _show_view(ls, path, made)
