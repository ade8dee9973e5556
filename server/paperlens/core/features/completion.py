"""Completion of citation keys after ``\\cite{``, ``[@``, ``@``, ``[cite:@`` and after ``,`` or ``;``
in a citation, and after the user's own LaTeX citation commands (``\\longcite{`` defined in the
project's preamble); resolving an item adds the paper's card.

With nothing or little typed (:data:`SHORT_PREFIX` characters at most) the keys are ranked by what
is being written around the cursor (core/recommend.py: the sentence and paragraph against titles,
abstracts and passages; co-citation with the keys cited nearby; recency in the document), and
each ranked item says why (``why``); a longer prefix filters and orders as the key index does."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from paperlens.core import citations, embed, recommend
from paperlens.core.features.document import Snapshot
from paperlens.core.features.hover import card, library_state
from paperlens.core.features.view import LibraryView
from paperlens.core.lru import LRU
from paperlens.core.models import Span

log = logging.getLogger(__name__)

TRIGGER_CHARACTERS = ["{", "@", ",", ";", "<"]
SPARE_ROWS = 10          # asked beyond the limit, so that keys defined twice still fill it
SHORT_PREFIX = 3         # up to this many characters typed, the context ranks the keys
FILTERED_ROWS = 300      # with a short prefix: the matching rows the context reorders


@dataclass(frozen=True)
class Item:
    """One key offered: ``span`` is the partial key it replaces, ``filter_text`` the words a
    user may type to find the paper, ``data`` what :func:`resolve` needs."""
    key: str
    detail: str
    sort_text: str
    filter_text: str
    span: Span
    data: dict = field(default_factory=dict)
    why: str = ""               # what made the context rank it here ("" when it did not)
    passage: str = ""           # the passage of the paper that matched the context
    page: Optional[int] = None


@dataclass(frozen=True)
class Completions:
    items: list[Item]
    incomplete: bool            # more papers match than are offered: ask again as the user types


def detail(row) -> str:
    """"Vaswani et al. · 2017 · Attention Is All You Need"."""
    who = row.surnames[0] + (" et al." if len(row.surnames) > 1 else "") if row.surnames else ""
    return " · ".join(x for x in (who, row.year, row.title) if x)


def _one_row_per_key(rows: list, total: int, doc: Snapshot) -> tuple[list, int]:
    """A key that several .bib files define is offered once: with the entry of the first
    .bib file the document (its LaTeX project) names, else the first ranked."""
    seen: dict[str, int] = {}
    for n, row in enumerate(rows):
        seen.setdefault(row.key, n)
    if len(seen) == len(rows):
        return rows, total
    order = {str(Path(b).resolve()): n for n, b in enumerate(doc.bib_files)}
    best: dict[str, Any] = {}
    for row in rows:
        held = best.get(row.key)
        if held is None or order.get(row.source, len(order)) < order.get(held.source, len(order)):
            best[row.key] = row
    kept = [best[key] for key in sorted(seen, key=seen.get)]
    return kept, total - (len(rows) - len(kept))


def complete(doc: Snapshot, offset: int, view: LibraryView, limit: int,
             by_context: bool = True, embeddings: bool = False) -> Optional[Completions]:
    """The keys to offer at ``offset`` (at most ``limit``), or None when no key is being typed.
    ``by_context``: rank by the text around the cursor when little is typed (the default);
    ``embeddings``: with the titles' word embeddings too, when the optional model is installed
    (the server passes the setting ``paperlens.completion.embeddings``; the model and the
    titles' vectors are made in the background: the completions before rank without them)."""
    if doc.language is None:
        return None
    cc = citations.completion_context(doc.text, offset, doc.language, doc.macros)
    if cc is None:
        return None
    if by_context and len(cc.prefix.strip()) <= SHORT_PREFIX:
        try:
            return _by_context(doc, offset, view, limit, cc, embeddings)
        except Exception:         # never lose completion to the ranking: the key index's order
            log.exception("ranking the keys by the context failed; offering them unranked")
    rows, total = view.complete(cc.prefix, limit + SPARE_ROWS)
    rows, total = _one_row_per_key(rows, total, doc)
    rows = rows[:limit]
    return Completions([_item(row, rank, cc) for rank, row in enumerate(rows)], incomplete=total > limit)


def _item(row, rank: int, cc, suggestion: Optional[recommend.Suggestion] = None) -> Item:
    why = suggestion.reason() if suggestion is not None else ""
    data = {"id": row.id, "source": row.source}
    if why:
        data["why"] = why
    if suggestion is not None and suggestion.passage:
        data["passage"] = _passage(suggestion.passage)
        if suggestion.page:
            data["page"] = suggestion.page
    return Item(key=row.key, detail=detail(row), sort_text=f"{rank:04d}",
                filter_text=" ".join([row.key, *row.surnames, row.year, row.title]) if cc.prefix else row.key,
                span=cc.span, data=data, why=why,
                passage=suggestion.passage if suggestion is not None else "",
                page=suggestion.page if suggestion is not None else None)


def _passage(text: str, cap: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= cap else text[:cap].rsplit(" ", 1)[0] + "…"


class _Searches:
    """The passage searches completion ranks by, run on one background thread: a completion
    never waits for the full-text search (its first query at 10k papers reads each new word's
    postings: seconds; then ~10 ms, more than completion's budget). A completion uses the
    hits already found for its sentence, else ranks without them and asks for them once it has
    answered (the search's thread then does not compete with the ranking for the interpreter),
    so the next completion there (the next keystroke) has them. Kept per library state, the
    last 64."""

    KEPT = 64

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._done: LRU[tuple, list] = LRU(self.KEPT)      # let go in the order found
        self._pending: set = set()
        self._executor = None

    def found(self, view: LibraryView, query: str) -> Optional[list]:
        """The hits found for ``query`` in the library as it is now; None when not searched yet."""
        return self._done.peek((library_state(view), query))

    def ask(self, view: LibraryView, query: str) -> None:
        """Search ``query`` on the background thread, unless it is found or asked for already."""
        key = (library_state(view), query)
        with self._lock:
            if key in self._done or key in self._pending:
                return
            self._pending.add(key)
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(1, thread_name_prefix="paperlens-cite-search")
            executor = self._executor
        executor.submit(self._run, view, query, key)

    def get(self, view: LibraryView, query: str) -> list:
        """The hits found for ``query``, else [] (and the search is asked for)."""
        hits = self.found(view, query)
        if hits is None:
            self.ask(view, query)
            return []
        return hits

    def _run(self, view: LibraryView, query: str, key) -> None:
        try:
            hits = view.search(query, recommend.SEARCH_LIMIT, per_paper=1)
        except Exception:          # a damaged index: ranked without passages
            log.exception("searching the sentence being written")
            hits = []
        with self._lock:
            self._pending.discard(key)
            self._done.put(key, hits)


_searches = _Searches()


class _Kept:
    """What completion keeps per library state between requests: the library's rows (a list of
    10k+ rows is not rebuilt at each keystroke) and the last rankings, by the text around the
    citation without the key being typed in it (the editor asks again at each character typed
    in a citation: the sentence, and so the ranking, is the same)."""

    RANKINGS = 8

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._rows: Optional[tuple] = None          # (library state, rows)
        self._rankings: LRU[Any, tuple] = LRU(self.RANKINGS)   # place -> (context, {keep: (ranked, final)})
        self._own: dict = {}                        # (library state, path) -> its row or None

    def rows(self, view: LibraryView) -> list:
        state = library_state(view)
        if state is None:
            return view.rows()
        with self._lock:
            held = self._rows
        if held is not None and held[0] == state:
            return held[1]
        rows = view.rows()
        with self._lock:
            self._rows = (state, rows)
        return rows

    def own(self, view: LibraryView, doc: Snapshot):
        """The library's row of the document's own file (a draft in a paper folder), or None."""
        if doc.path is None:
            return None
        state = library_state(view)
        key = (state, str(doc.path))
        with self._lock:
            if state is not None and key in self._own:
                return self._own[key]
        row = view.row_for_file(str(doc.path))
        if state is not None:
            with self._lock:
                if len(self._own) > 64:
                    self._own.clear()
                self._own[key] = row
        return row

    def ranking(self, key) -> Optional[tuple]:
        return self._rankings.peek(key)          # (kept again when ranked again, not when read)

    def keep(self, key, value: tuple) -> None:
        self._rankings.put(key, value)

    def clear(self) -> None:
        """Forget the rankings (the rows are kept by library state)."""
        self._rankings.clear()


_kept = _Kept()


def suggestions(doc: Snapshot, offset: int, view: LibraryView, ctx: Optional[recommend.Context] = None,
                keep: int = recommend.KEEP, wait: bool = False,
                embeddings: bool = False) -> list[recommend.Suggestion]:
    """The library papers that fit the text around ``offset``, best first (see core/recommend.py).
    Without ``wait``, a large library's titles are indexed on a background thread the first time
    (meanwhile its papers are ranked without them), and the passages matching the sentence are
    searched on another (:class:`_Searches`: used from the next request on); a smaller
    library's are indexed and searched during the request. The titles' word embeddings
    (``embeddings``, when installed) are always made on a background thread (core/embed.py)."""
    return _suggest(doc, offset, view, ctx, keep, wait, view.graph(), embeddings)[0]


def _suggest(doc: Snapshot, offset: int, view: LibraryView, ctx: Optional[recommend.Context], keep: int,
             wait: bool, graph, embeddings: bool = False) -> tuple[list[recommend.Suggestion], bool]:
    """:func:`suggestions`, and whether they are final (False: ranked while the titles' index,
    the sentence's passages or the titles' word embeddings were not there yet)."""
    ctx = ctx or recommend.context(doc.text, offset, doc.language, doc.macros)
    rows = _kept.rows(view)
    own = _kept.own(view, doc)         # a draft in a paper folder: not its own match
    missing: list[str] = []
    if wait or len(rows) < recommend.WAIT_BELOW:     # a small library's search is quick
        def search(q):
            return view.search(q, recommend.SEARCH_LIMIT, per_paper=1)
    else:
        def search(q):
            hits = _searches.found(view, q)
            if hits is None:
                missing.append(q)      # (None: recommend does not keep it as the answer)
            return hits
    titled = recommend.title_index(rows, wait=wait) is not None
    embedding = embeddings and embed.available()
    vectors = embed.title_vectors(rows, wait=wait) if embedding else None
    ranked = recommend.rank(ctx, rows, search=search,
                            graph=graph, skip=[own.id] if own is not None else [], keep=keep,
                            wait=wait, vectors=vectors)
    for q in missing:         # asked once the ranking is done (see _Searches)
        _searches.ask(view, q)
    return ranked, titled and not missing and (vectors is not None or not embed.available() or not embedding)


def _by_context(doc: Snapshot, offset: int, view: LibraryView, limit: int, cc,
                embeddings: bool = False) -> Completions:
    """The keys matching the (short) prefix, those that fit the context first."""
    # with a prefix, the papers it matches are asked for among more of the ranked ones
    keep = limit + SPARE_ROWS if not cc.prefix.strip() else max(recommend.KEEP, limit + SPARE_ROWS)
    graph = view.graph()
    key = _place(doc, cc, view, graph, embeddings)
    held = _kept.ranking(key) if key is not None else None        # (context, {keep: (ranked, final)})
    ctx = held[0] if held is not None else None
    done = held[1].get(keep) if held is not None else None
    if done is not None and done[1]:
        ranked = done[0]
    else:
        ctx = ctx or recommend.context(doc.text, offset, doc.language, doc.macros)
        ranked, final = _suggest(doc, offset, view, ctx, keep, False, graph, embeddings)
        if key is not None:
            _kept.keep(key, (ctx, {**(held[1] if held is not None else {}), keep: (ranked, final)}))
    if cc.prefix.strip():
        rows, total = _one_row_per_key(*view.complete(cc.prefix, FILTERED_ROWS), doc)
        allowed = {(r.key, r.source) for r in rows}
        ranked = [s for s in ranked if (s.row.key, s.row.source) in allowed]
    else:
        rows, total = _one_row_per_key(*view.complete(cc.prefix, limit + SPARE_ROWS), doc)
        total = max(total, len({s.row.key for s in ranked}))
    chosen = {id(s.row): s for s in ranked}
    order = [s.row for s in ranked] + [r for r in rows if id(r) not in chosen]
    if ctx.excluded:         # keys of the citation being written: last (a key may be cited twice)
        order = [r for r in order if r.key not in ctx.excluded] + [r for r in order if r.key in ctx.excluded]
    order, _ = _one_row_per_key(order, len(order), doc)
    by_key = {s.row.key: s for s in reversed(ranked)}
    items = [_item(row, rank, cc, by_key.get(row.key)) for rank, row in enumerate(order[:limit])]
    return Completions(items, incomplete=total > len(items))


def _place(doc: Snapshot, cc, view: LibraryView, graph, embeddings: bool = False) -> Optional[tuple]:
    """What a ranking at this citation depends on: the library (and its citation graph, once
    built), the document's language and macros, where the key being typed starts, and the text
    the context is read from around it without that key (so that each character typed in the
    citation finds the same context and ranking)."""
    state = library_state(view)
    if state is None:
        return None
    before, after = recommend.reach()
    start, end = cc.span.start, cc.span.end
    text = doc.text
    return (state, id(graph) if graph is not None else None, embeddings, doc.language, doc.macros, str(doc.path), start,
            text[max(0, start - before):start], text[end:end + after])


def resolve(data: Any, view: LibraryView) -> Optional[str]:
    """The card of a completion item's paper (its ``data``), or None when the data is not one
    of ours (or mangled) or the paper is gone; a context-ranked item's card ends with why it is
    offered (and the passage that matched)."""
    data = data if isinstance(data, dict) else {}
    source, row_id = data.get("source"), data.get("id")
    if not (isinstance(source, str) and source and isinstance(row_id, str)):
        return None
    row = view.entry(source, row_id)
    if row is None:
        return None
    text = card(view, row)
    why, passage, page = data.get("why"), data.get("passage"), data.get("page")
    head = []
    if isinstance(why, str) and why:
        head.append(f"*Fits here:* {why}")
    if isinstance(passage, str) and passage:
        where = f" (p. {page})" if type(page) is int else ""
        head.append(f"> {passage}{where}")
    return "\n\n".join([text.rstrip("\n"), *head]) + "\n" if head else text
