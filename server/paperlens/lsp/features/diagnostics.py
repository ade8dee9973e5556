"""Diagnostics: citation keys not in the library (with quick fixes offering the closest keys),
and keys defined in more than one .bib file; the publisher that computes them off the event
loop when documents change."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from lsprotocol import types

from paperlens.core import citations
from paperlens.lsp import convert
from paperlens.lsp.features._doc import latex_project, open_documents
from paperlens.lsp.session import background_executor, uri_to_path

log = logging.getLogger(__name__)

SOURCE = "paperlens"
# unknown-key warnings per document: each is looked up in the library and sent to the editor
# (a 15 MB draft citing 20k keys of another library would cost seconds at every change)
MAX_UNKNOWN_KEYS = 1000
UNKNOWN_KEY = "unknown-key"
DUPLICATE_KEY = "duplicate-key"


def document_language(uri: str, language_id: Optional[str]) -> Optional[str]:
    """The draft language of a document (from the editor's language id, else its file name)."""
    language = citations.language_for(language_id or "") if language_id else None
    if language is None:
        path = uri_to_path(uri)
        language = citations.language_for(path.name) if path is not None else None
    return language


def draft_diagnostics(ls, uri: str) -> list[types.Diagnostic]:
    """Unknown citation keys in one draft open in the editor (nothing is read from disk:
    pygls' ``get_text_document`` would read any file, a FIFO or /dev/zero too)."""
    doc = ls.workspace.text_documents.get(unquote(uri)) if isinstance(uri, str) else None
    if doc is None:
        return []
    return document_diagnostics(ls, uri, doc.source, getattr(doc, "language_id", None), open_documents(ls))


def document_diagnostics(ls, uri: str, text: str, language_id: Optional[str], open_docs: dict[str, str],
                         project=False, scan: Optional[citations.CitationScan] = None) -> list[types.Diagnostic]:
    """Unknown citation keys in the draft ``text`` at ``uri``; ``open_docs``: {path: text} of
    the editor's documents; ``project``: its LaTeX project when already resolved; ``scan``:
    the document's keys as last scanned (updated here: only what changed is read again).
    At most :data:`MAX_UNKNOWN_KEYS` warnings, the first ones in the document."""
    language = document_language(uri, language_id)
    if language is None or len(text) > 20_000_000:
        return []
    library = ls.session.library
    if not ls.session.indexed_once or not any(s.table.rows for s in library.stores):
        return []                      # the library is not known yet: no false alarms
    keys = library.keys()
    starts: Optional[list[int]] = None
    encoding = convert.encoding_of(ls)
    out = []
    if project is False:
        project = latex_project(ls, uri_to_path(uri), text, open_docs) if language == "latex" else None
    macros = project.macros if project is not None else None
    if scan is None or scan.language != language:
        scan = citations.CitationScan(language)
    for cite in scan.update(text, macros):
        if cite.key in keys:
            continue
        if len(out) >= MAX_UNKNOWN_KEYS:    # a draft whose library is elsewhere: the first ones
            break
        if starts is None:
            starts = convert.line_starts(text)
        close = library.closest_keys(cite.key)
        message = f"'{cite.key}' is not in the library"
        if close:
            message += "; did you mean " + ", ".join(f"'{k}'" for k in close) + "?"
        out.append(types.Diagnostic(
            range=convert.span_to_range(text, cite.span, starts, encoding), message=message,
            severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=UNKNOWN_KEY,
            data={"key": cite.key, "suggestions": close}))
    return out


def _bibliographies(ls, open_docs: Optional[dict[str, str]] = None) -> dict[str, list[str]]:
    """{document: its .bib files in order}: LaTeX root documents with their project's
    bibliography, other drafts with the files they name."""
    try:
        return ls.session.drafts().bibliographies(open_documents(ls) if open_docs is None else open_docs)
    except Exception:
        log.exception("could not read the drafts' bibliographies")
        return {}


def _users(files: set[str], bibliographies: dict[str, list[str]]) -> dict[str, list[str]]:
    """{.bib file: names of the documents that get their entry from it} among ``files``
    (the files defining one key): a document gets the entry of the first of them it names."""
    users: dict[str, list[str]] = {}
    for document, bibs in bibliographies.items():
        winner = next((b for b in bibs if b in files), None)
        if winner is not None:
            users.setdefault(winner, []).append(Path(document).name)
    return users


def duplicate_key_diagnostics(ls, open_docs: Optional[dict[str, str]] = None) -> dict[str, list[types.Diagnostic]]:
    """{bib file uri: warnings} for keys that several .bib files define, saying which drafts
    get which entry (a LaTeX chapter gets the entry its root document's bibliography names)."""
    by_key: dict[str, list] = {}
    for row in ls.session.library.rows():
        if row.source_kind == "bib":
            by_key.setdefault(row.key, []).append(row)
    out: dict[str, list[types.Diagnostic]] = {}
    bibliographies: Optional[dict[str, list[str]]] = None
    for key, rows in by_key.items():
        if len(rows) < 2:                # most keys: no set to build (10k keys at start)
            continue
        files = {r.source for r in rows}
        if len(files) < 2:
            continue
        if bibliographies is None:       # only read the drafts when some key is defined twice
            bibliographies = {doc: [str(Path(b).resolve()) for b in bibs]
                              for doc, bibs in _bibliographies(ls, open_docs).items()}
        users = _users(files, bibliographies)
        for r in rows:
            others = sorted(Path(f).name for f in files if f != r.source)
            here = users.get(r.source, [])
            if here:
                shown = ", ".join(here[:3]) + (f" and {len(here) - 3} more" if len(here) > 3 else "")
                tail = f"{shown} {'gets' if len(here) == 1 else 'get'} this entry"
            else:
                tail = "a draft gets the entry of the .bib file its bibliography names (for a LaTeX " \
                       "file, the one its root document names)"
            out.setdefault(Path(r.source).as_uri(), []).append(types.Diagnostic(
                range=convert.line_range(r.source_line, r.source_line),
                message=f"key '{key}' is also defined in {', '.join(others)}; {tail}",
                severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=DUPLICATE_KEY))
    return out


def code_actions(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes for unknown keys: replace with one of the closest keys."""
    actions = []
    for diag in params.context.diagnostics:
        if diag.source != SOURCE or diag.code != UNKNOWN_KEY or not isinstance(diag.data, dict):
            continue
        for n, key in enumerate(diag.data.get("suggestions") or []):
            actions.append(types.CodeAction(
                title=f"Replace with '{key}'", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                is_preferred=n == 0,
                edit=types.WorkspaceEdit(changes={params.text_document.uri: [
                    types.TextEdit(range=diag.range, new_text=key)]})))
    return actions


class Publisher:
    """Publishes the diagnostics of the open documents and the duplicate-key warnings of the
    .bib files: debounced (``DELAY`` after the last change), computed on one worker thread
    off the event loop, from a snapshot of the open documents taken on the loop.

    A change to a LaTeX document also recomputes the other open LaTeX documents of its
    project (those whose project holds it now or held it last time): a command defined in the
    preamble changes what a chapter cites.  Those are published only when their diagnostics
    changed; the changed document always is.  A closed document's warnings are withdrawn.

    Each open document's keys are kept from one run to the next (a ``CitationScan``): a
    keystroke in a 2 MB draft rescans a window around it, not the draft, and the closest keys
    offered for an unknown key are looked up once per library change.
    """

    DELAY = 0.2

    def __init__(self, ls) -> None:
        self.ls = ls
        self._executor = background_executor("paperlens-diagnostics", low_priority=True)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._dirty: dict[str, bool] = {}        # uri -> it changed (False: only recompute it)
        self._dupes = False                      # recompute the duplicate-key warnings
        self._handle: Optional[asyncio.TimerHandle] = None
        self._running = False
        self._closed = False
        self._drafts: dict[str, list] = {}       # open document uri -> unknown-key warnings
        self._bibs: dict[str, list] = {}         # .bib uri -> duplicate-key warnings
        self._published: dict[str, list] = {}    # uri -> what the client was sent last
        self._files: dict[str, frozenset] = {}   # worker only: uri -> its project's files last time
        self._scans: dict[str, citations.CitationScan] = {}   # worker only: uri -> its keys last time

    # -- on the event loop ---------------------------------------------------------------------
    def changed(self, uri: str) -> None:
        """``uri`` was opened or changed: its diagnostics and its project's."""
        self._dirty[uri] = True
        self._schedule()

    def closed(self, uri: str) -> None:
        """``uri`` was closed: withdraw its warnings (a .bib file keeps its duplicate keys); the
        other documents of its project now read it from disk."""
        self._drafts.pop(uri, None)
        self._send(uri, force=True)
        self._dirty[uri] = True
        self._schedule()

    def refresh_all(self) -> None:
        """The library changed: every open document and the .bib files' duplicate keys."""
        for doc in list(self.ls.workspace.text_documents.values()):
            self._dirty.setdefault(doc.uri, False)
        self._dupes = True
        self._schedule()

    def close(self) -> None:
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _schedule(self) -> None:
        if self._closed:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = self._loop or self.ls.session.loop
        if self._loop is None or self._loop.is_closed():
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_later(self.DELAY, self._flush)

    def _flush(self) -> None:
        self._handle = None
        if self._running or self._closed or not (self._dirty or self._dupes):
            return                       # a run is on: its end flushes what came meanwhile
        docs = {doc.uri: (doc.source, getattr(doc, "language_id", None), doc.version)
                for doc in list(self.ls.workspace.text_documents.values())}
        work, dupes = self._dirty, self._dupes
        self._dirty, self._dupes = {}, False
        self._running = True
        try:
            future = self._loop.run_in_executor(self._executor, self._work, work, docs, dupes)
        except RuntimeError:             # shutting down
            self._running = False
            return
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future) -> None:
        self._running = False
        if future.cancelled() or self._closed:
            return
        try:
            drafts, bibs = future.result()
        except Exception:
            log.exception("computing diagnostics failed")
            drafts, bibs = {}, None
        open_docs = self.ls.workspace.text_documents
        for uri, (version, diags, changed) in drafts.items():
            doc = open_docs.get(unquote(uri))
            if doc is None or doc.version != version:
                continue                 # closed, or changed since: a newer run has it
            self._drafts[uri] = diags
            self._send(uri, force=changed)
        if bibs is not None:
            old, self._bibs = self._bibs, bibs
            for uri in sorted(set(old) | set(bibs)):
                self._send(uri, force=True)
        if (self._dirty or self._dupes) and self._handle is None:
            self._flush()

    def _send(self, uri: str, force: bool) -> None:
        diags = self._drafts.get(uri, []) + self._bibs.get(uri, [])
        if not force and self._published.get(uri) == diags:
            return
        self._published[uri] = diags
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))

    # -- on the worker thread ------------------------------------------------------------------
    def _work(self, work: dict[str, bool], docs: dict[str, tuple], dupes: bool):
        """({uri: (version, diagnostics, changed)}, {bib uri: warnings} or None)."""
        open_docs = {str(p): text for uri, (text, _l, _v) in docs.items() if (p := uri_to_path(uri)) is not None}
        targets = {uri: changed for uri, changed in work.items() if uri in docs}
        changed_latex = set()
        for uri, changed in work.items():
            path = uri_to_path(uri)
            language = document_language(uri, docs[uri][1] if uri in docs else None)
            if changed and path is not None and language == "latex":
                changed_latex.add(os.path.normpath(str(path)))
        projects: dict[str, object] = {}
        for uri, (text, language_id, _version) in docs.items():
            if document_language(uri, language_id) != "latex":
                continue
            if uri in targets or changed_latex:
                project = latex_project(self.ls, uri_to_path(uri), text, open_docs)
                projects[uri] = project
                files = frozenset(project.files) if project is not None else frozenset()
                if uri not in targets and changed_latex & (files | self._files.get(uri, frozenset())):
                    targets[uri] = False
                self._files[uri] = files
        for uri in [u for u in self._files if u not in docs]:
            del self._files[uri]
        for uri in [u for u in self._scans if u not in docs]:
            del self._scans[uri]
        out = {}
        for uri, changed in targets.items():
            text, language_id, version = docs[uri]
            language = document_language(uri, language_id)
            scan = self._scans.get(uri)
            if language is not None and (scan is None or scan.language != language):
                scan = self._scans[uri] = citations.CitationScan(language)
            try:
                diags = document_diagnostics(self.ls, uri, text, language_id, open_docs,
                                             projects.get(uri), scan)
            except Exception:
                log.exception("diagnostics of %s failed", uri)
                diags = []
            out[uri] = (version, diags, changed)
        bibs = None
        if dupes:
            try:
                bibs = duplicate_key_diagnostics(self.ls, open_docs)
            except Exception:
                log.exception("duplicate-key diagnostics failed")
        return out, bibs
