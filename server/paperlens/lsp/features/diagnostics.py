"""Diagnostics of the open documents (unknown citation keys, with quick fixes offering the
closest keys; with ``paperlens.diagnostics.unsupportedCitation``, citations whose paper has
nothing matching the sentence, with "cite instead" fixes and the best passages) and of the .bib
files (keys defined in more than one: see core/features/diagnostics.py); the publisher that
computes them off the event loop when documents change (debounced; the evidence of the
citations, which the hover shows and the unsupported-citation check reads, only after
:attr:`Publisher.EVIDENCE_DELAY` of quiet, never on a keystroke path)."""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Optional
from urllib.parse import unquote

from lsprotocol import types

from paperlens.core import citations
from paperlens.core.features import diagnostics as feature
from paperlens.core.features import hover
from paperlens.core.features.document import document_language, make_snapshot
from paperlens.lsp import convert
from paperlens.lsp.background import background_executor
from paperlens.lsp.features._view import event_loop, library_view
from paperlens.lsp.features import COMMAND_SHOW_PASSAGE
from paperlens.lsp.uris import uri_to_path

log = logging.getLogger(__name__)

SOURCE = "paperlens"
MAX_UNKNOWN_KEYS = feature.MAX_UNKNOWN_KEYS
UNKNOWN_KEY = feature.UNKNOWN_KEY
DUPLICATE_KEY = feature.DUPLICATE_KEY
UNSUPPORTED_CITATION = feature.UNSUPPORTED_CITATION


def unsupported_enabled(ls) -> bool:
    """Whether the unsupported-citation hint is on (``paperlens.diagnostics.unsupportedCitation``)."""
    try:
        return bool(ls.session.settings.diagnostics.unsupported_citation)
    except AttributeError:
        return False


def _language(uri: str, language_id: Optional[str]) -> Optional[str]:
    return document_language(language_id, uri_to_path(uri))


def draft_diagnostics(ls, uri: str) -> list[types.Diagnostic]:
    """Unknown citation keys in one draft open in the editor (nothing is read from disk:
    pygls' ``get_text_document`` would read any file, a FIFO or /dev/zero too)."""
    doc = ls.workspace.text_documents.get(unquote(uri)) if isinstance(uri, str) else None
    if doc is None:
        return []
    return document_diagnostics(ls, uri, doc.source, getattr(doc, "language_id", None), None)


def document_diagnostics(ls, uri: str, text: str, language_id: Optional[str],
                         open_docs: Optional[dict[str, str]], project=False,
                         scan: Optional[citations.CitationScan] = None,
                         evidence: bool = False) -> list[types.Diagnostic]:
    """Unknown citation keys in the draft ``text`` at ``uri``; ``open_docs``: {path: text} of
    the editor's documents (None: those open now); ``project``: its LaTeX project when already
    resolved; ``scan``: the document's keys as last scanned (updated here); ``evidence``: the
    unsupported citations too (slow: reads the cited papers)."""
    view = library_view(ls, open_docs=open_docs)
    project_of = view.project_of if project is False else (lambda _path, _text: project)
    doc = make_snapshot(uri, text, language_id, uri_to_path(uri), project_of=project_of)
    if doc is None:
        return []
    positions = convert.positions(ls)
    out = [types.Diagnostic(
        range=positions.range(text, d.span), message=d.message, severity=types.DiagnosticSeverity.Warning,
        source=SOURCE, code=UNKNOWN_KEY, data={"key": d.key, "suggestions": d.suggestions})
        for d in feature.unknown_keys(doc, view, scan)]
    if evidence:
        out += unsupported_diagnostics(positions, text, feature.unsupported_citations(doc, view) or [])
    return out


def unsupported_diagnostics(positions, text: str, found) -> list[types.Diagnostic]:
    """Information hints of unsupported citations, the best passages as related information."""
    return [types.Diagnostic(
        range=positions.range(text, u.span), message=u.message, severity=types.DiagnosticSeverity.Information,
        source=SOURCE, code=UNSUPPORTED_CITATION, data=u.data(),
        related_information=[types.DiagnosticRelatedInformation(
            location=types.Location(uri=convert.path_to_uri(p.path), range=convert.line_range(p.line, p.end_line)),
            message=(f"p. {p.page}: " if p.page else "") + p.text) for p in u.passages] or None)
        for u in found]


