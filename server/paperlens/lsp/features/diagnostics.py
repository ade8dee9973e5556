"""Diagnostics: citation keys not in the library (with quick fixes offering the closest keys),
and keys defined in more than one .bib file."""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from paperlens.core import citations
from paperlens.lsp import convert
from paperlens.lsp.session import uri_to_path

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
    out = []
    for cite in citations.find_citations(text, language):
        if cite.key in keys:
            continue
        close = library.closest_keys(cite.key)
        message = f"'{cite.key}' is not in the library"
        if close:
            message += "; did you mean " + ", ".join(f"'{k}'" for k in close) + "?"
        out.append(types.Diagnostic(
            range=convert.span_to_range(text, cite.span, starts), message=message,
            severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=UNKNOWN_KEY,
            data={"key": cite.key, "suggestions": close}))
    return out


def duplicate_key_diagnostics(ls) -> dict[str, list[types.Diagnostic]]:
    """{bib file uri: warnings} for keys that several .bib files define."""
    by_key: dict[str, list] = {}
    for row in ls.session.library.rows():
        if row.source_kind == "bib":
            by_key.setdefault(row.key, []).append(row)
    out: dict[str, list[types.Diagnostic]] = {}
    for key, rows in by_key.items():
        files = {r.source for r in rows}
        if len(files) < 2:
            continue
        for r in rows:
            others = sorted(Path(f).name for f in files if f != r.source)
            out.setdefault(Path(r.source).as_uri(), []).append(types.Diagnostic(
                range=convert.line_range(r.source_line, r.source_line),
                message=f"key '{key}' is also defined in {', '.join(others)}; a draft gets the entry "
                        "of the .bib file it names",
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
