"""Hover: on a citation key, the paper's card (with how the library cites it) and beneath it the
evidence: the passages of the paper that best match the sentence citing it (see
:mod:`paperlens.core.evidence`); on an unknown key, what it is not and what it may be; inside a
library paper, its numeric citations (see :mod:`.reading`), with the evidence of the library
papers they name."""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from paperlens.core import citations, evidence
from paperlens.core.cards import CITED_BY_SHOWN, citing_papers, graph_line, paper_card
from paperlens.core.features import reading
from paperlens.core.features.document import Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.lru import LRU
from paperlens.core.models import Span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hover:
    markdown: str
    span: Span


def card(view: LibraryView, row, summary: bool = True) -> str:
    """The card of a library paper: its record, summary (unless not ``summary``) or abstract,
    the line saying how the rest of the library cites it and the papers citing it (once the
    citation graph is built): the first few, however many there are (the count is the graph
    line's)."""
    graph = view.graph()
    paper_id = view.canonical(row).id if graph is not None else row.id
    total = len(graph.cited_by.get(paper_id, ())) if graph is not None else 0
    link = getattr(view, "item_link", None)
    return paper_card(view.paper(row), view.summary(row) if summary else None, graph_line(graph, paper_id),
                      citing_papers(graph, paper_id, view.row, limit=CITED_BY_SHOWN), total,
                      item_link=link(row) if link is not None else "")


EVIDENCE_PAPERS = 3          # papers a numeric citation's hover shows evidence for


def passages(view: LibraryView, row) -> Optional[list]:
    """The passages of a library paper's text (its full text's, for a bibliography entry), or
    None when the library has no text of it. Read as the card's summary reads them (the same
    cache: a hover reads a paper once)."""
    inputs = _text_of(view, row)
    return list(inputs[1]) if inputs else None


def _text_of(view: LibraryView, row) -> Optional[tuple]:
    """(text paper, passages, content hash) of ``row``, None without a text."""
    get = getattr(view, "passages", None)
    if get is not None:            # a view that hands out passages itself (tests, benches)
        found = get(row)
        return (None, found, None) if found else None
    try:
        read = getattr(view, "summary_inputs", None)
        if read is not None:
            return read(row)
        library = getattr(view, "library", None)
        return library.summary_inputs(row) if library is not None else None
    except Exception:            # a damaged index: no evidence, never a broken hover
        log.exception("passages of %s", getattr(row, "key", row))
        return None


# Support kept two ways: ("state", library state, paper, rarity, claim), found without reading
# the paper (a hover on a citation whose evidence the background computed, see :func:`prepare`),
# and ("text", the text's content hash, rarity, claim), which a change of another paper keeps
SUPPORTS_KEPT = 2000          # entries, two per (sentence, paper): a few drafts' citations (each holds 3 passages)
_supports: "LRU[tuple, evidence.Support]" = LRU(SUPPORTS_KEPT)


def support(view: LibraryView, row, claim: str) -> evidence.Support:
    """How well the library paper ``row`` supports ``claim`` (plain text). Kept for the
    library's state and for the paper's text (its content hash), with the rarity it was scored
    with: hovering the same citation again (as a reader does, moving over it), or one whose
    evidence :func:`prepare` computed in the background, reads and scores nothing, and a
    change of other papers scores nothing again."""
    return _kept_or_made(view, row, claim, _supports.get, _keep_support, lambda found, words: (
        evidence.support(claim, found, words) if found else evidence.Support(0.0, (), has_text=False)))


def _kept_or_made(view: LibraryView, row, claim: str, kept: Callable, keep: Callable,
                  make: Callable) -> Any:
    """What ``make(passages, rarity)`` gives for ``row`` and ``claim``, kept by ``keep`` and
    found by ``kept`` under two keys: the library's state (a hover again reads nothing) and the
    paper's text (its content hash: a change of another paper makes nothing again)."""
    words = rarity(view)
    state = library_state(view)
    quick = key = None
    if state is not None:
        quick = ("state", state, getattr(row, "id", None), getattr(row, "source", None), id(words), claim)
        held = kept(quick)
        if held is not None:
            return held
    inputs = _text_of(view, row)
    if state is not None:       # the text's content, not the library's state: a change of
        # another paper (a saved file, a Zotero edit) scores nothing again
        content = inputs[2] if inputs and inputs[2] else (state, getattr(row, "id", None))
        key = ("text", content, id(words), claim)
        held = kept(key)
        if held is not None:
            keep(quick, held)
            return held
    made = make(list(inputs[1]) if inputs else None, words)
    keep(key, made)
    keep(quick, made)
    return made