def duplicate_key_diagnostics(ls, open_docs: Optional[dict[str, str]] = None) -> dict[str, list[types.Diagnostic]]:
    """{bib file uri: warnings} for keys that several .bib files define, saying which drafts
    get which entry."""
    return {convert.path_to_uri(path): [types.Diagnostic(
        range=convert.line_range(d.line, d.line), message=d.message,
        severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=DUPLICATE_KEY) for d in found]
        for path, found in feature.duplicate_keys(library_view(ls, open_docs=open_docs)).items()}


def code_actions(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes for unknown keys: replace with one of the closest keys; for an unsupported
    citation: cite a paper matching the sentence better instead, show its best passages."""
    actions = []
    for diag in params.context.diagnostics:
        if diag.source == SOURCE and diag.code == UNSUPPORTED_CITATION:
            actions += _unsupported_actions(params, diag)
            continue
        if diag.source != SOURCE or diag.code != UNKNOWN_KEY:
            continue
        for fix in feature.fixes(diag.data):
            actions.append(types.CodeAction(
                title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                is_preferred=fix.preferred,
                edit=types.WorkspaceEdit(changes={params.text_document.uri: [
                    types.TextEdit(range=diag.range, new_text=fix.key)]})))
    return actions


def _unsupported_actions(params: types.CodeActionParams, diag: types.Diagnostic) -> list[types.CodeAction]:
    actions = [types.CodeAction(
        title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
        edit=types.WorkspaceEdit(changes={params.text_document.uri: [
            types.TextEdit(range=diag.range, new_text=fix.key)]}))
        for fix in feature.cite_instead(diag.data)]
    for path, line, page in feature.shown_passages(diag.data):
        where = (f"p. {page}, " if page else "") + f"line {line + 1}"
        actions.append(types.CodeAction(
            title=f"Show the passage of the cited paper that matches best ({where})",
            kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
            command=types.Command(title="Show passage", command=COMMAND_SHOW_PASSAGE,
                                  arguments=[convert.path_to_uri(path), line])))
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
    EVIDENCE_DELAY = 2.0         # quiet before the citations' evidence is computed (it reads papers)
    OPENED_DELAY = 0.2           # ... for a document just opened (its citations hovered soon)

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
        self._evidence: dict[str, list] = {}     # open document uri -> unsupported-citation hints
        self._evidence_dirty: set[str] = set()   # documents to check again
        self._evidence_handle: Optional[asyncio.TimerHandle] = None
        self._evidence_running = False
        self._opened: set[str] = set()           # documents whose evidence was never computed
        # (opened, or opened before the library was ready: computed soon once it is)

    # -- on the event loop ---------------------------------------------------------------------
    def changed(self, uri: str) -> None:
        """``uri`` was opened or changed: its diagnostics and its project's."""
        self._dirty[uri] = True
        self._evidence.pop(uri, None)            # its places moved: checked again after a pause
        if uri not in self._evidence_dirty and uri not in self._published:
            self._opened.add(uri)
        self._evidence_dirty.add(uri)
        self._schedule()

    def closed(self, uri: str) -> None:
        """``uri`` was closed: withdraw its warnings (a .bib file keeps its duplicate keys); the
        other documents of its project now read it from disk."""
        self._drafts.pop(uri, None)
        self._evidence.pop(uri, None)
        self._evidence_dirty.discard(uri)
        self._opened.discard(uri)
        self._send(uri, force=True)
        self._dirty[uri] = True
        self._schedule()

    def refresh_all(self) -> None:
        """The library changed: every open document and the .bib files' duplicate keys."""
        for doc in list(self.ls.workspace.text_documents.values()):
            self._dirty.setdefault(doc.uri, False)
            self._evidence_dirty.add(doc.uri)
        self._dupes = True
        self._schedule()

    def close(self) -> None:
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._evidence_handle is not None:
            self._evidence_handle.cancel()
            self._evidence_handle = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _schedule(self) -> None:
        if self._closed:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = self._loop or event_loop(self.ls)
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
        self._schedule_evidence()

    # the citations' evidence (and with the setting, the unsupported-citation check): after a
    # pause, one run for the documents changed since; a hover then finds the evidence computed
    def _schedule_evidence(self) -> None:
        if self._closed or self._loop is None or self._loop.is_closed():
            return
        if not unsupported_enabled(self.ls) and self._evidence:
            old, self._evidence = self._evidence, {}
            for uri in old:
                self._send(uri, force=True)
        if not self._evidence_dirty:
            return
        if self._evidence_handle is not None:
            self._evidence_handle.cancel()
        delay = self.OPENED_DELAY if self._opened & self._evidence_dirty else self.EVIDENCE_DELAY
        self._evidence_handle = self._loop.call_later(delay, self._flush_evidence)

    def _flush_evidence(self) -> None:
        self._evidence_handle = None
        if self._closed or not self._evidence_dirty:
            return
        if self._running or self._evidence_running or self._dirty or self._handle is not None:
            self._schedule_evidence()        # typing goes on or keys are being checked: later
            return
        docs = {doc.uri: (doc.source, getattr(doc, "language_id", None), doc.version)
                for doc in list(self.ls.workspace.text_documents.values())}
        uris = [u for u in self._evidence_dirty if u in docs]
        self._evidence_dirty = set()
        self._opened -= set(uris)
        if not uris:
            return
        self._evidence_running = True
        try:
            future = self._loop.run_in_executor(self._executor, self._evidence_work, uris, docs,
                                                unsupported_enabled(self.ls))
        except RuntimeError:
            self._evidence_running = False
            return
        future.add_done_callback(self._evidence_done)

    def _evidence_done(self, future: asyncio.Future) -> None:
        self._evidence_running = False
        if future.cancelled() or self._closed:
            return
        try:
            found, left, unready = future.result()
        except Exception:
            log.exception("checking citations failed")
            return
        open_docs = self.ls.workspace.text_documents
        for uri in left:                 # given up for a change meanwhile: again after a pause
            if uri in open_docs:
                self._evidence_dirty.add(uri)
        self._opened.update(u for u in unready if u in open_docs)   # when the library is ready
        for uri, (version, diags) in found.items():
            doc = open_docs.get(unquote(uri))
            if doc is None or doc.version != version or uri in self._evidence_dirty:
                continue                 # closed, or changed since: checked again later
            self._evidence[uri] = diags
            self._send(uri, force=False)
        self._schedule_evidence()

    def _evidence_work(self, uris: list[str], docs: dict[str, tuple], hints: bool = True):
        """({uri: (version, unsupported-citation hints)} with ``hints``, else {} (the evidence
        computed only for the hovers), [uris given up for a change of the documents meanwhile],
        [uris not checked: the library is not ready]) (worker thread)."""
        open_docs = {str(p): text for uri, (text, _l, _v) in docs.items()
                     if (p := uri_to_path(uri)) is not None}
        view = library_view(self.ls, open_docs=open_docs)
        if not view.ready():
            return {}, [], list(uris)
        positions = convert.positions(self.ls)
        out, left = {}, []

        def stop() -> bool:              # a document changed: its keys are checked first
            return bool(self._dirty) or self._closed
        for n, uri in enumerate(uris):
            text, language_id, version = docs[uri]
            try:
                doc = make_snapshot(uri, text, language_id, uri_to_path(uri), project_of=view.project_of)
                if doc is None:
                    continue
                if hints:
                    found = feature.unsupported_citations(doc, view, stop=stop)
                    if found is None:
                        left += uris[n:]
                        break
                    out[uri] = (version, unsupported_diagnostics(positions, text, found))
                elif not hover.prepare(doc, view, stop=stop):
                    left += uris[n:]
                    break
            except Exception:
                log.exception("checking the citations of %s failed", uri)
        return out, left, []

    def _send(self, uri: str, force: bool) -> None:
        diags = self._drafts.get(uri, []) + self._evidence.get(uri, []) + self._bibs.get(uri, [])
        if not force and self._published.get(uri) == diags:
            return
        self._published[uri] = diags
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))

    # -- on the worker thread ------------------------------------------------------------------
    def _work(self, work: dict[str, bool], docs: dict[str, tuple], dupes: bool):
        """({uri: (version, diagnostics, changed)}, {bib uri: warnings} or None)."""
        open_docs = {str(p): text for uri, (text, _l, _v) in docs.items()
                     if (p := uri_to_path(uri)) is not None}
        view = library_view(self.ls, open_docs=open_docs)
        targets = {uri: changed for uri, changed in work.items() if uri in docs}
        changed_latex = set()
        for uri, changed in work.items():
            path = uri_to_path(uri)
            language = _language(uri, docs[uri][1] if uri in docs else None)
            if changed and path is not None and language == "latex":
                changed_latex.add(os.path.normpath(str(path)))
        projects: dict[str, object] = {}
        for uri, (text, language_id, _version) in docs.items():
            if _language(uri, language_id) != "latex":
                continue
            if uri in targets or changed_latex:
                path = uri_to_path(uri)
                project = view.project_of(path, text) if path is not None else None
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
            language = _language(uri, language_id)
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
