"""The one place where the features meet the server's state (``ls.session``): the library view a
request reads (:class:`SessionView`), the snapshot of its document, the folders a request may
read, the event loop. The adapters of ``lsp/features`` read nothing of the session but this."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar
from urllib.parse import unquote

from paperlens.core.features.document import Snapshot, make_snapshot
from paperlens.core.features.view import LocalView, PaperCache
from paperlens.lsp import convert
from paperlens.lsp.features._doc import Document, read_confined
from paperlens.lsp.uris import uri_to_path

if TYPE_CHECKING:
    from lsprotocol import types

log = logging.getLogger(__name__)
T = TypeVar("T")
LOOP_TIMEOUT = 30.0


def event_loop(ls) -> Optional[asyncio.AbstractEventLoop]:
    """The server's event loop (None before ``initialized``)."""
    return ls.session.loop


def open_documents(ls) -> dict[str, str]:
    """{path: text} of the documents open in the editor (they win over the files on disk)."""
    out = {}
    for uri, doc in list(ls.workspace.text_documents.items()):
        path = uri_to_path(uri)
        if path is not None:
            out[str(path)] = doc.source
    return out


def allowed_folders(ls) -> list[str]:
    """The folders whose files a request may read when the editor has not opened them: the
    workspace folders, the paper folders, the text views of PDFs the server wrote and the
    Zotero library's ``storage/`` (real paths)."""
    session = ls.session
    folders = set(session.workspace_folders) | set(session.folders())
    folders.update(str(d) for d in session.library.readable_folders())   # text views, Zotero's storage/
    out = []
    for f in folders:
        try:
            out.append(os.path.realpath(f))
        except (OSError, ValueError):
            continue
    return out


def text_document(ls, uri: str) -> Optional[Document]:
    """The document at ``uri``: the editor's text when it is open; else, for a ``file:`` URI
    of a regular file inside the configured folders, its text on disk (size-capped); else
    None.  Every feature reads documents through this (never through
    ``ls.workspace.get_text_document``, which reads any file whole, a FIFO or /dev/zero too)."""
    if not isinstance(uri, str):
        return None
    try:
        doc = ls.workspace.text_documents.get(unquote(uri))
    except Exception:                      # not initialized: nothing is open, nothing is read
        return None
    if doc is not None:
        return Document(uri, doc.source, getattr(doc, "language_id", None), getattr(doc, "version", None))
    path = uri_to_path(uri)
    if path is None:
        return None
    try:
        folders = allowed_folders(ls)
    except Exception:
        log.exception("could not list the configured folders")
        return None
    text = read_confined(path, folders)
    return None if text is None else Document(uri, text)


def remember_text_view(ls, view_file: str, pdf: str, lines: list[int]) -> None:
    """A PDF's text view was written: reading features map its lines to the PDF's text."""
    ls.session.paper_text_views[view_file] = pdf
    ls.session.paper_text_lines[view_file] = lines


def completion_limit(ls) -> int:
    return ls.session.settings.completion.limit


def embeddings_on(ls) -> bool:
    """Whether ranking for the sentence may use the word embeddings (paperlens.completion.embeddings)."""
    return ls.session.settings.completion.embeddings


def _on_loop(ls, fn: Callable[[], T]) -> T:
    """``fn()`` run on the event loop (the index's reader is used there), waited for from a
    worker thread; called on the loop, or without one (in-process), it just runs."""
    loop = event_loop(ls)
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
        loop = event_loop(self.ls)
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn)
        except RuntimeError:          # the loop closed meanwhile: shutting down
            pass

    def begin(self) -> None:
        token = self.token

        def send() -> None:
            from lsprotocol import types

            progress = self.ls.work_done_progress
            if self.created:
                progress.create(token)
            progress.begin(token, types.WorkDoneProgressBegin(title=self.title, message=self.message,
                                                              cancellable=False))
        self._send(send)

    def end(self, message: str) -> None:
        token = self.token

        def send() -> None:
            from lsprotocol import types

            progress = self.ls.work_done_progress
            progress.end(token, types.WorkDoneProgressEnd(message=message))
            progress.tokens.pop(token, None)
        self._send(send)


