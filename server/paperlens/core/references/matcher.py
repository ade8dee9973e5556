"""Which library paper a reference entry cites: by DOI or arXiv id (:mod:`paperlens.core.identity`),
else by title (``rapidfuzz``) with the authors' surnames and the year as evidence.

One rule serves the citation graph (every entry of every paper of the library, built in the
background) and the hover on one ``[n]``: :meth:`ReferenceMatcher.match_reference`. A library
title is compared with an entry only when the entry holds most of its words (its candidates,
found through pairs of the titles' rarest words, or by counting the common words held for every
title at once in the bits of a few big integers, whichever costs less); most entries cite papers
outside the library and end there, without a single string comparison. An entry the index keeps
as its title field, exactly a library title (most of those naming a library paper), is compared
with no other title unless its evidence refuses that one: an exact title wins over its near twins.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from sys import intern
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import accumulate, chain, combinations, compress
from typing import Iterable, Optional

from paperlens.core.identity import PaperKeys, norm_arxiv, norm_title, norm_words
from paperlens.core.models import Reference
from paperlens.core.references.entries import _finish_text, _join_pieces
from paperlens.core.references.fields import (
    _LEADING_LABEL,
    extract_ids,
    extract_title,
    extract_years,
)

__all__ = ["LibraryEntry", "ReferenceMatcher", "stored_evidence"]

EVIDENCE_MAX = 200        # characters kept of an entry's text before and after its title


def stored_evidence(ref: Reference) -> tuple[str, str, str]:
    """What the index keeps of an entry's text for the matcher (it keeps no text):
    ``(authors, after, years)``: the text before the title (the author list as printed; the
    whole text when the title is not found in it) and after it (venue, year; a second entry
    run into this one), at most :data:`EVIDENCE_MAX` characters each, and the years the text
    names besides ``ref.year``, space-separated. With them, a title field alone is decided as
    with its text (surnames and years as evidence) without reading the entry again."""
    text = ref.text or ""
    if not text:
        return "", "", ""
    at = text.find(ref.title) if ref.title else -1
    head, tail = (text[:at], text[at + len(ref.title):]) if at >= 0 else (text, "")
    authors = " ".join(head.split())[:EVIDENCE_MAX]
    after = " ".join(tail.split())[:EVIDENCE_MAX]
    own = ref.year[:4]
    others = []
    for y in extract_years(text):
        y = y[:4]
        if y != own and y not in others:
            others.append(y)
    return authors, after, " ".join(others)


@dataclass(slots=True)
class LibraryEntry:
    """What the matcher needs to know about one library paper."""

    id: str
    title: str
    doi: str = ""
    arxiv: str = ""
    year: str = ""
    surnames: list[str] = field(default_factory=list)


_STOP = {"a", "an", "the", "of", "for", "and", "in", "on", "with", "to", "via", "by", "from",
         "is", "are", "at", "as", "or", "its", "into", "using", "towards", "toward", "we", "our"}


def _tokens(norm: str) -> list[str]:
    # one string per word (interned): a 10k library's titles hold 150k words, most of them repeated
    return [intern(t) for t in norm.split() if t not in _STOP and (len(t) > 1 or t.isdigit())]


# Where a title can start or end inside an entry: sentence and clause punctuation followed by a
# space (``Lamport, L.: Paxos made simple.``, ``Problem, Machine Learning``), quotes, brackets,
# a spaced dash, and after a year or "et al" that runs into a capitalised word
# (``Vaswani A et al 2017 Attention is all you need``).
_BOUNDARY = re.compile(r"[.?!;:,]+(?=\s|$)|[\"“”„«»()\[\]{}]|\s[-–—]+\s|(?<=\b(?:19|20)\d\d)[a-z]?\s+(?=[A-Z])"
                       r"|\bet al\b\.?")
_SUBTITLE = re.compile(r"\s*(?::|\s[-–—]+\s|[?!]\s)\s*")
_YEAR_OF = re.compile(r"\s*((?:1[5-9]|20)\d\d)")
_MAX_RUN_PIECES = 8
_MAX_RUN_CHARS = 400
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# words of at least LANE_MIN_TITLES titles (the LANE_WORDS most common) are counted for every
# title at once in bits of big integers (one bit per title, see ReferenceMatcher._counted); the
# others through the titles holding them
LANE_WORDS = 512
LANE_MIN_TITLES = 16
# the counters: COUNTER_BITS bits per title, each counter starting at 2**COUNTER_BITS - need
# (0 for a title needing more), the titles whose counter reaches 2**COUNTER_BITS flagged
COUNTER_BITS = 4
# an entry's words are counted when the titles they are pair words of exceed 1/LANE_RATIO
# of the library per word held (else its candidates are found through pairs of rare words)
LANE_RATIO = 256
_SIG_BITS = 256
# the way of finding candidates not made with the matcher (pairs or lanes) is made once this many
# entries would have used it
PAIRS_AFTER = 1000
# candidate sets remembered by the title words an entry holds (~250 bytes each): the same
# title field mis-split with different author lists, in another case, finds them once
CANDIDATES_MEMO_MAX = 100_000


def _pieces(text: str) -> list[str]:
    """The entry cut at every place a title may start or end, each piece normalised."""
    out = []
    for p in _BOUNDARY.split(text):
        n = norm_title(p)
        if n:
            out.append(n)
    return out


def _field_forms(raw: str) -> tuple[str, str]:
    """A title field normalised (:func:`norm_title`) and, when it has hyphens, its words with
    hyphens split (:func:`norm_words`; else ``""``): an ASCII field (most) by one regular
    expression each, without their general work (accents, other scripts)."""
    if raw.isascii():
        low = raw.lower().replace("'", "")
        split = " ".join(_ASCII_WORD.findall(low)) if "-" in low else ""
        if "&" in low:
            low = low.replace("&", " and ")
        return " ".join(_ASCII_WORD.findall(low.replace("`", "").replace("-", ""))), split
    return norm_title(raw), norm_words(raw) if "-" in raw or "‐" in raw else ""


def _squash(norm: str) -> str:
    """A normalised title without spaces: hyphenation and split words compare equal."""
    return norm.replace(" ", "")


def _bit_set(members: Iterable[int], size: int) -> int:
    """An integer with bit ``k`` set for each ``k`` of ``members`` (all under ``size``)."""
    row = bytearray((size + 7) // 8)
    for k in members:
        row[k >> 3] |= 1 << (k & 7)
    return int.from_bytes(row, "little")


def _add_bit_sets(counters: tuple[int, ...], sets: list[int]) -> int:
    """The top bits of counters (``counters[i]``: their bit ``i``, the last their top bit,
    which once set stays set) after adding one to each counter whose bit is set in a set, for
    each of ``sets``: a ripple-carry addition, a few bitwise operations on the whole integers
    per set."""
    if len(counters) == 5:       # (COUNTER_BITS 4: the same additions unrolled)
        p0, p1, p2, p3, p4 = counters
        for c in sets:
            t = p0 & c
            p0 ^= c
            if t:
                c = p1 & t
                p1 ^= t
                if c:
                    t = p2 & c
                    p2 ^= c
                    if t:
                        p4 |= p3 & t
                        p3 ^= t
        return p4
    planes = list(counters)
    top = len(planes) - 1
    for carry in sets:
        for i in range(top):
            plane = planes[i]
            planes[i] = plane ^ carry
            carry &= plane
            if not carry:
                break
        else:
            planes[top] |= carry
    return planes[top]


def _bits_of(n: int) -> list[int]:
    """The positions of the bits set in ``n`` (few), highest first: each found from the bit
    length, then cleared (a few operations on the integer a bit: faster than reading its bytes)."""
    out = []
    while n:
        k = n.bit_length() - 1
        out.append(k)
        n ^= 1 << k
    return out


def _reach(t: "_Title", n_len: int, s_len: int) -> float:
    """The best score :meth:`ReferenceMatcher._score` can give library title ``t`` with a
    title field of ``n_len`` characters (``s_len`` without spaces), from the lengths alone:
    each comparison is bounded by the shorter length's share of both."""
    a = len(t.norm)
    b = a - t.words + 1                # len(t.squashed)
    return max(200.0 * (a if a < n_len else n_len) / (a + n_len),
               200.0 * (b if b < s_len else s_len) / (b + s_len))