def _keep_support(key: Optional[tuple], made: evidence.Support) -> None:
    if key is not None:
        _supports.put(key, made)


def forget_evidence() -> None:
    """Forget the evidence kept (and the words read of passages): the next hover of each
    citation computes it again (for benches: a cold hover)."""
    _supports.clear()
    _scores.clear()
    _decisions.clear()
    evidence.clear_caches()


# -- the background check's rivals (issue 17; never on a hover) ---------------------------------
# The rivals' support is kept as a number only (no passages: ten rivals a citation would push a
# draft's hovered evidence out of ``_supports``), under the same two keys as a support; the
# decisions (the cited paper's support against its rivals) under keys of their own ("decision",
# ...): a decision's score is never taken for a support's, nor the other way round.
SCORES_KEPT = 6000            # (sentence, paper) scores, each under two keys: ~20 a checked citation (<1 MB)
_scores: "LRU[tuple, float]" = LRU(SCORES_KEPT)
DECISIONS_KEPT = 2000
_decisions: "LRU[tuple, Decided]" = LRU(DECISIONS_KEPT)


@dataclass(frozen=True)
class Rival:
    """A library paper matching a citation's sentence, and its support for it."""
    row: object
    score: float


@dataclass(frozen=True)
class Decided:
    """A citation's paper against its rivals: ``support`` the paper's, ``rivals`` the library's
    best matches for the sentence (the first :data:`evidence.RIVALS` other than the paper, as the
    search ranked them), ``context`` how well the library's other sentences citing the paper cover
    the sentence (:func:`cited_for`; None: none cites it, or no graph yet), ``score``
    :func:`evidence.decision` of the three: below :data:`evidence.DECISION_THRESHOLD`, the hint."""
    support: evidence.Support
    rivals: tuple[Rival, ...]
    score: float
    context: Optional[float] = None

    @property
    def best_rival(self) -> Optional[Rival]:
        return max(self.rivals, key=lambda r: r.score, default=None)

    @property
    def flagged(self) -> bool:
        return self.support.has_text and self.score < evidence.DECISION_THRESHOLD


def _kept_score(key: Optional[tuple]) -> Optional[float]:
    if key is None:
        return None
    held = _supports.get(key)
    if held is not None:
        return held.score
    return _scores.get(key)


def _keep_score(key: Optional[tuple], score: float) -> None:
    if key is not None:
        _scores.put(key, score)


def score(view: LibraryView, row, claim: str) -> float:
    """The support of the library paper ``row`` for ``claim`` (as :func:`support`'s score),
    kept as a number: a hover's evidence kept is used, none is added."""
    return _kept_or_made(view, row, claim, _kept_score, _keep_score, lambda found, words: (
        evidence.support(claim, found, words, limit=1).score if found else 0.0))


def rivals(view: LibraryView, row, claim: str, exclude: frozenset = frozenset(),
           stop: Optional[Callable[[], bool]] = None) -> Optional[tuple[Rival, ...]]:
    """The library papers a search for ``claim``'s stems finds (:data:`evidence.RIVAL_HITS`
    hits, one a paper), the first :data:`evidence.RIVALS` other than ``row`` and the papers
    ``exclude`` names (ids, or sources: the document citing), each with its support. None when
    ``stop`` said so (checked between papers)."""
    query = evidence.rival_query(claim)
    if not query:
        return ()
    try:
        hits = view.search(query, limit=evidence.RIVAL_HITS, per_paper=1)
    except Exception:            # a damaged index: no rivals (the support alone decides)
        log.exception("searching the rivals of %s", getattr(row, "key", row))
        return ()
    own = {getattr(row, "id", None)}
    try:
        own.add(view.canonical(row).id)
    except Exception:
        pass
    out: list[Rival] = []
    seen: set = set()
    for h in hits:
        if len(out) >= evidence.RIVALS:
            break
        if stop is not None and stop():
            return None
        try:
            other = view.row(h.paper_id)
            other = view.canonical(other) if other is not None else None
        except Exception:
            other = None
        if other is None or other.id in own or other.id in seen or other.id in exclude \
                or getattr(other, "source", None) in exclude:
            continue
        seen.add(other.id)
        try:
            out.append(Rival(other, score(view, other, claim)))
        except Exception:        # a damaged paper: not a rival
            log.exception("the support of %s", getattr(other, "key", other))
    return tuple(out)


class Stopped(Exception):
    """A check stopped by its caller (``stop()`` said so) before it was done."""