def _paper_cache(ls) -> PaperCache:
    """The server's cache of the papers cards were made of (one per server)."""
    cache = getattr(ls, "_paperlens_paper_cache", None)
    if cache is None:
        cache = PaperCache()
        try:
            setattr(ls, "_paperlens_paper_cache", cache)
        except AttributeError:         # a server that takes no attributes: no cache
            pass
    return cache


class SessionView(LocalView):
    """The library view of a request to the server ``ls``: the session's library, summary
    service and drafts, the editor's documents (``open_docs``: a snapshot taken on the event
    loop, for work done on a thread), the PDF text views, and the citation graph built on the
    session's lane of derived data (waited for with $/progress on ``token``)."""

    def __init__(self, ls, token: Any = None, open_docs: Optional[dict[str, str]] = None) -> None:
        session = ls.session
        super().__init__(session.library, cache=_paper_cache(ls))
        self.ls, self.session, self.token = ls, session, token
        self._open_docs = open_docs

    def indexing(self) -> bool:
        return bool(self.session.indexing)

    def indexed(self) -> bool:
        return bool(self.session.indexed_once)

    def summary_service(self):
        return self.session.summaries()

    def draft_index(self):
        return self.session.drafts()

    def documents(self) -> dict[str, str]:
        if self._open_docs is None:
            self._open_docs = open_documents(self.ls)
        return self._open_docs

    def graph(self, wait: bool = False):
        """The citation graph: at once when built; else, without ``wait``, None (its build is
        started); with ``wait`` (on a worker thread only) waited for, about a second at 10k
        papers, with $/progress, while the event loop answers other requests."""
        graph = self.library.graph_if_ready()
        if graph is not None:
            return graph
        if not wait:
            if self.session.loop is not None:
                self.session.build_graph()
            return None
        future = self.session.build_graph()
        progress = _Progress(self.ls, self.token, "paperlens: citation graph",
                             "linking the library's reference lists")
        progress.begin()
        try:
            return future.result()
        finally:
            progress.end("citation graph ready")

    def paper_file(self, path: str) -> str:
        return self.session.view_source(path)

    def view_line(self, path: str, line: int) -> int:
        mapping = self.session.paper_text_lines.get(path)
        return mapping[line] if mapping and 0 <= line < len(mapping) else line

    def reference_lists(self, rows):
        """Read on the event loop (the index's reader is used there), in one go."""
        return _on_loop(self.ls, lambda: [self.references_of(r) for r in rows])


def library_view(ls, token: Any = None, open_docs: Optional[dict[str, str]] = None) -> SessionView:
    return SessionView(ls, token, open_docs)


def snapshot(ls, uri: str, view: Optional[LocalView] = None) -> Optional[Snapshot]:
    """The document at ``uri`` (open in the editor, else a file inside the configured folders:
    see :func:`~paperlens.lsp.features._doc.text_document`) with, for LaTeX, its project; or None."""
    doc = text_document(ls, uri)
    if doc is None:
        return None
    view = view if view is not None else library_view(ls)
    return make_snapshot(uri, doc.source, doc.language_id, uri_to_path(uri), doc.version,
                         project_of=view.project_of)


@dataclass
class Request:
    """What an adapter hands to a feature: the library view, the document's snapshot and the
    cursor's offset in it; ``positions`` converts the answer back."""
    view: SessionView
    doc: Snapshot
    offset: int
    positions: convert.Positions


def request(ls, uri: str, position: types.Position, token: Any = None) -> Optional[Request]:
    """The request at ``position`` of the document ``uri`` (None when it cannot be read)."""
    view = library_view(ls, token)
    doc = snapshot(ls, uri, view)
    if doc is None:
        return None
    positions = convert.positions(ls)
    return Request(view, doc, positions.offset(doc.text, position), positions)
