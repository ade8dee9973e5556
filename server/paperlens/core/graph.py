"""The library's citation graph: which library papers each paper's reference list names.

:func:`build` reads every stored reference list once and matches each entry with the library's
:class:`~paperlens.core.references.matcher.ReferenceMatcher` (DOI, arXiv id, then title with
surnames and year as evidence), the rule hovers use too. :class:`~paperlens.core.library.Library`
keeps the graph for the library's state and :func:`update`\\ s it when that changes.

An update starts from the previous graph: a paper whose reference list is as before (the same
fields, compared by a fingerprint) keeps its matches unless the library's papers changed in a
way that could change them. When library papers are added, removed or changed, an entry is
matched again only when it holds words of a changed paper's title (enough of them to make it a
candidate, see :meth:`_Changed.touches`) or its DOI or arXiv id: the matcher's answer for any
other entry depends only on papers that did not change (their order kept), so it is the answer
a build from scratch gives. The result is the graph :func:`build` gives, edge for edge.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from itertools import compress, repeat
from sys import intern
from typing import TYPE_CHECKING, Iterable, Optional

from paperlens.core.collector import gc_paused
from paperlens.core.identity import norm_title, norm_words
from paperlens.core.models import Reference, references_of_columns

if TYPE_CHECKING:
    from paperlens.core.library import Library
    from paperlens.core.references.matcher import LibraryEntry, ReferenceMatcher

MEMO_MAX = 200_000       # title-only entries remembered during a build (popular titles repeat)
DECIDED_TRIAL = 8192     # entries with evidence are remembered while half of those looked up repeat
_ID_NONE, _ID_SAME, _ID_CHANGED = 0, 1, 2


class CitationGraph:
    """Edges between library papers (ids of canonical rows: a merged text counts as its entry).

    Kept compact (10k papers cite 110k library papers): per citing id one flat tuple
    ``(label, cited id, label, cited id, ...)`` in the order its reference lists were read (the
    tuple the matching gave, shared with what :func:`update` starts from), per cited id the
    tuple of the ids citing it. The dictionaries callers read are views made from them on
    access: :attr:`cites` ``{citing id: {cited id: label}}`` (a paper cited under two labels:
    the last), :attr:`cited_by` ``{cited id: frozenset of citing ids}``, :attr:`cited_by_label`
    ``{citing id: {label: cited id}}``; :attr:`read` is the set of papers whose reference lists
    it read."""

    def __init__(self) -> None:
        self._out: dict[str, tuple] = {}        # citing id -> (label, cited id, label, cited id, ...)
        self._in: dict[str, tuple] = {}         # cited id -> (citing id, ...)
        self.read: set[str] = set()
        self.cites: Mapping[str, dict[str, str]] = _Cites(self._out)
        self.cited_by: Mapping[str, frozenset[str]] = _CitedBy(self._in)
        self.cited_by_label: Mapping[str, dict[str, str]] = _ByLabel(self._out)
        # what update() starts from: None for a graph made by hand
        self._basis: Optional[_Basis] = None
        self.matched = 0        # reference lists matched to make it (the others as they were)

    @property
    def changed(self) -> bool:
        """Whether :func:`update` found anything changed since the graph it started from (what
        the last session kept need not be written again when not); False for one made by hand."""
        return self._basis is not None and self._basis.changed

    def add(self, citing: str, cited: str, label: str) -> None:
        self._out[citing] = self._out.get(citing, ()) + (label, cited)
        by = self._in.get(cited, ())
        if citing not in by:
            self._in[cited] = by + (citing,)

    def _fill(self, order: Iterable[tuple[str, str, tuple]]) -> None:
        """The edges of ``(citing id, row id, matches)`` in reading order (a paper's citations of
        itself, by either id, left out)."""
        out, into = self._out, self._in
        for cid, rid, matches in order:
            if not matches:
                continue
            targets = matches[1::2]
            if cid in targets or rid in targets:
                matches = tuple(x for i in range(0, len(matches), 2) if matches[i + 1] != cid
                                and matches[i + 1] != rid for x in matches[i:i + 2])
                if not matches:
                    continue
            had = out.get(cid)
            out[cid] = matches if had is None else had + matches
        lists: dict[str, list[str]] = {}
        get = lists.get
        for cid, flat in out.items():
            targets = flat[1::2]
            for target in (targets if len(targets) == len(set(targets)) else dict.fromkeys(targets)):
                got = get(target)
                if got is None:
                    lists[target] = [cid]
                else:
                    got.append(cid)
        into.update((target, tuple(ids)) for target, ids in lists.items())


class _Cites(Mapping):
    """``{citing id: {cited id: label}}`` made from the graph's tuples on access (a subclass
    says what one value is made of: :meth:`_made`)."""

    __slots__ = ("_out",)

    def __init__(self, out: dict[str, tuple]) -> None:
        self._out = out

    @staticmethod
    def _made(flat: tuple) -> dict[str, str]:
        return dict(zip(flat[1::2], flat[0::2]))

    def __getitem__(self, key: str):
        return self._made(self._out[key])

    def get(self, key, default=None):
        got = self._out.get(key)
        return default if got is None else self._made(got)

    def __contains__(self, key) -> bool:
        return key in self._out

    def __iter__(self):
        return iter(self._out)

    def __len__(self) -> int:
        return len(self._out)


class _ByLabel(_Cites):
    """``{citing id: {label: cited id}}``."""

    __slots__ = ()

    @staticmethod
    def _made(flat: tuple) -> dict[str, str]:
        return dict(zip(flat[0::2], flat[1::2]))


class _CitedBy(_Cites):
    """``{cited id: frozenset of citing ids}``."""

    __slots__ = ()
    _made = staticmethod(frozenset)


class _Basis:
    """What a graph was computed from: the stores (the same when they index the same folders),
    the matcher's library papers (:class:`LibraryEntry`, in its order), the title fields' hits
    the matcher remembered (:attr:`ReferenceMatcher.field_memo`: an update reads it, an empty
    one when none was built), and per store ``{paper id: (digest of its reference list, its
    matches, citing id, row id)}`` where the matches are ``(label, library id, label, library
    id, ...)`` of the entries that matched, in list order (one tuple a paper: 10k papers cite
    110k library papers). ``changed``: whether it differs from the basis the computation started
    from (what :mod:`paperlens.core.saved_graph` keeps need not be written again when not)."""

    __slots__ = ("stores", "entries", "field_memo", "papers", "changed")

    def __init__(self, stores: tuple, entries: list["LibraryEntry"], field_memo: dict,
                 papers: list[dict], changed: bool = True) -> None:
        self.stores = stores
        self.entries = entries
        self.field_memo = field_memo
        self.papers = papers
        self.changed = changed


def basis_parts(graph: CitationGraph) -> Optional[tuple[tuple, list["LibraryEntry"], list[dict]]]:
    """What :func:`update` computed ``graph`` from, to keep it for the next session: (stores,
    library papers, per store ``{paper id: (digest, matches, citing id, row id)}``); None for a
    graph made by hand."""
    b = graph._basis
    return None if b is None else (b.stores, b.entries, b.papers)


def resumed(stores: tuple, entries: list["LibraryEntry"], papers: list[dict]) -> CitationGraph:
    """A graph to :func:`update` from, made of what :func:`basis_parts` gave (kept since): no
    edges yet, the update lays them out."""
    graph = CitationGraph()
    graph._basis = _Basis(stores, entries, {}, papers, changed=False)
    return graph


def build(library: "Library") -> CitationGraph:
    """The graph of ``library`` as it is now, from scratch (background work: 10k papers with 28
    references each take about 1.3 CPU-seconds). Most entries cite papers outside the library
    and cost a dictionary lookup (their title field's candidates, computed once per distinct
    field: the matcher compares strings only for library titles whose words the field mostly
    holds, and a field that is exactly a library title is compared with nothing); an entry that
    names a library paper is decided once per distinct title, ids, years and author list (a
    popular paper's entries repeat them).

    An entry is kept in the index without its text, with the evidence the matcher reads in it
    (the author list and years, :func:`~paperlens.core.references.matcher.stored_evidence`).
    An entry of an index written before that evidence was kept is read again with its text
    when a library title came close and the surnames or year would decide."""
    return update(library, None)


def update(library: "Library", previous: Optional[CitationGraph]) -> CitationGraph:
    """The graph of ``library`` as it is now, the same as :func:`build` gives, computed from
    ``previous`` (the graph of an earlier state of the same library) where it can be: only the
    reference lists that changed, and the entries that could name a library paper that changed,
    are matched again; the edges are laid out from every list's matches (``previous`` itself is
    not changed: requests may be reading it).

    The cyclic garbage collector is paused meanwhile (core/collector.py: it runs again once
    this and any other pause end, whatever happens): a build makes ~250k short-lived containers
    (decoded lines, keys, the matcher's lists) and ~100k lasting ones (the matcher's titles, the
    memos), and the collector traversed them, and at least once the whole heap, ~0.07 CPU-s of
    a 10k build. The build makes no reference cycles (its garbage goes by reference counts), so
    nothing piles up but what other threads make in cycles meanwhile (a few seconds' worth,
    collected after)."""
    with gc_paused():
        return _update(library, previous)


def _update(library: "Library", previous: Optional[CitationGraph]) -> CitationGraph:
    stores = tuple(library.stores)
    entries = library.matcher_entries()
    old: Optional[list[dict]] = None
    changed: Optional[_Changed] = None
    basis = previous._basis if previous is not None else None
    if basis is not None and len(basis.stores) == len(stores) \
            and all(_same_store(a, b) for a, b in zip(basis.stores, stores)):
        if basis.entries is entries or basis.entries == entries:
            old = basis.papers
        else:
            diff = changed_entries(basis.entries, entries)
            if diff is not None:
                old = basis.papers
                changed = _Changed(diff, basis.field_memo, library.matcher(entries)) if diff else None
    same = old is not None and changed is None     # so far: the same papers, the same lists
    field_memo = basis.field_memo if same else {}
    basis = None
    work = _Matching(library, entries)
    papers: list[dict] = []
    order: list[tuple[str, str, tuple]] = []       # (citing id, row id, matches) in reading order
    for n, store in enumerate(stores):
        before = old[n] if old is not None else {}
        mine: dict[str, tuple] = {}
        table = store.table
        for pid, fp, read in store.reference_lines_lazily():
            row = table.get(pid)
            if row is None:
                continue
            cid = library.canonical(row).id
            was = before.get(pid)
            new = was is None or was[0] != fp
            # a list a store can give as the lists of its fields (one per field, not one
            # Reference per entry) is read so, to be matched or checked against the changed
            # papers: most entries are then passed over by their title alone
            columns = getattr(read, "columns", None)
            if new or changed is not None:      # an unchanged list is not even decoded
                refs = read() if columns is None else columns()
                if refs is None:                # a damaged line (the index says so)
                    continue
            if new or (changed is not None and (changed.touches(refs) if columns is None
                                                else changed.touches_columns(refs))):
                matches = work.matches(store, pid, refs) if columns is None \
                    else work.matches_columns(store, pid, refs)
                if was is not None and was[1] == matches:
                    matches = was[1]            # the same tuple: the graph shares it
                if new or matches is not was[1]:
                    same = False
            else:
                matches = was[1]
            mine[pid] = (fp, matches, cid, row.id)
            order.append((cid, row.id, matches))
        if len(mine) != len(before):            # lists gone (or a damaged one)
            same = False
        papers.append(mine)
    old = previous = None
    # the edges are laid out again from every list's matches (~0.03 CPU-s at 10k papers):
    # only the lists that changed were matched again
    graph = CitationGraph()
    graph.read = {cid for cid, _rid, _m in order}
    graph._fill(order)
    if work.built is not None:
        field_memo = work.built.field_memo
        work.built.forget_entries()
    graph._basis = _Basis(stores, entries, field_memo, papers, changed=not same)
    graph.matched = work.lists
    return graph


def _same_store(a, b) -> bool:
    """Whether two stores index the same folder (a library's store, or one opened again)."""
    folder = getattr(a, "folder", None)
    return a is b or (folder is not None and folder == getattr(b, "folder", None))


class _Matching:
    """One graph computation's matching of reference lists (its memo of title fields alone)."""

    def __init__(self, library: "Library", entries: list["LibraryEntry"]) -> None:
        self.library = library
        self.entries = entries
        self.built: Optional["ReferenceMatcher"] = None     # built when a list is matched
        self.lists = 0                                       # lists matched
        self.memo: dict[tuple, tuple] = {}
        # entries kept with their evidence -> (answer,), while they repeat (looked: how often)
        self.decided: Optional[dict[tuple, tuple]] = {}
        self.looked = 0

    def matches(self, store, pid: str, refs: list[Reference]) -> tuple:
        """``(label, library id, label, library id, ...)`` of the entries of ``refs`` (paper ``pid``'s list in
        ``store``) that name a library paper (the citing paper itself included: the graph
        leaves it out)."""
        matcher = self.built
        if matcher is None:
            matcher = self.built = self.library.matcher(self.entries)
        self.lists += 1
        match, both = matcher.match_reference, matcher.match_and_candidates
        hits_of, decide = matcher.field_hits, matcher.match_field
        known = matcher.field_memo          # title field -> its hits (field_hits' memo, read inline)
        memo, decided = self.memo, self.decided
        whole: Optional[dict[str, Reference]] = None
        out: list[str] = []
        for ref in refs:
            retry = False
            if ref.text:
                m = match(ref)
            elif ref.authors is not None:     # kept with its evidence: decided here
                if not (ref.doi or ref.arxiv):
                    hits = known.get(ref.title)
                    if hits is None:
                        hits = hits_of(ref.title)
                    if not hits:
                        continue              # no library title comes close (most entries)
                if decided is None:
                    m = match(ref) if ref.doi or ref.arxiv else decide(ref, hits)
                else:
                    # the answer depends on these only: a popular paper's entries repeat them
                    key = (ref.title, ref.doi, ref.arxiv, ref.year, ref.years, ref.authors, ref.after)
                    got = decided.get(key)
                    self.looked += 1
                    if got is None:
                        got = decided[key] = (match(ref) if ref.doi or ref.arxiv else decide(ref, hits),)
                        if len(decided) % DECIDED_TRIAL == 0 and (
                                self.looked < 2 * len(decided) or len(decided) > MEMO_MAX):
                            # most were new (entries that do not repeat): not remembered
                            decided = self.decided = None
                    m = got[0]
            else:     # a title field alone: popular papers' titles repeat across the library
                key = (ref.title, ref.doi, ref.arxiv, ref.year)
                got = memo.get(key)
                if got is None:
                    if len(memo) > MEMO_MAX:
                        memo.clear()
                    m, maybe = both(ref)
                    got = memo[key] = (m, m is None and maybe)
                m, retry = got
            if retry:
                # kept without its text: the entry as parsed has the surnames and year
                if whole is None:
                    whole = {r.label: r for r in store.references(pid)}
                full = whole.get(ref.label)
                m = match(full) if full is not None and full.text else None
            if m is not None and m[0]:
                out += (intern(ref.label), m[0])     # labels repeat: one string each
        return tuple(out)

    def matches_columns(self, store, pid: str, columns: tuple) -> tuple:
        """:meth:`matches` of a list read as the lists of its fields (label, title, doi, arxiv,
        year, authors, after, years; no text), the same answer: the titles are looked up in
        the title fields' hits first, all at once, and the entries of no library title, without a
        DOI or arXiv id (most, in a library whose papers cite mostly papers outside it), are
        passed over without a Reference made of them; the others are decided as :meth:`matches`
        decides an entry kept with its evidence (a decision remembered: without one)."""
        labels, titles, dois, arxivs, years, authors, afters, yearses = columns
        n = len(titles)
        if None in authors:         # entries kept without their evidence (an older index)
            return self.matches(store, pid, references_of_columns(columns))
        matcher = self.built
        if matcher is None:
            matcher = self.built = self.library.matcher(self.entries)
        self.lists += 1
        match, hits_of, decide = matcher.match_reference, matcher.field_hits, matcher.match_field
        # an entry is looked at when its title has hits or is not known yet (True), or it has
        # a DOI or arXiv id
        known = matcher.field_memo
        seen = map(known.get, titles, repeat(True, n))
        if dois.count("") == n and arxivs.count("") == n:
            look = compress(range(n), seen)
        else:
            look = [i for i, h in enumerate(seen) if h or dois[i] or arxivs[i]]
        def answer(i: int, hits: Optional[tuple]) -> Optional[tuple[str, float]]:
            """Entry ``i`` decided as :meth:`matches` decides an entry kept with its evidence."""
            ref = Reference(labels[i], "", 0, titles[i], dois[i], arxivs[i], years[i], None, authors[i],
                            afters[i], yearses[i])
            return match(ref) if dois[i] or arxivs[i] else decide(ref, hits)

        out: list[str] = []
        decided = self.decided
        for i in look:
            doi, arxiv = dois[i], arxivs[i]
            got_hits = None
            if not (doi or arxiv):
                # (looked up now, not kept from above: any call of the matcher may clear its memo,
                # and it keys its answers by the hits' identity)
                got_hits = known.get(titles[i])
                if got_hits is None:
                    got_hits = hits_of(titles[i])
                if not got_hits:
                    continue      # no library title comes close
            if decided is None:
                m = answer(i, got_hits)
            else:
                key = (titles[i], doi, arxiv, years[i], yearses[i], authors[i], afters[i])
                got = decided.get(key)
                self.looked += 1
                if got is None:
                    got = decided[key] = (answer(i, got_hits),)
                    if len(decided) % DECIDED_TRIAL == 0 and (
                            self.looked < 2 * len(decided) or len(decided) > MEMO_MAX):
                        decided = self.decided = None
                m = got[0]
            if m is not None and m[0]:
                out += (intern(labels[i]), m[0])
        return tuple(out)


def _entry_key(e: "LibraryEntry") -> tuple:
    return (e.id, e.title, e.doi, e.arxiv, e.year, tuple(e.surnames))


def changed_entries(before: list["LibraryEntry"], after: list["LibraryEntry"],
                    most: int = 256) -> Optional[list["LibraryEntry"]]:
    """The library papers (matcher entries) of ``before`` or ``after`` that are not in both as
    they are, or moved among the others (the matcher breaks ties by their order): each paper
    as it was and as it is. None when more than ``most`` changed (a graph is then built from
    scratch) or a paper is there twice."""
    old = [_entry_key(e) for e in before]
    new = [_entry_key(e) for e in after]
    olds, news = set(old), set(new)
    if len(olds) != len(old) or len(news) != len(new):
        return None
    both = olds & news
    if len(olds) + len(news) - 2 * len(both) > most:
        return None
    place = {k: i for i, k in enumerate(k for k in new if k in both)}
    stay = _increasing([place[k] for k in old if k in both])     # the rest moved
    kept = {k for k in both if place[k] in stay}
    if len(olds) + len(news) - 2 * len(kept) > most:
        return None
    return [e for e, k in zip(before, old) if k not in kept] + [e for e, k in zip(after, new) if k not in kept]


def _increasing(seq: list[int]) -> set[int]:
    """The values of a longest increasing subsequence of ``seq`` (distinct values)."""
    tails: list[int] = []          # tails[j]: index in seq of the smallest tail of a run of j + 1
    back: list[int] = [-1] * len(seq)
    for i, v in enumerate(seq):
        j = _bisect_tails(seq, tails, v)
        if j > 0:
            back[i] = tails[j - 1]
        if j == len(tails):
            tails.append(i)
        else:
            tails[j] = i
    out: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        out.add(seq[i])
        i = back[i]
    return out


def _bisect_tails(seq: list[int], tails: list[int], v: int) -> int:
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if seq[tails[mid]] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _Changed:
    """The library papers that changed, and which reference entries could name them.

    An entry is a candidate of a library title only when it holds ``need`` of the title's words
    (the matcher's rule). Every word the matcher reads in a string is a substring of the string
    in lower case without hyphens and apostrophes: a string holding fewer than ``need`` of a
    title's words that way cannot hold them as words, and the rest are checked exactly, with a
    matcher of the changed papers alone. The matcher reads an entry kept without its text in two
    steps: its title field's candidates, and only when there are some (its hits, the same in
    both libraries when the field holds no changed title), the text around the title: so most
    entries are decided by their title field alone, once per distinct field."""

    def __init__(self, entries: Iterable["LibraryEntry"], hits_before: dict,
                 after: "ReferenceMatcher") -> None:
        from paperlens.core.references.matcher import ReferenceMatcher

        self.small = ReferenceMatcher(list(entries))
        self.after = after
        self.by_id: dict[tuple[str, str], int] = {}    # (DOI, arXiv id) -> _ID_* below
        self.titles = list(zip(self.small._title_tokens, self.small._needs))     # (words, need)
        self.ascii = all(w.isascii() for words, _ in self.titles for w in words)
        self.ids = bool(self.small._ids.by_doi or self.small._ids.by_arxiv)
        self.hits_before = hits_before     # title field -> its hits before (what is known)
        self.fields: dict[str, bool] = {}
        # the changed titles' words, a bit each; the words a string holds, as bits (see _holds)
        bits: dict[str, int] = {}
        for words, _need in self.titles:
            for w in words:
                bits.setdefault(w, 1 << len(bits))
        self.bits = bits
        self.title_bits = [(sum(map(bits.__getitem__, words)), need) for words, need in self.titles]
        self.held: dict[str, Optional[int]] = {}

    def touches(self, refs: list[Reference]) -> bool:
        """Whether the matcher's answer for an entry of ``refs`` may depend on a changed paper."""
        return self._touches([(r.title, r.authors, r.after, r.text, r.doi, r.arxiv) for r in refs])

    def touches_columns(self, columns: tuple) -> bool:
        """:meth:`touches` of a list read as the lists of its fields (see
        :meth:`_Matching.matches_columns`; no text)."""
        _labels, titles, dois, arxivs, _years, authors, afters, _yearses = columns
        return self._touches(list(zip(titles, authors, afters, repeat("", len(titles)), dois, arxivs)))

    def _touches(self, entries: list[tuple]) -> bool:
        """:meth:`touches` of entries given as ``(title, authors, after, text, doi, arxiv)``."""
        fields, covers, before = self.fields, self._covers, self.hits_before
        # the whole list first: most lists hold too few words of any changed title anywhere
        if not self._enough(s for t, a, af, x, _d, _x in entries for s in (t, a, af, x)):
            return any((a is None and not x) or ((d or ax) and self._id_state(d, ax) == _ID_CHANGED)
                       for _t, a, _af, x, d, ax in entries)
        for title, authors, after, text, doi, arxiv in entries:
            if authors is None and not text:
                return True         # its text would be read again: what it names is not known
            if doi or arxiv:
                how = self._id_state(doi, arxiv)
                if how == _ID_CHANGED:
                    return True
                if how == _ID_SAME:
                    continue
            if text:
                if covers((title, authors or "", after, text)):
                    return True
                continue
            got = fields.get(title)
            if got is None:
                got = fields[title] = covers((title,))
            if got:
                return True
            hits = before.get(title)
            if (hits is None or hits) and covers((title, authors, after)):
                return True
        return False

    def _id_state(self, doi: str, arxiv: str) -> int:
        how = self.by_id.get((doi, arxiv))
        if how is None:
            how = self.by_id[(doi, arxiv)] = self._by_id(doi, arxiv)
        return how

    def _by_id(self, doi: str, arxiv: str) -> int:
        if self.ids and self.small._ids.find_by_id(doi, arxiv) is not None:
            return _ID_CHANGED       # it names a changed paper's DOI or arXiv id
        if self.after._ids.find_by_id(doi, arxiv) is not None:
            return _ID_SAME          # it names a paper that did not change (the first with it)
        return _ID_NONE              # decided by its title

    def _lowered(self, text: str) -> Optional[str]:
        """``text`` with every word the matcher reads in it as a substring (lower case, accents
        and ligatures folded, hyphens and apostrophes gone), or None when that is not known (a
        changed title has a word that is not ASCII)."""
        if text.isascii():
            low = text.lower()
        elif self.ascii:       # (NFKD has expanded ligatures; of casefold's other foldings only ß's give ASCII)
            low = unicodedata.normalize("NFKD", text).lower().replace("ß", "ss").encode("ascii", "ignore").decode()
        else:
            return None
        return low.replace("-", "").replace("'", "").replace("`", "")

    def _enough(self, strings: Iterable[Optional[str]]) -> bool:
        """Whether ``strings`` together hold ``need`` of the words of a changed title (the
        words of each string, :meth:`_holds`), or that is not known."""
        held, holds = self.held, self._holds
        found = 0
        for text in strings:
            if not text:
                continue
            got = held.get(text, -1)
            if got == -1:
                if len(held) > MEMO_MAX:
                    held.clear()
                got = held[text] = holds(text)
            if got is None:
                return True
            found |= got
        return any((found & b).bit_count() >= need for b, need in self.title_bits)

    def _holds(self, text: str) -> Optional[int]:
        """The bits of the changed titles' words that ``text`` holds as substrings of its
        :meth:`_lowered` form (every word the matcher reads in it is one), or None when that is
        not known.

        The words of strings joined by spaces are those of each, so :meth:`_enough` looks at
        each string once and remembers it: an entry's title field, author list and the text
        after its title repeat across the library's lists."""
        low = self._lowered(text)
        if low is None:
            return None
        return sum(b for w, b in self.bits.items() if w in low)

    def _covers(self, parts: tuple) -> bool:
        """Whether the strings ``parts`` together hold enough words of a changed title to make
        it a candidate of an entry made of them."""
        if not self._enough(parts):
            return False
        tokens: set[str] = set()
        for p in parts:
            if p:
                tokens.update(norm_title(p).split())
                tokens.update(norm_words(p).split())
        held = frozenset(tokens) & self.small._title_words
        return bool(held and self.small._candidates_of(held))