CONTEXTS_KEPT = 2000       # papers whose citation contexts are kept (a few sentences each)
_contexts: "LRU[tuple, tuple[str, ...]]" = LRU(CONTEXTS_KEPT)


def citation_contexts(view: LibraryView, row, exclude: frozenset = frozenset(),
                      stop: Optional[Callable[[], bool]] = None) -> Optional[tuple[str, ...]]:
    """The sentences of the library's other papers citing ``row`` (its citation graph's links:
    the first :data:`evidence.CONTEXT_CITERS` citing papers, by id, other than those
    ``exclude`` names by id or source, each read for up to
    :data:`evidence.CONTEXT_SENTENCES` sentences, :func:`evidence.citing_sentences`); kept per
    library state. None while the graph is being built (or when ``stop`` said so); () when
    no other paper cites it."""
    try:
        graph = view.graph()
        if graph is None:
            return None
        paper = view.canonical(row).id
    except Exception:
        log.exception("the citation graph for %s", getattr(row, "key", row))
        return None
    key = (library_state(view), paper, exclude)
    held = _contexts.get(key)
    if held is not None:
        return held
    surname = (getattr(row, "surnames", None) or [""])[0]
    year = getattr(row, "year", "") or ""
    out: list[str] = []
    citers = 0
    for other_id in sorted(graph.cited_by.get(paper, ())):
        if citers >= evidence.CONTEXT_CITERS:
            break
        if stop is not None and stop():
            return None
        label = graph.cites.get(other_id, {}).get(paper)
        try:
            other = view.row(other_id)
            if other is None or label is None or other_id in exclude or getattr(other, "source", None) in exclude:
                continue
            found = passages(view, other)
        except Exception:        # a damaged paper: no contexts from it
            log.exception("the citations of %s in %s", getattr(row, "key", row), other_id)
            continue
        if not found:
            continue
        citers += 1
        out.extend(s for s, _ in evidence.citing_sentences(found, label, surname, year))
    made = tuple(out)
    if key[0] is not None:
        _contexts.put(key, made)
    return made


def cited_for(view: LibraryView, row, claim: str, exclude: frozenset = frozenset(),
              stop: Optional[Callable[[], bool]] = None) -> Optional[float]:
    """How well the library's other sentences citing ``row`` cover ``claim``
    (:func:`evidence.context_support` of :func:`citation_contexts`): None when none cites it
    or the graph is not built yet. Stopped (``stop``): raises :class:`Stopped`."""
    found = citation_contexts(view, row, exclude, stop)
    if found is None and stop is not None and stop():
        raise Stopped()
    return evidence.context_support(claim, found, rarity(view)) if found else None


def decide(view: LibraryView, row, claim: str, found: Optional[evidence.Support] = None,
           exclude: frozenset = frozenset(), stop: Optional[Callable[[], bool]] = None) -> Optional[Decided]:
    """The paper ``row``'s support for ``claim`` against its :func:`rivals` (kept per library
    state). None when ``stop`` said so. Slow (a search and ten papers scored): for the
    background only, never a hover."""
    words = rarity(view)
    state = library_state(view)
    key = (("decision", state, getattr(row, "id", None), getattr(row, "source", None), id(words), claim, exclude)
           if state is not None else None)
    if key is not None:
        held = _decisions.get(key)
        if held is not None:
            return held
    found = found if found is not None else support(view, row, claim)
    others = rivals(view, row, claim, exclude, stop) if found.has_text else ()
    if others is None:
        return None
    try:
        context = cited_for(view, row, claim, exclude, stop) if found.has_text else None
    except Stopped:
        return None
    best = max((r.score for r in others), default=0.0)
    made = Decided(found, others, evidence.decision(found.score, best, context), context)
    if key is not None:
        _decisions.put(key, made)
    return made


@dataclass(frozen=True)
class CitedEvidence:
    """The evidence of one citation of a document: its key's library paper ``row``, the
    sentence around it (``claim``) and how well the paper supports it."""
    cite: object
    row: object
    claim: str
    support: evidence.Support


MAX_PREPARED = 300            # citations of one document whose evidence is computed ahead