@dataclass(slots=True)
class _Title:
    """One way a library paper's title can appear in an entry: its whole title, or its main
    title when it has a subtitle."""

    paper: int
    norm: str
    words: int
    tokens: frozenset
    main: bool            # the title without its subtitle

    @property
    def squashed(self) -> str:
        """:attr:`norm` without spaces (:func:`_squash`; its length: ``len(norm) - words + 1``)."""
        return self.norm.replace(" ", "")


_PREFIX = object()     # (ReferenceMatcher._ev_need: hits of a field that starts a longer title)


class _ExactHits(tuple):
    """The hits of a title field that is exactly one library paper's whole title (normalised):
    that title's alone (see :meth:`ReferenceMatcher.field_hits`)."""

    __slots__ = ()


@dataclass
class _Query:
    """One entry being matched, with what is computed from it on demand."""

    text: str
    title: str                      # the entry's title field, normalised
    year: str                       # the entry's year field (when it has no text)
    arxiv: str
    tokens: frozenset
    _pieces: Optional[list[str]] = None
    _padded: Optional[tuple[str, str]] = None

    _runs: Optional[list[str]] = None
    _years: Optional[list[int]] = None

    def years(self) -> list[int]:
        if self._years is None:
            ys = [int(y[:4]) for y in extract_years(self.text)] if self.text else []
            self._years = ys or ([int(self.year[:4])] if self.year[:4].isdigit() else [])
        return self._years
    _word_runs: Optional[list[list[str]]] = None

    def pieces(self) -> list[str]:
        if self._pieces is None:
            self._pieces = _pieces(_LEADING_LABEL.sub("", self.text)) if self.text else [self.title]
        return self._pieces

    def runs(self) -> list[str]:
        """Every run of up to :data:`_MAX_RUN_PIECES` consecutive pieces (of at most
        :data:`_MAX_RUN_CHARS`), spaces removed: where a title may be."""
        if self._runs is None:
            sq = [_squash(p) for p in self.pieces()]
            runs = []
            for s in range(len(sq)):
                run = ""
                for e in range(s, min(len(sq), s + _MAX_RUN_PIECES)):
                    run += sq[e]
                    if len(run) > _MAX_RUN_CHARS:
                        break
                    runs.append(run)
            self._runs = runs
        return self._runs

    def word_runs(self) -> list[list[str]]:
        """The words from each piece on (up to :data:`_MAX_RUN_PIECES` pieces)."""
        if self._word_runs is None:
            p = self.pieces()
            self._word_runs = [" ".join(p[s:s + _MAX_RUN_PIECES]).split() for s in range(len(p))]
        return self._word_runs

    def padded(self) -> tuple[str, str]:
        """The entry normalised two ways (hyphens joined, hyphens split), padded with spaces."""
        if self._padded is None:
            norm = norm_title(self.text) if self.text else self.title
            self._padded = (f" {norm} ", f" {norm_words(self.text)} ")
        return self._padded


