"""What every feature needs from an open document: its text, language, offset, bib files and,
for LaTeX, its project (root document, bibliography and user citation commands)."""
from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import unquote

from lsprotocol import types

from paperlens.core import citations
from paperlens.core.project import Project
from paperlens.lsp import convert
from paperlens.lsp.session import uri_to_path

MAX_DOCUMENT_CHARS = 20_000_000
MAX_FILE_BYTES = 20_000_000          # a file read from disk (not open in the editor)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    """A document's text as the features see it (``source`` and ``language_id`` as pygls
    names them, so code written for pygls' documents reads it unchanged)."""
    uri: str
    source: str
    language_id: Optional[str] = None
    version: Optional[int] = None


def allowed_folders(ls) -> list[str]:
    """The folders whose files a request may read when the editor has not opened them: the
    workspace folders, the paper folders and the text views of PDFs the server wrote (real
    paths)."""
    session = ls.session
    folders = set(session.workspace_folders) | set(session.folders())
    for store in list(session.library.stores):
        index_dir = getattr(store, "index_dir", None)
        if index_dir is not None:
            folders.add(str(Path(index_dir) / "texts"))
    out = []
    for f in folders:
        try:
            out.append(os.path.realpath(f))
        except (OSError, ValueError):
            continue
    return out


def _inside(path: str, folders: Iterable[str]) -> bool:
    for folder in folders:
        if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


def read_confined(path: Path, folders: Iterable[str], max_bytes: int = MAX_FILE_BYTES) -> Optional[str]:
    """The text of the regular file at ``path`` when it is inside one of ``folders`` (real
    paths) once every symlink is resolved and holds at most ``max_bytes``; else None.

    Never blocks and never reads what is not a regular file: a FIFO, a device or a socket is
    refused by ``stat`` before it is opened, and the file is opened without following a
    symlink and without blocking, then checked again with ``fstat``.  At most the size
    ``stat`` gave is read (a file of /proc says 0 bytes and gives nothing)."""
    try:
        if not path.is_absolute():
            return None
        real = os.path.realpath(path)
        if not _inside(real, folders):
            return None
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(real, flags)
    except (OSError, ValueError):          # missing, unreadable, a NUL in the path
        return None
    try:
        st2 = os.fstat(fd)
        if not stat.S_ISREG(st2.st_mode) or (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino) \
                or st2.st_size > max_bytes:
            return None
        chunks, left = [], st2.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


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


def open_documents(ls) -> dict[str, str]:
    """{path: text} of the documents open in the editor (they win over the files on disk)."""
    out = {}
    for uri, doc in list(ls.workspace.text_documents.items()):
        path = uri_to_path(uri)
        if path is not None:
            out[str(path)] = doc.source
    return out


def latex_project(ls, path: Optional[Path], text: str,
                  open_docs: Optional[dict[str, str]] = None) -> Optional[Project]:
    """The LaTeX project of the document at ``path`` (None without a path or on trouble);
    ``open_docs``: the editor's documents (default: those open now)."""
    if path is None:
        return None
    try:
        return ls.session.drafts().projects.project(
            str(path), text, open_documents(ls) if open_docs is None else open_docs)
    except Exception:                     # never let a strange project break a request
        log.exception("could not resolve the LaTeX project of %s", path)
        return None


@dataclass
class DocContext:
    uri: str
    text: str
    language: Optional[str]
    offset: int
    path: Optional[Path]
    starts: list[int]
    ls: Any = field(default=None, repr=False, compare=False)
    encoding: str = convert.UTF16        # the position encoding negotiated with the client
    _project: Any = field(default=False, repr=False, compare=False)

    def project(self) -> Optional[Project]:
        """The LaTeX project of this document (resolved once per request)."""
        if self._project is False:
            self._project = latex_project(self.ls, self.path, self.text) \
                if self.language == "latex" and self.ls is not None else None
        return self._project

    def macros(self) -> frozenset:
        """User-defined citation commands of this document's project (LaTeX)."""
        project = self.project()
        return project.macros if project is not None else frozenset()

    def bib_files(self) -> list[str]:
        """The .bib files this document uses: for LaTeX those its project's root document
        names (in its whole tree, relative to the root's folder), else those it names
        itself, resolved against its folder."""
        if not self.language:
            return []
        project = self.project()
        if project is not None and project.bib_files:
            return list(project.bib_files)
        base = self.path.parent if self.path else Path.cwd()
        out = []
        for name in citations.bibliography_files(self.text, self.language):
            try:
                out.append(str((base / name).resolve()))
            except (OSError, ValueError, RuntimeError):   # a NUL in the name, a symlink loop
                continue
        return out

    def range(self, span) -> types.Range:
        return convert.span_to_range(self.text, span, self.starts, self.encoding)

    def position(self, offset: int) -> types.Position:
        return convert.offset_to_position(self.text, offset, self.starts, self.encoding)


def doc_context(ls, uri: str, position: types.Position) -> Optional[DocContext]:
    """The document at ``uri`` (open in the editor, else a file inside the configured folders,
    see :func:`text_document`), or None."""
    doc = text_document(ls, uri)
    if doc is None:
        return None
    text, language_id = doc.source, doc.language_id
    if len(text) > MAX_DOCUMENT_CHARS:
        return None
    path = uri_to_path(uri)
    language = citations.language_for(language_id or "") if language_id else None
    if language is None and path is not None:
        language = citations.language_for(path.name)
    starts = convert.line_starts(text)
    encoding = convert.encoding_of(ls)
    offset = convert.position_to_offset(text, position, starts, encoding)
    return DocContext(uri, text, language, offset, path, starts, ls, encoding=encoding)


def citation_under_cursor(ls, params) -> Optional[tuple[DocContext, "citations.CitationKey"]]:
    """The document context and the citation key at the request's position, if any."""
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cite = citations.citation_at(ctx.text, ctx.offset, ctx.language, ctx.macros())
    return None if cite is None else (ctx, cite)