def cited_evidence(doc: Snapshot, view: LibraryView, min_words: int = 1,
                   limit: int = MAX_PREPARED) -> Iterator[CitedEvidence]:
    """The evidence of each citation of ``doc`` (the first ``limit``) whose key names a
    library paper and whose sentence has ``min_words`` content words or more, computed (or
    found kept) as a hover on it would: with the library's sampled rarity of words (waited
    for). Slow (it reads the cited papers): for a background thread only."""
    if doc.language is None or not view.ready():
        return
    rarity(view, wait=True)
    for cite in citations.find_citations(doc.text, doc.language, doc.macros)[:limit]:
        row = view.resolve(cite.key, doc.bib_files)
        if row is None:
            continue
        claim = evidence.claim_at(doc.text, cite.span.start, doc.language, doc.macros)
        if len(set(evidence.stems(claim))) < max(min_words, 1):
            continue
        try:
            found = support(view, row, claim)
        except Exception:            # a damaged index: that citation has no evidence
            log.exception("evidence for %s", cite.key)
            continue
        yield CitedEvidence(cite, row, claim, found)


def prepare(doc: Snapshot, view: LibraryView, limit: int = MAX_PREPARED,
            stop: Optional[Callable[[], bool]] = None) -> bool:
    """Compute the evidence of the citations of ``doc`` ahead of the hovers on them (the
    server calls it on a background thread after a document is opened or changed, debounced):
    a hover then finds it kept, and the cited paper's record read for its card (in the view's
    cache of papers, as its text is). False when ``stop`` said so before the last citation
    (checked between citations)."""
    carded = set()
    for found in cited_evidence(doc, view, limit=limit):
        if found.row.id not in carded:
            carded.add(found.row.id)
            try:
                view.paper(found.row)
            except Exception:        # the hover will say what is wrong
                log.exception("the card of %s", found.cite.key)
        if stop is not None and stop():
            return False
    return True


_rarity: dict = {}            # (library id, its stamps) -> Rarity, or a _Reading while being read
_sampled: list = []           # [(library id, papers, Rarity)]: the last rarity read from texts
_rarity_lock = threading.Lock()
RARITY_DRIFT = 0.1            # share of papers added or removed that makes the rarity read again
RARITY_WAIT = 300.0           # seconds a caller that waits for the rarity waits for another's reading


class _Reading:
    """The rarity of a library state being read (by one thread: the others wait for ``done``)."""

    def __init__(self) -> None:
        self.done = threading.Event()


def library_state(view: LibraryView):
    """What the library is now (its identity and each index's stamp), for keeping what is
    computed from it: the word rarity, evidence, the unsupported-citation checks, completion's
    background searches. None for a view without a library."""
    library = getattr(view, "library", None)
    if library is None:
        return None
    return (id(library),) + tuple((str(getattr(s, "index_dir", "")), getattr(s, "stamp", None))
                                  for s in getattr(library, "stores", ()))


def rarity(view: LibraryView, wait: bool = False) -> evidence.Rarity:
    """How rare words are in the library: over the full texts of a sample of its papers
    (:func:`evidence.sample_ids`), read once on a background thread (or now with ``wait``,
    or waited for when another thread reads it); until then over its titles
    (:func:`evidence.title_rarity`). The sampled rarity separates right citations from wrong
    ones better (dev AUROC 0.87 against 0.84). A change of a few papers does not change how
    rare words are: the rarity read is kept until about a tenth of the library was added or
    removed (reading it again after each change kept the 10k server busy ~14 s after every
    saved file)."""
    state = library_state(view)
    if state is None:
        return evidence.title_rarity(view.rows())
    reading = None
    with _rarity_lock:
        held = _rarity.get(state)
        if held is None:
            kept = _kept(state[0], len(view.rows()))
            _rarity.clear()               # one library state at a time
            if kept is not None:
                _rarity[state] = kept
                return kept
            held = reading = _rarity[state] = _Reading()
    if isinstance(held, evidence.Rarity):
        return held
    if reading is not None:
        if wait:
            _read_rarity(view, state, reading)
        else:
            threading.Thread(target=_read_rarity, args=(view, state, reading, True), name="paperlens-rarity",
                             daemon=True).start()
    elif wait:
        held.done.wait(RARITY_WAIT)
    with _rarity_lock:
        made = _rarity.get(state)
    return made if isinstance(made, evidence.Rarity) else evidence.title_rarity(view.rows())


def _kept(library: int, papers: int) -> Optional[evidence.Rarity]:
    """The rarity last read from the texts of the same library, if it has about as many
    papers now (``_rarity_lock`` held)."""
    if not _sampled:
        return None
    lib, then, made = _sampled[0]
    if lib != library or abs(papers - then) > max(1, then) * RARITY_DRIFT:
        return None
    return made