class ReferenceMatcher:
    """Find the library paper a reference entry cites.

    :meth:`match_reference` tries the entry's DOI, then its arXiv id, then titles. A library
    title is compared with the entry's title field (``ratio`` and ``token_sort_ratio``) and with
    every run of the entry's pieces between punctuation (``ratio``, spaces ignored so that
    hyphenation and split words do not count): a title field mis-split from the author list or
    the venue, or an author list that could not be told from the title, still finds the title,
    but never *inside* a longer title ("Attention is all you need" is not in "Attention is all
    you need in speech separation": the run must start and end at punctuation).

    Evidence decides what a score is worth (precision first):

    - a title of ``min_partial_words`` words or more scoring ``strict`` or more is a match;
      from ``threshold`` up to ``strict`` (an OCR error, a word more or less: often another
      paper), only when a surname of the library paper occurs in the entry, or the paper has no
      authors and the years agree;
    - a shorter title ("Paxos Made Simple", "Point Transformer": shared by other papers) needs
      ``short_threshold`` and a surname;
    - the main title of a library paper whose subtitle the entry leaves out, and a library title
      that is only the start of the entry's title (a library paper's title cut short by bad
      metadata) need ``short_threshold``, a surname, and :data:`TITLE_MIN_WORDS`-ish length;
    - when both sides have a year they agree within ``year_tolerance``; when both have an arXiv
      id they are the same;
    - two different library titles matching equally well (within ``margin``) is ambiguous: no
      match (the same title twice in the library is one paper, the first with the most evidence);
      but an entry whose title is exactly one library paper's whole title (normalised) names
      that paper when the evidence accepts it, over its near twins (the same title in the
      plural, a letter more or less, words in another order): the title decides, as a title
      scoring ``strict`` is a match whatever the authors.
    """

    def __init__(self, entries: Iterable[LibraryEntry], threshold: float = 88.0,
                 partial_threshold: float = 92.0, strict: float = 97.0,
                 year_tolerance: int | None = 1, min_partial_words: int = 4, candidates: int = 25,
                 short_threshold: float = 95.0, coverage: float = 0.75, margin: float = 2.0):
        from rapidfuzz import fuzz, process  # imported here so the rest of the module works without it

        self._fuzz = fuzz
        self._process = process
        self.entries: list[LibraryEntry] = list(entries)
        self.threshold = threshold
        self.partial_threshold = partial_threshold     # kept for callers; runs use the rules above
        self.strict = strict
        self.short_threshold = short_threshold
        self.year_tolerance = year_tolerance
        self.min_partial_words = min_partial_words
        self.candidates = candidates
        self.coverage = coverage
        self.margin = margin
        self._low = min(threshold, short_threshold)      # no score under it counts
        self._ids: PaperKeys[int] = PaperKeys()      # the entries by DOI and arXiv id
        self._years: list[int | None] = []
        self._arxivs: list[str] = []
        self._surnames: list[tuple[tuple[str, str], ...]] = []
        self._titles: list[_Title] = []
        df: Counter[str] = Counter()
        df_update = df.update
        names: dict[str, tuple] = {}                 # surnames repeat across a library
        for i, e in enumerate(self.entries):
            if e.doi or e.arxiv:
                self._ids.add(i, doi=e.doi, arxiv=e.arxiv)
            self._arxivs.append(norm_arxiv(e.arxiv) if e.arxiv else "")
            y = _YEAR_OF.match(e.year or "")
            self._years.append(int(y.group(1)) if y else None)
            own = []
            for s in e.surnames:
                got = names.get(s)
                if got is None:
                    n = norm_title(s)
                    got = names[s] = (n, norm_words(s)) if n else ()
                if got:
                    own.append(got)
            self._surnames.append(tuple(own))
            raw = e.title or ""
            whole = norm_title(raw)
            main = _SUBTITLE.split(raw, maxsplit=1)[0]
            words: set[str] = set()
            for text, is_main in ((raw, False), (main, True)):
                if is_main and (main == raw or not words):
                    continue
                n = norm_title(text) if is_main else whole
                if not n or is_main and n == whole:
                    continue
                joined = frozenset(_tokens(n))
                if is_main and len(joined) < 2:
                    continue
                # norm_words differs from norm_title's words only at hyphens and odd quotes
                split = frozenset(_tokens(norm_words(text))) if "-" in text or "`" in text or \
                    not text.isascii() else joined
                for tk in ((joined,) if split == joined else (joined, split)):    # hyphenated: joined and split
                    if tk:
                        self._titles.append(_Title(i, n, n.count(" ") + 1, tk, is_main))
                if not is_main:
                    words = joined | split
            df_update(words)
        # An entry's candidates are the titles of which it holds ``_need`` words (see
        # _find_candidates): the common words are counted for every title at once, a bit per
        # title in a big integer per word (see _counted), the rare words through their few
        # titles.
        # a title field that is exactly one library paper's whole title (normalised) is decided on
        # that title first (see field_hits): its normalised form -> its title indexes
        exact: dict[str, list[int]] = defaultdict(list)
        for k, t in enumerate(self._titles):
            exact[t.norm].append(k)
        titles = self._titles
        self._exact: dict[str, tuple[int, ...]] = {
            n: tuple(ks) for n, ks in exact.items()
            if len({titles[k].paper for k in ks}) == 1 and not all(titles[k].main for k in ks)}
        # those that are the start of a longer library title ("... sparse text" of "... sparse
        # text. Part II"): a title field cut at the full stop, the rest read after it
        wholes = sorted({t.norm for t in titles if not t.main})
        self._starts = frozenset(
            n for n in self._exact
            if (i := bisect_left(wholes, n + " ")) < len(wholes) and wholes[i].startswith(n + " "))
        self._title_words = frozenset(w for t in self._titles for w in t.tokens)
        self._title_tokens = [t.tokens for t in self._titles]
        self._title_sizes = sizes = [len(tk) for tk in self._title_tokens]
        needs = [self._need(n) for n in range(64)]
        self._needs = [needs[n] if n < 64 else self._need(n) for n in sizes]
        # Each title is also indexed under pairs of its rarest words, just enough of them that an
        # entry holding ``_need`` of its words holds one of the pairs (a one-word title under its
        # word): an entry holding few common words meets only the titles it may match. The
        # pairs are made when needed; ``_fan``: how many titles a word is a pair word of.
        by_rarity = sorted(self._title_words, key=lambda w: (df.get(w, 0), w))
        rank = {w: i for i, w in enumerate(by_rarity)}
        self._by_rarity = by_rarity
        # each title's pair words: the ranks of its rarest words
        self._prefixes: list[tuple[int, ...]] = [
            tuple(sorted(map(rank.__getitem__, tk))[:1 if need == 1 else len(tk) - need + 2])
            for tk, need in zip(self._title_tokens, self._needs)]
        fan = Counter(chain.from_iterable(self._prefixes))
        self._fan = {by_rarity[i]: n for i, n in fan.items()}
        self._fan_words = frozenset(self._fan)
        self._before_other = PAIRS_AFTER     # entries found the made way before the other is made
        self._pairs: Optional[tuple] = None   # (single, pairs, bits, signatures, first words)
        self._n_titles = n_titles = len(self._titles)
        self._index = list(range(n_titles))
        self._lanes: Optional[tuple] = None   # (bit sets, lane words, rare words' titles, counters)
        self._lanes_unsure = 0                # (the titles whose top bits are set at 2**COUNTER_BITS words)
        # The pairs are made now when most of the library's own titles (a sample), read as
        # entries, would use them (the reference lists' entries will likely use them too), the
        # lanes once PAIRS_AFTER entries would have used them; else the other way round.
        sample = self._title_tokens[::max(1, n_titles // 200)]
        if 2 * sum(self._pairs_cheaper(tk, tk & self._fan_words) for tk in sample) > len(sample):
            self._pairs = self._make_pairs()
        else:
            self._lanes = self._make_lanes()
        self._cands_memo: dict[tuple, tuple[int, ...]] = {}
        self._forms_memo: dict[int, tuple] = {}      # a library title -> its forms compared (_forms)
        self._field_memo: dict[str, tuple] = {}     # a title field alone -> its scored candidates
        self._norm_memo: dict[object, tuple] = {}
        self._all_memo: dict[object, tuple] = {}     # a field with exact hits -> all its hits
        self._ev_need: dict[int, object] = {}        # id of hits -> whether the author list may decide
        #                                              (or _PREFIX: the field starts a longer title)
        self._decided: dict[tuple, tuple] = {}       # (id of hits, year, years, arxiv, evidence) -> answer
        self._after_memo: dict[str, bool] = {}       # text after a title -> whether it names a library title

    def _need(self, words: int) -> int:
        """How many of a title's (content) words an entry must hold to be compared with it."""
        return words if words <= 3 else max(3, round(self.coverage * words))

    # --- the entry -------------------------------------------------------------------------------

    def _query(self, ref: Reference) -> Optional[_Query]:
        text = ref.text or ""
        title = norm_title(ref.title if ref.title or not text else extract_title(text))
        if not text:
            toks = title.split()
        elif text.isascii():            # norm_title's words, without building its string
            toks = _ASCII_WORD.findall(text.lower().replace("-", "").replace("'", "").replace("`", ""))
        else:
            toks = norm_title(text).split()
        if not toks:
            return None
        toks = set(toks)
        src = text or ref.title or ""
        if "-" in src or "‐" in src:          # hyphenated words: joined and split
            toks.update(norm_words(src).split())
        return _Query(text, title, ref.year, norm_arxiv(ref.arxiv), frozenset(toks))

    # --- evidence ----------------------------------------------------------------------------------

    def _author(self, i: int, q: _Query) -> int:
        """1 when a surname of library paper ``i`` is in the entry, 0 when it has none, else -1."""
        return self._author_in(i, q.padded()) if self._surnames[i] else 0

    def _author_in(self, i: int, padded: tuple[str, str]) -> int:
        """:meth:`_author` for a text normalised both ways (:meth:`_Query.padded`)."""
        names = self._surnames[i]
        if not names:
            return 0
        joined, split = padded
        return 1 if any(f" {a} " in joined or f" {b} " in split for a, b in names) else -1

    def _year(self, i: int, q: _Query) -> int:
        """1 when the years agree, -1 when they disagree, 0 when one is missing."""
        ly = self._years[i]
        if self.year_tolerance is None or ly is None:
            return 0
        years = q.years()
        if not years:
            return 0
        return 1 if any(abs(ly - y) <= self.year_tolerance for y in years) else -1

    def _accepted(self, q: _Query, t: _Title, score: float, kind: str) -> bool:
        return self._accept(t, score, kind, self._author(t.paper, q), self._year(t.paper, q), q.arxiv)

    def _accept(self, t: _Title, score: float, kind: str, author: int, year: int, arxiv: str) -> bool:
        """Whether a score is worth a match given the evidence (``author``, ``year``: see
        :meth:`_author`, :meth:`_year`; ``arxiv``: the entry's id, normalised)."""
        lib_arxiv = self._arxivs[t.paper]
        if arxiv and lib_arxiv and lib_arxiv != arxiv:
            return False
        if year < 0:
            return False
        if kind != "title" or t.main:       # a main title, a title cut short: a surname is needed
            return score >= self.short_threshold and author > 0
        if t.words < self.min_partial_words:
            return score >= self.short_threshold and author > 0
        if score >= self.strict:
            return True
        return author > 0 or (author == 0 and year > 0)

    # --- matching ----------------------------------------------------------------------------------

    def _candidates(self, q: _Query) -> list[int]:
        """Library titles (indexes into ``_titles``) whose words the entry mostly holds, most
        covered first, at most ``candidates``."""
        return self._candidates_of(q.tokens & self._title_words)   # all the answer depends on

    def _candidates_of(self, held: frozenset) -> tuple[int, ...]:
        # remembered by the words in order (a tuple takes a fifth of a set's memory)
        key = tuple(sorted(held))
        got = self._cands_memo.get(key)
        if got is None:
            got = self._remember_candidates(key, self._find_candidates(held))
        return got

    def _remember_candidates(self, key: tuple, got: tuple[int, ...]) -> tuple[int, ...]:
        if len(self._cands_memo) > CANDIDATES_MEMO_MAX:
            self._cands_memo.clear()
        self._cands_memo[key] = got
        return got

    def _find_candidates(self, held: frozenset) -> tuple[int, ...]:
        """Every title of which ``held`` holds ``_need`` words (most covered first, at most
        ``candidates``), found one of two ways, whichever costs less: through the pairs of
        rare words (:meth:`_paired`: its cost grows with the titles the words held are pair
        words of) or by counting the common words held for all titles at once
        (:meth:`_counted`: its cost grows with the library)."""
        toks = held & self._fan_words               # the words held that are some title's pair words
        if not toks:
            return ()
        paired = self._pairs_cheaper(held, toks)
        if (self._pairs if paired else self._lanes) is None and self._before_other > 0:
            # the other way is made (by _paired or _counted) once enough entries would have used it
            self._before_other -= 1
            paired = not paired
        return self._first(self._paired(held, toks) if paired else self._covered(self._counted(held), held))

    def _covered(self, titles: Iterable[int], held: frozenset) -> list[tuple[float, int]]:
        """``(-share of its words held, title)`` of those of ``titles`` of which ``held`` holds
        ``_need`` words."""
        tokens, needs, sizes = self._title_tokens, self._needs, self._title_sizes
        return [(-n / sizes[k], k) for k in titles if (n := len(tokens[k] & held)) >= needs[k]]

    def _first(self, scored: list[tuple[float, int]]) -> tuple[int, ...]:
        """The titles of ``scored`` (``(-share, title)``), most covered first, at most
        ``candidates``."""
        if len(scored) > 1:
            scored.sort()
        return tuple(k for _, k in scored[:self.candidates])

    def _with_exact(self, cands: tuple[int, ...], norm: str) -> tuple[int, ...]:
        """``cands`` with the title that the entry's title ``norm`` is exactly (:attr:`_exact`)
        after them when the cut after :attr:`candidates` left it out (a title holding every
        word of 25 others): an exact title is always compared."""
        exact = self._exact.get(norm)
        if exact is None or set(exact) <= set(cands):
            return cands
        return (*cands, *(k for k in exact if k not in cands))

    def _pairs_cheaper(self, held: frozenset, toks: frozenset) -> bool:
        """Whether the pairs find the candidates of an entry holding the words ``held`` (the pair
        words ``toks``) at less cost than counting its common words."""
        # counting costs about a byte per title per word held (common words: a few operations on
        # their bit sets; rare ones: their titles, checked)
        return sum(map(self._fan.__getitem__, toks)) * LANE_RATIO <= (len(held) + 1) * self._n_titles

    def _make_lanes(self) -> tuple:
        """What :meth:`_counted` counts with: per common word a bit set of its titles (bit ``k``:
        title ``k``), the counters' starting bits, and the titles of each rare word."""
        postings: dict[str, list[int]] = defaultdict(list)
        for k, tk in zip(self._index, self._title_tokens):
            for w in tk:
                postings[w].append(k)
        by_use = sorted(postings, key=lambda w: (-len(postings[w]), w))
        common = [w for w in by_use[:LANE_WORDS] if len(postings[w]) >= LANE_MIN_TITLES]
        lanes = {w: _bit_set(postings[w], self._n_titles) for w in common}
        rare = {w: tuple(ks) for w, ks in postings.items() if w not in lanes}
        # each title's counter starts at 2**COUNTER_BITS - need: its top bit is set once the
        # entry holds ``need`` of its common words (a title needing more than 2**COUNTER_BITS
        # words: once it holds 2**COUNTER_BITS, checked after)
        full = 1 << COUNTER_BITS
        starts = [full - n if n <= full else 0 for n in self._needs]
        counters = tuple(_bit_set([k for k, v in enumerate(starts) if v >> bit & 1], self._n_titles)
                         for bit in range(COUNTER_BITS)) + (0,)
        self._lanes_unsure = _bit_set([p for p, k in enumerate(self._index) if self._needs[k] > full], self._n_titles)
        return lanes, frozenset(lanes), rare, counters

    def _make_pairs(self) -> tuple:
        single: dict[str, list[int]] = defaultdict(list)
        pairs: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        words = self._by_rarity
        for k, ranks in enumerate(self._prefixes):
            pre = [words[i] for i in ranks]
            if len(pre) == 1 and self._needs[k] == 1:
                single[pre[0]].append(k)
                continue
            for a, b in combinations(pre, 2):      # a: the rarer
                pairs[a][b].append(k)
        # A title's signature: one bit per word (the most common words each their own bit).
        # When its words have distinct bits, an entry holding ``n`` of them has ``n`` bits of
        # its own signature in common with the title's: fewer than ``_need`` rule the title
        # out without comparing their words (0: words sharing a bit, always compared).
        one = [1 << i for i in range(_SIG_BITS)]
        bit = {w: one[i % _SIG_BITS] for i, w in enumerate(reversed(self._by_rarity))}
        sigs = []
        for tk in self._title_tokens:
            sig = 0
            for w in tk:
                sig |= bit[w]
            sigs.append(sig if sig.bit_count() == len(tk) else 0)
        # (most pairs name one title: its index, not a tuple of one)
        return ({w: tuple(ks) for w, ks in single.items()},
                {a: {b: ks[0] if len(ks) == 1 else tuple(ks) for b, ks in m.items()} for a, m in pairs.items()},
                bit, sigs, frozenset(pairs))

    def _paired(self, held: frozenset, toks: frozenset) -> list[tuple[float, int]]:
        """``(-share of its words held, title)`` of the titles of which ``held`` holds ``_need``
        words, found through the pairs of rare words (``toks``: the pair words held): a title
        is indexed under pairs of its rarest words, just enough of them that an entry holding
        ``_need`` of its words holds one of the pairs (a one-word title under its word)."""
        if self._pairs is None:
            self._pairs = self._make_pairs()
        single, pairs, bit, sigs, firsts = self._pairs
        seen: set[int] = set()
        if single:
            for w in single.keys() & toks:
                seen.update(single[w])
        add, update = seen.add, seen.update
        for w in toks & firsts:                      # the rarer word of a pair
            partners = pairs[w]
            for u in partners.keys() & toks:
                ks = partners[u]
                if ks.__class__ is int:
                    add(ks)
                else:
                    update(ks)
        tokens, needs, sizes = self._title_tokens, self._needs, self._title_sizes
        if len(seen) > 16:
            sig = 0
            for w in held:
                sig |= bit[w]
            return [(-n / sizes[k], k) for k in seen if (not (s := sigs[k]) or (s & sig).bit_count() >= needs[k])
                    and (n := len(tokens[k] & held)) >= needs[k]]
        return [(-n / sizes[k], k) for k in seen if (n := len(tokens[k] & held)) >= needs[k]]

    def _counted(self, held: frozenset) -> set[int]:
        """The titles of which ``held`` holds ``_need`` common words, counted for all titles at
        once: each title has a counter of :data:`COUNTER_BITS` bits (and a top bit), kept as
        one big integer per bit of the counters (bit ``k``: title ``k``'s), starting at
        ``2**COUNTER_BITS - need``; each common word held adds its bit set (a 1 for every title
        holding it) to all counters with a few bitwise operations, and the titles whose top bit
        is set hold enough of them. With them the titles of the rare words held (a title may
        need one of them too): all those it holds ``_need`` words of, and others."""
        if self._lanes is None:
            self._lanes = self._make_lanes()
        top, found = self._counted_parts(held)
        if top:     # (one int object per title, not one per entry)
            found.update(map(self._index.__getitem__, _bits_of(top)))
        return found

    def _counted_parts(self, held: frozenset) -> tuple[int, set[int]]:
        """:meth:`_counted`'s two parts (its lanes made): the top bits of the counters after
        the common words held are added (bit ``k``: title ``k`` holds enough of them), and the
        titles of the rare words held."""
        lanes, lane_words, rare, counters = self._lanes
        common = held & lane_words
        top = _add_bit_sets(counters, [lanes[w] for w in common]) if common else 0
        more: set[int] = set()
        for w in held.difference(lane_words):
            ks = rare.get(w)
            if ks is not None:
                more.update(ks)
        return top, more

    def _score(self, q: _Query, t: _Title) -> tuple[float, str]:
        """The best similarity of a library title with the entry, and how it was found:
        ``title`` (the title field or a run of pieces) or ``start`` (the library title is the
        start of a run). A score under the lower of ``threshold`` and ``short_threshold`` never
        counts: it may be given as 0."""
        fuzz = self._fuzz
        best = 0.0
        if len(q.title) >= 8 or (q.title and not q.text):
            cut = self._low
            best = max(fuzz.ratio(q.title, t.norm, score_cutoff=cut),
                       fuzz.token_sort_ratio(q.title, t.norm, score_cutoff=cut))
        if best >= self.strict:
            return best, "title"
        squashed = t.squashed
        runs = q.runs()
        if len(runs) == 1:          # a title field alone: extractOne's answer, without its cost
            got = fuzz.ratio(squashed, runs[0], score_cutoff=self.threshold)
            if got > best:
                best = got
        else:
            got = self._process.extractOne(squashed, runs, scorer=fuzz.ratio, score_cutoff=self.threshold)
            if got is not None and got[1] > best:
                best = got[1]
        if best >= self.threshold or t.main or t.words < 5:
            return best, "title"
        # the library title may be cut short (bad metadata): is it the start of a run?
        heads = [h for h in ("".join(w[:t.words]) for w in q.word_runs() if len(w) > t.words) if h]
        got = self._process.extractOne(squashed, heads, scorer=fuzz.ratio, score_cutoff=self.short_threshold)
        return (got[1], "start") if got is not None else (best, "title")

    def match_reference(self, ref: Reference) -> tuple[str, float] | None:
        """``(library id, score)`` of the paper a reference entry cites, or ``None``: what the
        citation graph links and what a hover shows. ``score`` is 100 for a DOI or arXiv id,
        else the title similarity (0–100). ``ref`` is an entry as the parser gives it (its DOI
        and arXiv id already read from its text; :meth:`match` takes raw text)."""
        return self.match_and_candidates(ref)[0]

    def match_and_candidates(self, ref: Reference) -> tuple[tuple[str, float] | None, bool]:
        """:meth:`match_reference`'s answer, and whether the entry's text might change it
        (:meth:`could_match`): read without its text (a title field alone), a library title came
        close enough that the surnames and year would decide."""
        ref = Reference.coerce(ref)
        if not self.entries:
            return None, False
        same = self._ids.find_by_id(ref.doi, ref.arxiv) if ref.doi or ref.arxiv else None
        if same is not None:
            return (self.entries[same].id, 100.0), False
        if not ref.text:
            return self._match_field(ref)
        q = self._query(ref)
        if q is None:
            return None, False
        found: list[tuple[float, int, _Title]] = []   # (score, kind rank, title) accepted
        low = min(self.threshold, self.short_threshold)
        wants = False
        for k in self._with_exact(self._candidates(q), q.title):
            t = self._titles[k]
            if self._year(t.paper, q) < 0:
                continue                     # cheap refusals first: most candidates end here
            if (t.main or t.words < self.min_partial_words) and self._author(t.paper, q) <= 0:
                if not q.text and not wants:     # would the entry's authors decide?
                    wants = self._score(q, t)[0] >= self.short_threshold
                continue
            score, kind = self._score(q, t)
            if score >= low:
                if self._accepted(q, t, score, kind):
                    found.append((score, int(kind == "title" and not t.main), t))
                elif not q.text:
                    wants = True
        return self._choose(found, q.title), wants

    # --- a title field alone (what the index keeps of an entry: the citation graph) ---------------
    #
    # The same decisions as above, in two steps: what depends on the title field only (its
    # candidates, their scores and whether a surname is in the field) is computed once per
    # distinct normalised field, for a library's reference lists repeat the titles of popular
    # papers; the year and arXiv id are then checked per entry. A candidate whose title length
    # alone keeps its score under what would count (the similarities are normalised edit
    # distances: a length difference bounds them) is not compared in Python: rapidfuzz's
    # cutoffs pass over it (more than two candidates), or _may_score rules it out.

    def field_hits(self, raw: str) -> tuple:
        """The candidates of a title field alone whose score may count (``(title index, score,
        kind, author)``), whatever its entry's DOI, arXiv id, year and authors: empty when it
        cannot match (most entries of a library cite papers outside it; the citation graph
        passes over them with this one lookup).

        A field that is exactly one library paper's whole title (normalised) has that title's
        hits alone (its forms with hyphens joined and split), scored 100 (:class:`_ExactHits`):
        an exact title wins over its near twins (:meth:`_choose`), and the titles close to it
        are compared only when the entry's evidence refuses it (:meth:`_decide`). Most entries
        naming a library paper name it so."""
        hits = self._field_memo.get(raw)
        if hits is None:
            if len(self._field_memo) > 200_000:
                self._field_memo.clear()
                self._norm_memo.clear()
                self._all_memo.clear()
                self._ev_need.clear()      # keyed by ids of the hits forgotten here
                self._decided.clear()
            norm, split = _field_forms(raw)
            key: object = (norm, split) if split else norm
            hits = self._norm_memo.get(key)
            if hits is None:
                ks = self._exact.get(norm)
                hits = self._norm_memo[key] = self._field_hits(norm, split) if ks is None \
                    else self._exact_hits(norm, ks)
            self._field_memo[raw] = hits
        return hits

    def _exact_hits(self, norm: str, ks: tuple[int, ...]) -> _ExactHits:
        """The hits of a title field ``norm`` that is the title ``ks`` are (one paper's)."""
        q = _Query("", norm, "", "", frozenset())
        return _ExactHits((k, 100.0, "title", self._author(self._titles[k].paper, q)) for k in ks)

    def _all_hits(self, raw: str) -> tuple:
        """:meth:`field_hits` of a title field compared with every library title close to it,
        also when it is exactly one of them."""
        norm, split = _field_forms(raw)
        key: object = (norm, split) if split else norm
        hits = self._all_memo.get(key)
        if hits is None:
            hits = self._all_memo[key] = self._field_hits(norm, split)
        return hits

    def forget_entries(self) -> None:
        """Let go of what was remembered of single entries (their evidence and answers) and of
        candidate sets and normalised fields, keeping the title fields' hits (:attr:`field_memo`):
        the citation graph calls this once it is built, and the next update starts from the
        fields' hits."""
        self._norm_memo.clear()
        self._all_memo.clear()
        self._decided.clear()
        self._ev_need.clear()
        self._cands_memo.clear()
        self._after_memo.clear()
        self._forms_memo.clear()

    @property
    def field_memo(self) -> dict[str, tuple]:
        """:meth:`field_hits` answers so far, by title field (read it, never write it)."""
        return self._field_memo

    def match_field(self, ref: Reference, hits: tuple) -> tuple[str, float] | None:
        """:meth:`match_reference` for an entry without text, given its title field's
        :meth:`field_hits` (the citation graph looks them up first)."""
        return self._decide(ref, hits)[0] if hits else None

    def _match_field(self, ref: Reference) -> tuple[tuple[str, float] | None, bool]:
        return self._decide(ref, self.field_hits(ref.title or ""))

    def _decide(self, ref: Reference, hits: tuple) -> tuple[tuple[str, float] | None, bool]:
        """The answer for an entry without text from its title field's hits, and whether the
        entry's text might change it (see :meth:`match_and_candidates`)."""
        if not hits:
            return None, False
        if ref.authors is not None and ref.after and self._names_a_title(ref.after):
            # the text after the title names a library title too (two entries run together): the
            # entry is decided as its text is (an ambiguous entry links nothing)
            return self._as_text(ref), False
        # the answer depends on the hits, the year(s), the arXiv id, and the author list only when
        # a hit needs a surname the title field lacks: popular papers' entries repeat it
        need = self._ev_need.get(id(hits))
        if need is None and self._starts and _field_forms(ref.title or "")[0] in self._starts:
            need = self._ev_need[id(hits)] = _PREFIX
        if need is _PREFIX:
            if ref.authors is not None and ref.after:
                # the field is exactly the start of a longer library title: does the text after
                # it (``. Part II``) go on with it? Decided as the entry's text is
                return self._as_text(ref), False
            need = True
        if need is None:
            titles, short, strict = self._titles, self.min_partial_words, self.strict
            need = self._ev_need[id(hits)] = any(
                author < 0 and (kind != "title" or titles[k].main or titles[k].words < short or score < strict)
                for k, score, kind, author in hits)
        key = (id(hits), ref.year, ref.years, ref.arxiv, ref.authors if need else ref.authors is None)
        got = self._decided.get(key)
        if got is None:
            if len(self._decided) > 200_000:
                self._decided.clear()
            got = self._decided[key] = self._decide_entry(ref, hits)
        if got[0] is None and hits.__class__ is _ExactHits:
            # the exact title refused by the entry's evidence (another year, no surname for a
            # short title): decided on every title close to the field, as other entries are
            return self._decide(ref, self._all_hits(ref.title or ""))
        if got[0] is None and got[1] and ref.authors is not None:
            # a library title came close but the title field alone did not decide (a title
            # field cut from the author list: ``Name: the rest`` with ``Name:`` among the
            # authors): the entry is decided as its text is, put together from what was kept
            return self._as_text(ref), False
        return got[0], got[1] and ref.authors is None

    def _as_text(self, ref: Reference) -> tuple[str, float] | None:
        """:meth:`match_reference` of an entry kept without its text, on its text put together
        from its evidence (the text before, the title, the text after)."""
        after = ref.after or ""
        text = f"{ref.authors} {ref.title}{'' if after[:1] in '.,;:' else ' '}{after}".strip()
        return self.match_and_candidates(Reference(ref.label, text=text, title=ref.title, doi=ref.doi,
                                                   arxiv=ref.arxiv, year=ref.year))[0]

    def _names_a_title(self, after: str) -> bool:
        """Whether the text after an entry's title holds most words of a library title (venues
        repeat: remembered)."""
        got = self._after_memo.get(after)
        if got is None:
            if len(self._after_memo) > 200_000:
                self._after_memo.clear()
            toks = frozenset(norm_title(after).split()) & self._title_words
            got = self._after_memo[after] = bool(toks and self._candidates_of(toks))
        return got

    def _decide_entry(self, ref: Reference, hits: tuple) -> tuple[tuple[str, float] | None, bool]:
        y = ref.year or ""
        years = [int(y[:4])] if y[:4].isdigit() else []
        if ref.years:
            years += [int(v[:4]) for v in ref.years.split() if v[:4].isdigit()]
        arxiv = norm_arxiv(ref.arxiv) if ref.arxiv else ""
        found: list[tuple[float, int, _Title]] = []
        wants = False
        titles, short = self._titles, self.min_partial_words
        evidence = ref.authors            # the author list the index kept (None: not kept)
        padded: Optional[tuple[str, str]] = None
        for k, score, kind, author in hits:
            t = titles[k]
            year = self._year_in(t.paper, years)
            if year < 0:
                # another paper, or the title field is not the whole title (``Name: the rest``,
                # ``Name:`` read as an author): the entry's text may name this one
                wants = wants or evidence is not None
                continue
            if author < 0 and evidence and (kind != "title" or t.main or t.words < short or score < self.strict):
                # a surname not in the title field, and it would decide: in the author list?
                if padded is None:
                    padded = (f" {norm_title(evidence)} ", f" {norm_words(evidence)} ")
                author = self._author_in(t.paper, padded)
            if (t.main or t.words < short) and author <= 0:
                wants = wants or score >= self.short_threshold
                continue
            if self._accept(t, score, kind, author, year, arxiv):
                found.append((score, int(kind == "title" and not t.main), t))
            else:
                wants = True
        return self._choose(found, _field_forms(ref.title or "")[0] if len(found) > 1 else ""), wants

    def _field_hits(self, norm: str, split: str) -> tuple:
        """``(title index, score, kind, author)`` of the candidates of a title field alone whose
        score may count (see :meth:`match_and_candidates`), whatever the entry's year: ``norm``
        the field normalised, ``split`` its words with hyphens split (:func:`norm_words`; empty
        when it has none)."""
        if not norm:
            return ()
        words = norm.split() + split.split() if split else norm.split()
        held = self._title_words.intersection(words)
        cands, ordered = self._field_candidates(held)
        if not cands:
            return ()
        if ordered:         # (cut after ``candidates``; in no order: all of them)
            cands = self._with_exact(cands, norm)
        q = _Query("", norm, "", "", frozenset(words))
        squashed = norm.replace(" ", "")       # its one run (see _Query.runs), made here
        q._runs = [squashed] if len(squashed) <= _MAX_RUN_CHARS else []
        low = self._low
        # the scores that may count (``low`` or more), by the candidate's place in ``ks``: one
        # call of each comparison for them all when there are more than two (their cutoffs pass over the
        # many candidates a length alone rules out, in C), else each candidate whose lengths
        # may score ``low`` compared
        ks = cands if cands.__class__ is tuple else list(cands)
        titles = self._titles
        if len(ks) > 2:
            over = sorted(self._scores(q, ks).items())
        else:
            over = [(i, got) for i, k in enumerate(ks)
                    if self._may_score(titles[k], norm, squashed) and (got := self._score(q, titles[k]))[0] >= low]
        if not over:
            return ()
        hits = []
        short, n_len, s_len = self.short_threshold, len(norm), len(squashed)
        for i, (score, kind) in over:
            k = ks[i]
            t = titles[k]
            author = self._author(t.paper, q)
            if (t.main or t.words < self.min_partial_words) and author <= 0:
                # a title that needs a surname to count with a score under ``short_threshold``,
                # or whose whole lengths keep each comparison between ``_low`` and it (the
                # shorter length's share of both); under ``_low``, it came in as the start of
                # the field (a "start" hit, whose own length check is in _scores)
                if score < short:
                    continue
                if low <= _reach(t, n_len, s_len) + 1e-9 < short:
                    continue
            hits.append((k, score, kind, author))
        if not ordered and len(hits) > 1:
            # in the candidates' order (see _find_candidates): the most covered first
            tokens, sizes = self._title_tokens, self._title_sizes
            hits.sort(key=lambda h: (-len(tokens[h[0]] & held) / sizes[h[0]], h[0]))
        return tuple(hits)

    def _may_score(self, t: _Title, norm: str, squashed: str) -> bool:
        """Whether the lengths of library title ``t`` and of a title field (``norm``, and
        without spaces) let a comparison of :meth:`_score` reach ``_low`` (the shorter length's
        share of both bounds each), or the title may be the field's start."""
        if _reach(t, len(norm), len(squashed)) + 1e-9 >= self._low:
            return True
        w = t.words
        if t.main or w < 5 or norm.count(" ") + 1 <= w:
            return False
        b = len(t.norm) - w + 1                   # the title without spaces
        h = sum(map(len, norm.split()[:w]))       # the field's first w words, spaces removed
        return 200.0 * min(b, h) / (b + h) + 1e-9 >= self.short_threshold

    def _field_candidates(self, held: frozenset) -> tuple[Iterable[int], bool]:
        """The candidates of a title field holding the words ``held`` (:meth:`_candidates_of`)
        and whether they are in order: a field with :attr:`candidates` candidates at most, counted
        (:meth:`_counted`), has them all, in no order (its hits are put in order, see
        :meth:`_field_hits`): the share of each title's words held, the order of the
        candidates and the cut after :attr:`candidates` of them, are not needed for the many
        titles a length rules out."""
        key = tuple(sorted(held))
        got = self._cands_memo.get(key)
        if got is not None:
            return got, True
        toks = held & self._fan_words
        if not toks or self._lanes is None or self._pairs_cheaper(held, toks):
            return self._candidates_of(held), True
        top, more = self._counted_parts(held)
        tokens, needs = self._title_tokens, self._needs
        found = set(map(self._index.__getitem__, _bits_of(top))) if top else set()
        if len(found) + len(more) > self.candidates:
            # some may be cut off: the first, in order (what _candidates_of gives, remembered)
            return self._remember_candidates(key, self._first(self._covered(found | more, held))), True
        if top & self._lanes_unsure:
            # titles needing more words than a counter counts: their top bits set at 2**COUNTER_BITS
            found = {k for k in found if needs[k] <= 1 << COUNTER_BITS or len(tokens[k] & held) >= needs[k]}
        found.update(k for k in more.difference(found) if len(tokens[k] & held) >= needs[k])
        return found, False

    def _scores(self, q: _Query, ks: list[int]) -> dict[int, tuple[float, str]]:
        """:meth:`_score` of a title field alone (``q``) with each of the titles ``ks`` whose
        score may count (``_low`` or more), by their place in ``ks``: each comparison made for
        all of them by one call (``token_sort_ratio`` is ``ratio`` of the words sorted: a
        library title's are sorted once)."""
        ratio, extract, low, strict = self._fuzz.ratio, self._process.extract, self._low, self.strict
        norm = q.title
        get = self._forms_memo.get
        norms, sorts, squashed, starts = zip(*[get(k) or self._forms(k) for k in ks])
        # (the few scores over the cutoff given, not one per title)
        best = {i: score for _, score, i in extract(norm, norms, scorer=ratio, score_cutoff=low, limit=None)}
        for _, score, i in extract(" ".join(sorted(norm.split())), sorts, scorer=ratio,
                                   score_cutoff=low, limit=None):
            if score > best.get(i, 0.0):
                best[i] = score
        runs = q.runs()          # the field without spaces (none when too long)
        threshold = self.threshold
        if len(runs) == 1:
            for _, score, i in extract(runs[0], squashed, scorer=ratio, score_cutoff=threshold, limit=None):
                had = best.get(i, 0.0)
                if had < strict and score > had:
                    best[i] = score
        out = {i: (b, "title") for i, b in best.items()}
        short = self.short_threshold
        words: Optional[list[str]] = None
        heads: list[int] = []
        for i in compress(range(len(starts)), starts):     # the titles that may be the start of the field
            if best.get(i, 0.0) >= threshold:
                continue
            sq, n_words = squashed[i], starts[i]
            # the library title may be cut short (bad metadata): is it the start of the field?
            if words is None:
                words = norm.split()
                heads = list(accumulate(map(len, words)))    # the first j words' length
            if len(words) > n_words:
                n, h = len(sq), heads[n_words - 1]
                if 200.0 * min(n, h) / (n + h) + 1e-9 >= short:    # else the lengths alone say no
                    got = ratio(sq, "".join(words[:n_words]), score_cutoff=short)
                    if got >= short:
                        out[i] = (got, "start")
        return out

    def _forms(self, k: int) -> tuple[str, str, str, int]:
        """Library title ``k`` as :meth:`_scores` compares it: normalised, its words sorted,
        without spaces, and its number of words when it may be found as the start of a field (a
        whole title of 5 words or more; else 0). Remembered during a build: a title is the
        candidate of many fields."""
        t = self._titles[k]
        norm = t.norm
        start = 0 if t.main or t.words < 5 else t.words
        got = self._forms_memo[k] = (norm, " ".join(sorted(norm.split())), norm.replace(" ", ""), start)
        return got

    def _year_in(self, i: int, years: list[int]) -> int:
        """:meth:`_year` for an entry's years given."""
        ly = self._years[i]
        if self.year_tolerance is None or ly is None or not years:
            return 0
        return 1 if any(abs(ly - y) <= self.year_tolerance for y in years) else -1

    def could_match(self, ref: Reference) -> bool:
        """Whether an entry read without its text (a title field alone) may match with its text:
        a library title came close, and the surnames and year would decide."""
        return self.match_and_candidates(ref)[1]

    def _choose(self, found: list[tuple[float, int, _Title]], exact: str = "") -> tuple[str, float] | None:
        """The one paper of the best matches, or None when two papers match as well: among the
        matches of the best kind within ``margin`` of the best score, the one paper whose whole
        title is the entry's title ``exact`` (normalised) wins when the others are near twins
        of it (:meth:`_close`; :meth:`field_hits` gives such a title field no other hits); else
        a title inside another one's (``Paxos Made Live`` in ``Paxos made live: an engineering
        perspective``) gives way to it, and the same title twice in the library is one paper
        (the first)."""
        if not found:
            return None
        if len(found) == 1:          # (most entries that match: one title)
            score, _, t = found[0]
            return self.entries[t.paper].id, float(round(score, 2))
        rank = max(f[1] for f in found)
        top = max(f[0] for f in found if f[1] == rank)
        group = sorted((f for f in found if f[1] == rank and f[0] >= top - self.margin),
                       key=lambda f: (-f[0], f[2].paper))
        if exact in self._exact:
            for score, _, t in group:
                if t.norm == exact and not t.main:
                    # over its near twins only: a title found elsewhere in the entry's text (two
                    # entries run together) is another paper named
                    if all(f[2].paper == t.paper or self._close(exact, f[2].norm) for f in group):
                        return self.entries[t.paper].id, float(round(score, 2))
                    break
        norms = {f[2].norm for f in group}
        left = [f for f in group if not any(f[2].norm != o and f[2].norm in o for o in norms)]
        if len({f[2].norm for f in left}) != 1:
            return None
        score, _, t = left[0]
        return self.entries[t.paper].id, float(round(score, 2))

    def _close(self, a: str, b: str) -> bool:
        """Whether two normalised titles are near twins, as close as the best match of a title
        field and another within ``margin`` of it can be: ``ratio``, ``token_sort_ratio`` or
        ``ratio`` without spaces of ``100 - margin`` or more (words in another order, a split
        word, a letter more in a title of 50 characters or more)."""
        fuzz, cut = self._fuzz, 100.0 - self.margin
        return fuzz.ratio(a, b, score_cutoff=cut) > 0 or fuzz.token_sort_ratio(a, b, score_cutoff=cut) > 0 \
            or fuzz.ratio(_squash(a), _squash(b), score_cutoff=cut) > 0

    def match(self, entry_text: str) -> tuple[str, float] | None:
        """``(library id, score)`` of the paper ``entry_text`` (one entry, raw lines welcome)
        cites, or ``None``; see :meth:`match_reference`."""
        if not isinstance(entry_text, str) or not entry_text.strip():
            return None
        text = _finish_text(_join_pieces(entry_text.split("\n")))
        if not text:
            return None
        doi, arxiv = extract_ids(text)
        return self.match_reference(Reference(label="", text=text, doi=doi, arxiv=arxiv))

    def match_all(self, entries: Iterable[Reference]) -> dict[str, tuple[str, float]]:
        """``{label: (library id, score)}`` for the entries that match."""
        out = {}
        for r in entries:
            m = self.match_reference(r)
            if m is not None:
                out[r.label] = m
        return out
