"""Diagnostics: citation keys the library does not have (with the closest keys as fixes), and keys
that several .bib files define (saying which drafts get which entry)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from paperlens.core import citations
from paperlens.core.features.document import Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.models import Span

log = logging.getLogger(__name__)

# unknown-key warnings per document: each is looked up in the library and sent to the editor
# (a 15 MB draft citing 20k keys of another library would cost seconds at every change)
MAX_UNKNOWN_KEYS = 1000
UNKNOWN_KEY = "unknown-key"
DUPLICATE_KEY = "duplicate-key"


@dataclass(frozen=True)
class UnknownKey:
    key: str
    span: Span
    suggestions: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        message = f"'{self.key}' is not in the library"
        if self.suggestions:
            message += "; did you mean " + ", ".join(f"'{k}'" for k in self.suggestions) + "?"
        return message


def unknown_keys(doc: Snapshot, view: LibraryView,
                 scan: Optional[citations.CitationScan] = None) -> list[UnknownKey]:
    """The citation keys of ``doc`` the library does not have, the first
    :data:`MAX_UNKNOWN_KEYS` in the document; none before the library is known.  ``scan``:
    the document's keys as last scanned (updated here: only what changed is read again)."""
    if doc.language is None or not view.ready():
        return []
    keys = view.keys()
    if scan is None or scan.language != doc.language:
        scan = citations.CitationScan(doc.language)
    out: list[UnknownKey] = []
    for cite in scan.update(doc.text, doc.macros):
        if cite.key in keys:
            continue
        if len(out) >= MAX_UNKNOWN_KEYS:    # a draft whose library is elsewhere: the first ones
            break
        out.append(UnknownKey(cite.key, cite.span, view.closest_keys(cite.key)))
    return out


@dataclass(frozen=True)
class Fix:
    """A quick fix of an unknown key: replace it with ``key``."""
    key: str
    preferred: bool

    @property
    def title(self) -> str:
        return f"Replace with '{self.key}'"


def fixes(data: Any) -> list[Fix]:
    """The fixes of an unknown-key diagnostic from its ``data`` ({"key", "suggestions"}, as the
    editor sends it back: anything else gives none)."""
    suggestions = data.get("suggestions") if isinstance(data, dict) else None
    if not isinstance(suggestions, list):
        return []
    keys = [k for k in suggestions if isinstance(k, str)]
    return [Fix(key, n == 0) for n, key in enumerate(keys)]


@dataclass(frozen=True)
class DuplicateKey:
    path: str          # the .bib file
    line: int          # of its entry
    key: str
    message: str


def _users(files: set[str], bibliographies: dict[str, list[str]]) -> dict[str, list[str]]:
    """{.bib file: names of the documents that get their entry from it} among ``files``
    (the files defining one key): a document gets the entry of the first of them it names."""
    users: dict[str, list[str]] = {}
    for document, bibs in bibliographies.items():
        winner = next((b for b in bibs if b in files), None)
        if winner is not None:
            users.setdefault(winner, []).append(Path(document).name)
    return users


def _bibliographies(view: LibraryView) -> dict[str, list[str]]:
    try:
        return {doc: [str(Path(b).resolve()) for b in bibs] for doc, bibs in view.bibliographies().items()}
    except Exception:
        log.exception("could not read the drafts' bibliographies")
        return {}


def duplicate_keys(view: LibraryView) -> dict[str, list[DuplicateKey]]:
    """{.bib file: warnings} for keys that several .bib files define, saying which drafts get
    which entry (a LaTeX chapter gets the entry its root document's bibliography names)."""
    by_key: dict[str, list] = {}
    for row in view.rows():
        if row.source_kind == "bib":
            by_key.setdefault(row.key, []).append(row)
    out: dict[str, list[DuplicateKey]] = {}
    bibliographies: Optional[dict[str, list[str]]] = None
    for key, rows in by_key.items():
        if len(rows) < 2:                # most keys: no set to build (10k keys at start)
            continue
        files = {r.source for r in rows}
        if len(files) < 2:
            continue
        if bibliographies is None:       # only read the drafts when some key is defined twice
            bibliographies = _bibliographies(view)
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
            out.setdefault(r.source, []).append(DuplicateKey(
                r.source, r.source_line, key, f"key '{key}' is also defined in {', '.join(others)}; {tail}"))
    return out