def read_rarity(view: LibraryView) -> tuple[evidence.Rarity, bool]:
    """(the rarity of words over the full texts of a sample of the library's papers, read now
    and kept nowhere; whether any text was read: else it is the titles'). The papers are read
    one at a time, around the cache of cards (200 papers would evict the cards and stay)."""
    rows = [r for r in view.rows() if not r.alias_of and (r.fulltext or not r.is_entry)]
    library = getattr(view, "library", None)
    read = getattr(library, "summary_inputs", None) if getattr(view, "passages", None) is None else None
    texts_read = [0]

    def texts():
        for i in evidence.sample_ids([r.id for r in rows]):
            row = view.row(i)
            if row is None:
                continue
            if read is not None:
                inputs = read(row)
                found = inputs[1] if inputs else None
            else:
                found = passages(view, row)
            if found:
                texts_read[0] += 1
                yield " ".join(p.text for p in found)

    made = evidence.Rarity.of_texts(texts())
    if not texts_read[0]:
        return evidence.title_rarity(view.rows(), wait=True), False
    return made, True


def _read_rarity(view: LibraryView, state, reading: _Reading, background: bool = False) -> None:
    if background:              # never ahead of a request on the loop's thread
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
    made, sampled = None, False
    try:
        made, sampled = read_rarity(view)
    except Exception:
        log.exception("reading the rarity of words in the library")
    try:
        if made is None:
            made = evidence.title_rarity(view.rows(), wait=True)
        with _rarity_lock:
            if _rarity.get(state) is reading:   # still the library as it is (not a read overtaken by a change)
                _rarity[state] = made
                if sampled:
                    _sampled[:] = [(state[0], len(view.rows()), made)]
    finally:
        reading.done.set()      # after it is kept: a waiter reads it from _rarity


def evidence_section(view: LibraryView, row, claim: str, title: bool = False) -> str:
    """The markdown shown beneath a card: the passages of ``row`` that best match ``claim``
    (each its page/line linked, the matched words in bold); when the library has no text of
    the paper, a line saying so. Empty when the sentence has no content word."""
    if not evidence.stems(claim):
        return ""
    try:
        found = support(view, row, claim)
    except Exception:                   # never a broken hover for the evidence's sake
        log.exception("evidence for %s", getattr(row, "key", row))
        return ""
    return evidence.markdown(found, row.title if title else None)


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def unknown_key(key: str, view: LibraryView) -> str:
    """The hover of a key the library does not have."""
    value = f"Unknown citation key {_code(key)}: not in the library."
    close = view.closest_keys(key)
    if close:
        value += " Did you mean " + ", ".join(_code(k) for k in close) + "?"
    if view.indexing():
        value += " (indexing is still running)"
    return value


def hover(doc: Snapshot, offset: int, view: LibraryView) -> Optional[Hover]:
    cite = doc.citation_at(offset)
    if cite is None:
        return _numeric(doc, offset, view)
    row = view.resolve(cite.key, doc.bib_files)
    if row is None:
        return Hover(unknown_key(cite.key, view), cite.span)
    value = card(view, row)
    more = evidence_section(view, row, evidence.claim_at(doc.text, offset, doc.language, doc.macros))
    return Hover(value + ("\n\n---\n\n" + more if more else ""), cite.span)


def _numeric(doc: Snapshot, offset: int, view: LibraryView) -> Optional[Hover]:
    """A numeric citation inside a library paper (:func:`reading.hover`), with the evidence of
    each library paper it names (the first :data:`EVIDENCE_PAPERS`)."""
    found = reading.hover(doc, offset, view)
    if found is None:
        return None
    try:
        row = reading.paper_of(doc, view)
        from paperlens.core.references import numeric_citation_at

        refs = view.references_of(row) if row is not None else []
        cite = numeric_citation_at(doc.text, offset, max_label=len(refs)) if refs else None
        if cite is None:
            return found
        by_label = {r.label: r for r in refs}
        targets = []
        for label in cite.labels:
            target = view.match_reference(by_label[label], citing=row) if label in by_label else None
            if target is not None and target.id not in {t.id for t in targets}:
                targets.append(target)
        claim = evidence.plain_sentence_at(doc.text, offset)
        carded = len(targets) == 1 and len(cite.labels) == 1     # reading.hover shows its card
        sections = []
        for t in targets[:EVIDENCE_PAPERS]:
            if passages(view, t):      # a paper without text: its entry is all there is to show
                sections.append(evidence_section(view, t, claim, title=not carded))
    except Exception:
        log.exception("evidence of a numeric citation")
        return found
    sections = [s for s in sections if s]
    if not sections:
        return found
    return Hover(found.markdown + "\n\n" + "\n\n".join(sections), found.span)
