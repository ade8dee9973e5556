"""Diagnostics: citation keys not in the library (with quick fixes offering the closest keys),
and keys defined in more than one .bib file."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.lsp import convert
from paperlens.lsp.features._doc import latex_project, open_documents
from paperlens.lsp.session import uri_to_path

log = logging.getLogger(__name__)

SOURCE = "paperlens"
UNKNOWN_KEY = "unknown-key"
DUPLICATE_KEY = "duplicate-key"


def draft_diagnostics(ls, uri: str) -> list[types.Diagnostic]:
    """Unknown citation keys in one open draft."""
    try:
        doc = ls.workspace.get_text_document(uri)
        text = doc.source
    except Exception:
        return []
    path = uri_to_path(uri)
    language = citations.language_for(getattr(doc, "language_id", "") or "") or \
        (citations.language_for(path.name) if path else None)
    if language is None or len(text) > 20_000_000:
        return []
    library = ls.session.library
    if not ls.session.indexed_once or not any(s.table.rows for s in library.stores):
        return []                      # the library is not known yet: no false alarms
    keys = library.keys()
    starts = convert.line_starts(text)
    encoding = convert.encoding_of(ls)
    out = []
    project = latex_project(ls, path, text) if language == "latex" else None
    macros = project.macros if project is not None else None
    for cite in citations.find_citations(text, language, macros):
        if cite.key in keys:
            continue
        close = library.closest_keys(cite.key)
        message = f"'{cite.key}' is not in the library"
        if close:
            message += "; did you mean " + ", ".join(f"'{k}'" for k in close) + "?"
        out.append(types.Diagnostic(
            range=convert.span_to_range(text, cite.span, starts, encoding), message=message,
            severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=UNKNOWN_KEY,
            data={"key": cite.key, "suggestions": close}))
    return out


def _bibliographies(ls) -> dict[str, list[str]]:
    """{document: its .bib files in order}: LaTeX root documents with their project's
    bibliography, other drafts with the files they name."""
    try:
        return ls.session.drafts().bibliographies(open_documents(ls))
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


def duplicate_key_diagnostics(ls) -> dict[str, list[types.Diagnostic]]:
    """{bib file uri: warnings} for keys that several .bib files define, saying which drafts
    get which entry (a LaTeX chapter gets the entry its root document's bibliography names)."""
    by_key: dict[str, list] = {}
    for row in ls.session.library.rows():
        if row.source_kind == "bib":
            by_key.setdefault(row.key, []).append(row)
    out: dict[str, list[types.Diagnostic]] = {}
    bibliographies: Optional[dict[str, list[str]]] = None
    for key, rows in by_key.items():
        files = {r.source for r in rows}
        if len(files) < 2:
            continue
        if bibliographies is None:       # only read the drafts when some key is defined twice
            bibliographies = {doc: [str(Path(b).resolve()) for b in bibs]
                              for doc, bibs in _bibliographies(ls).items()}
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
