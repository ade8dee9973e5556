"""Diagnostics: citation keys the library does not have (with the closest keys as fixes), keys
that several .bib files define (saying which drafts get which entry), and, when enabled,
citations whose paper matches the sentence poorly, alone or against the library papers that
match it best (``unsupported-citation``: see :mod:`paperlens.core.evidence`)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from paperlens.core import citations, evidence
from paperlens.core.features.document import Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.lru import LRU
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
CHECKED_KEPT = 4000        # (paper, sentence) verdicts kept: a change rechecks only its sentence
# (None: checked, not flagged); the least recently used let go (a document's verdicts in use stay)
_checked: "LRU[tuple, Optional[Unsupported]]" = LRU(CHECKED_KEPT)
_UNCHECKED = object()


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
    """A citation whose paper matches its sentence poorly, or poorly against the library's
    papers matching it best (:func:`paperlens.core.features.hover.decide`): ``score`` its
    support, ``passages`` its best passages anyway, ``alternatives`` the keys of library papers
    that fit the sentence better (best first), ``rival``/``rival_score`` the title and support
    of the best of them, ``context`` how well the library's other sentences citing the paper
    cover this one (:func:`hover.cited_for`; None: none cites it)."""
    key: str
    span: Span
    title: str
    score: float
    passages: tuple[Passage, ...] = ()
    alternatives: tuple[str, ...] = ()
    rival: str = ""
    rival_score: float = 0.0
    context: Optional[float] = None

    @property
    def message(self) -> str:
        name = self.title or self.key
        if self.score < evidence.THRESHOLD:
            message = (f"Nothing in '{name}' matches this sentence well (support "
                       f"{self.score:.2f}, below {evidence.THRESHOLD:.2f})")
        elif self.rival and self.rival_score > self.score:
            message = (f"'{self.rival}' matches this sentence much better than '{name}' (support "
                       f"{self.rival_score:.2f} against {self.score:.2f})")
        elif self.context is not None:
            message = (f"'{name}' matches this sentence weakly (support {self.score:.2f}) and the library's "
                       "papers citing it cite it for other things")
        else:
            message = f"'{name}' matches this sentence weakly (support {self.score:.2f})"
        return message + ": is this the paper that says it?"

    def data(self) -> dict:
        """What the editor keeps with the diagnostic and sends back for its code actions."""
        return {"key": self.key, "alternatives": list(self.alternatives),
                "passages": [{"path": p.path, "line": p.line, "page": p.page} for p in self.passages]}


def unsupported_citations(doc: Snapshot, view: LibraryView,
                          stop: Optional[Callable[[], bool]] = None) -> Optional[list[Unsupported]]:
    """The citations of ``doc`` (the first :data:`MAX_CHECKED`) whose library paper has text
    and supports the sentence around them poorly, alone or against the library's papers that
    match it best (:func:`hover.decide`, the rivals' search and scores: ~150 ms a citation).
    The evidence is the hover's (:func:`hover.cited_evidence`: computed once, a hover on the
    citation then finds it); each (paper, sentence) is checked once per library state. None
    when ``stop`` said so (checked between citations and between the rivals scored). Slow (it
    reads papers): for the background only."""
    from paperlens.core.features import hover

    stamp = hover.library_state(view)
    out: list[Unsupported] = []
    own = frozenset({str(doc.path)}) if doc.path is not None else frozenset()   # a draft in the library
    for found in hover.cited_evidence(doc, view, min_words=MIN_CLAIM_WORDS, limit=MAX_CHECKED):
        if stop is not None and stop():
            return None
        cite, row, claim = found.cite, found.row, found.claim
        memo = (stamp, row.id, row.source, claim, own)
        verdict = _checked.get(memo, _UNCHECKED)
        if verdict is _UNCHECKED:
            try:
                verdict = _check(cite, row, claim, found.support, view, hover, own, stop)
            except hover.Stopped:
                return None
            _checked.put(memo, verdict)
        if verdict is not None:
            out.append(Unsupported(cite.key, cite.span, verdict.title, verdict.score, verdict.passages,
                                   verdict.alternatives, verdict.rival, verdict.rival_score, verdict.context))
    return out


def _check(cite, row, claim: str, support: evidence.Support, view: LibraryView, hover, own: frozenset,
           stop: Optional[Callable[[], bool]]) -> Optional[Unsupported]:
    if not support.has_text:
        return None
    decided = hover.decide(view, row, claim, support, exclude=own, stop=stop)
    if decided is None:
        raise hover.Stopped()
    if not decided.flagged:
        return None
    shown = tuple(Passage(e.passage.path, e.passage.line_start, e.passage.line_end, e.passage.page,
                          " ".join(e.passage.text.split())[:160]) for e in support.evidence)
    best = decided.best_rival
    return Unsupported(cite.key, cite.span, row.title, support.score, shown,
                       _alternatives(row, support.score, decided.rivals),
                       (best.row.title or best.row.key) if best is not None else "",
                       best.score if best is not None else 0.0, decided.context)


def _alternatives(row, score: float, rivals) -> tuple[str, ...]:
    """Keys of the rivals (library papers matching the sentence, see :func:`hover.rivals`) whose
    passages support it better than ``row``'s and above the threshold, best first."""
    out: list[str] = []
    for rival in sorted(rivals, key=lambda r: -r.score):
        other = rival.row
        if not rival.score > score or rival.score < evidence.THRESHOLD:
            break
        key = getattr(other, "key", "")
        if key and key != row.key and key not in out:
            out.append(key)
        if len(out) >= ALTERNATIVES:
            break
    return tuple(out)


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
