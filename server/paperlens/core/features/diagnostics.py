"""Diagnostics: citation keys the library does not have (with the closest keys as fixes), keys
that several .bib files define (saying which drafts get which entry), and, when enabled,
citations whose paper has nothing matching the sentence (``unsupported-citation``: see
:mod:`paperlens.core.evidence`)."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from paperlens.core import citations, evidence
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


# -- unsupported citations (issue 17): nothing in the cited paper matches the sentence ----------

UNSUPPORTED_CITATION = "unsupported-citation"
MAX_CHECKED = 300          # citations of one document checked (each reads its paper's passages)
MIN_CLAIM_WORDS = 4        # a sentence with fewer content words says too little to check
ALTERNATIVES = 3           # papers offered by "cite instead"
_checked: "OrderedDict[tuple, Optional[Unsupported]]" = OrderedDict()
_checked_lock = threading.Lock()
CHECKED_KEPT = 4000        # (paper, sentence) verdicts kept: a change rechecks only its sentence


@dataclass(frozen=True)
class Passage:
    """A passage shown with the hint: where it is and a short plain excerpt."""
    path: str
    line: int
    end_line: int
    page: Optional[int]
    text: str


@dataclass(frozen=True)
class Unsupported:
    """A citation whose paper has no passage matching its sentence well: ``score`` its best
    support, ``passages`` its best passages anyway, ``alternatives`` the keys of library
    papers that fit the sentence better (best first)."""
    key: str
    span: Span
    title: str
    score: float
    passages: tuple[Passage, ...] = ()
    alternatives: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return (f"Nothing in '{self.title or self.key}' matches this sentence well (support "
                f"{self.score:.2f}, below {evidence.THRESHOLD:.2f}): is this the paper that says it?")

    def data(self) -> dict:
        """What the editor keeps with the diagnostic and sends back for its code actions."""
        return {"key": self.key, "alternatives": list(self.alternatives),
                "passages": [{"path": p.path, "line": p.line, "page": p.page} for p in self.passages]}


def unsupported_citations(doc: Snapshot, view: LibraryView) -> list[Unsupported]:
    """The citations of ``doc`` (the first :data:`MAX_CHECKED`) whose library paper has text
    and no passage supporting the sentence around them above the calibrated threshold
    (:data:`paperlens.core.evidence.THRESHOLD`). The evidence is the hover's
    (:func:`hover.cited_evidence`: computed once, a hover on the citation then finds it); each
    (paper, sentence) is checked once per library state. Slow (it reads papers): for the
    background only."""
    from paperlens.core.features import hover

    stamp = hover.library_state(view)
    out: list[Unsupported] = []
    for found in hover.cited_evidence(doc, view, min_words=MIN_CLAIM_WORDS, limit=MAX_CHECKED):
        cite, row, claim = found.cite, found.row, found.claim
        memo = (stamp, row.id, row.source, claim)
        with _checked_lock:
            known = memo in _checked
            verdict = _checked.get(memo)
        if not known:
            verdict = _check(doc, cite, row, claim, found.support, view, hover)
            with _checked_lock:
                _checked[memo] = verdict
                while len(_checked) > CHECKED_KEPT:
                    _checked.popitem(last=False)
        if verdict is not None:
            out.append(Unsupported(cite.key, cite.span, verdict.title, verdict.score, verdict.passages,
                                   verdict.alternatives))
    return out


def _check(doc: Snapshot, cite, row, claim: str, support: evidence.Support, view: LibraryView,
           hover) -> Optional[Unsupported]:
    if not support.has_text or support.supported:
        return None
    shown = tuple(Passage(e.passage.path, e.passage.line_start, e.passage.line_end, e.passage.page,
                          " ".join(e.passage.text.split())[:160]) for e in support.evidence)
    return Unsupported(cite.key, cite.span, row.title, support.score, shown,
                       tuple(_alternatives(doc, cite, row, claim, support.score, view, hover)))


def _alternatives(doc: Snapshot, cite, row, claim: str, score: float, view: LibraryView, hover) -> list[str]:
    """Keys of library papers whose passages support ``claim`` better than ``row``'s (above
    the threshold), ranked as context-aware completion ranks them (core/recommend.py)."""
    from paperlens.core import recommend

    try:
        ctx = recommend.context(doc.text, cite.span.start, doc.language, doc.macros)
        ranked = recommend.rank(ctx, view.rows(), search=lambda q: view.search(q, limit=20, per_paper=1),
                                graph=view.graph(), use_titles=True)
    except Exception:
        log.exception("ranking papers for %s", cite.key)
        return []
    out: list[str] = []
    for suggestion in ranked[:10]:
        other = suggestion.row
        if other.key == row.key or other.id == row.id or other.key in out:
            continue
        try:
            better = hover.support(view, other, claim)
        except Exception:
            continue
        if better.supported and better.score > score:
            out.append(other.key)
        if len(out) >= ALTERNATIVES:
            break
    return out


@dataclass(frozen=True)
class CiteInstead:
    """A code action of an unsupported citation: replace its key with ``key``."""
    key: str

    @property
    def title(self) -> str:
        return f"Cite '{self.key}' instead (its text matches the sentence better)"


def cite_instead(data: Any) -> list[CiteInstead]:
    """The "cite instead" actions from an unsupported-citation diagnostic's ``data``."""
    keys = data.get("alternatives") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        return []
    return [CiteInstead(k) for k in keys if isinstance(k, str) and k][:ALTERNATIVES]


def shown_passages(data: Any) -> list[tuple[str, int, Optional[int]]]:
    """(path, line, page) of the passages an unsupported-citation diagnostic's ``data`` names."""
    items = data.get("passages") if isinstance(data, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("line"), int):
            page = item.get("page")
            out.append((item["path"], item["line"], page if isinstance(page, int) else None))
    return out[:evidence.SHOWN]
