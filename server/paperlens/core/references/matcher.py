"""Which library paper a reference entry cites: by DOI or arXiv id (:mod:`paperlens.core.identity`),
else by title similarity (``rapidfuzz``) on candidates from an index of rare title words."""
from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional

from paperlens.core.identity import PaperKeys, norm_arxiv, norm_title
from paperlens.core.models import Reference
from paperlens.core.references.entries import _finish_text, _join_pieces
from paperlens.core.references.fields import (
    _LEADING_LABEL,
    _TRAILING_YEAR,
    extract_ids,
    extract_title,
    extract_years,
)

__all__ = ["LibraryEntry", "ReferenceMatcher"]


@dataclass
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
    return [t for t in norm.split() if t not in _STOP and (len(t) > 1 or t.isdigit())]


_AFTER_YEAR = re.compile(r"^.*(?:\b(?:19|20)\d\d[a-z]?\)?|\bet al\.?)[\s.:,]+(?=[A-Z\"“])(.{8,})$")


def _segments(entry: str) -> list[str]:
    """Sentence-like pieces of an entry (split at every ``. ``, ``? ``, ``! `` and quotes),
    normalised, with a trailing ``, 2018`` removed; plus adjacent pairs (titles with a ``.``),
    plus what follows a year or "et al" inside a piece (``Vaswani A et al 2017 Attention is
    all you need``)."""
    parts = re.split(r"(?<=[.?!])[\"”’)]*\s+|[\"“”]", entry)
    segs = []
    extra = []
    for p in parts:
        p = _TRAILING_YEAR.sub("", p.strip().rstrip(".,;:")).strip()
        n = norm_title(p)
        if n:
            segs.append(n)
            m = _AFTER_YEAR.match(p)
            if m:
                extra.append(norm_title(m.group(1)))
    out = list(segs)
    out.extend(f"{a} {b}" for a, b in zip(segs, segs[1:]))
    out.extend(e for e in extra if e)
    return out


class ReferenceMatcher:
    """Find the library paper a reference entry cites.

    Built once from the library (10k entries index in well under a second). :meth:`match`
    tries, in order: the entry's DOI, its arXiv id, then title similarity. Title similarity is
    ``max(fuzz.ratio, fuzz.token_sort_ratio)`` on normalised titles between the entry's
    extracted title and library titles; as a fallback, library titles of at least
    ``min_partial_words`` words are compared with every sentence (and pair of adjacent
    sentences) of the entry, so that a title is found even when the author list could not be
    told from it, but never *inside* a longer title (plain ``fuzz.partial_ratio`` would find
    "Attention is all you need" in "Attention is all you need in speech separation").
    Candidates come from an inverted index on the rarest title words: a handful of rapidfuzz
    calls per entry, whatever the library size.

    Precision first: a title score of ``strict`` or more is a match; a score from ``threshold``
    (``partial_threshold`` for the fallback) up to ``strict``, and any match of a title shorter
    than ``min_partial_words`` words, is one only when a surname of the library paper occurs in
    the entry (or the library paper has no authors) — one word more or less in a title is often
    another paper by other people, and short titles are shared ("Point Transformer"). When both
    sides have a year they must agree within ``year_tolerance``; when both have an arXiv id they
    must be the same.
    """

    def __init__(self, entries: Iterable[LibraryEntry], threshold: float = 88.0,
                 partial_threshold: float = 92.0, strict: float = 97.0,
                 year_tolerance: int | None = 1, min_partial_words: int = 4, candidates: int = 25):
        from rapidfuzz import fuzz  # imported here so the rest of the module works without it

        self._fuzz = fuzz
        self.entries: list[LibraryEntry] = list(entries)
        self.threshold = threshold
        self.partial_threshold = partial_threshold
        self.strict = strict
        self.year_tolerance = year_tolerance
        self.min_partial_words = min_partial_words
        self.candidates = candidates
        self._ids: PaperKeys[int] = PaperKeys()      # the entries by DOI and arXiv id
        self._norm: list[str] = []
        self._toks: list[frozenset[str]] = []
        self._years: list[int | None] = []
        self._surnames: list[list[str]] = []
        post: dict[str, list[int]] = defaultdict(list)
        for i, e in enumerate(self.entries):
            self._ids.add(i, doi=e.doi, arxiv=e.arxiv)
            n = norm_title(e.title)
            self._norm.append(n)
            toks = frozenset(_tokens(n))
            self._toks.append(toks)
            for t in toks:
                post[t].append(i)
            y = re.match(r"\s*((?:1[5-9]|20)\d\d)", e.year or "")
            self._years.append(int(y.group(1)) if y else None)
            self._surnames.append([norm_title(s) for s in e.surnames if norm_title(s)])
        self._post: dict[str, list[int]] = dict(post)
        n_docs = max(1, len(self.entries))
        self._idf = {t: math.log(1 + n_docs / len(p)) for t, p in self._post.items()}

    # --- candidates ------------------------------------------------------------------------------

    def _rank(self, tokens: Iterable[str], rare: int) -> list[tuple[int, float]]:
        """Library entries sharing the rarest of ``tokens``, best first: summed idf of the shared
        rare words, ties broken by how close the entry's number of words is to the query's."""
        query = set(tokens)
        toks = [t for t in query if t in self._post]
        if not toks:
            return []
        toks.sort(key=lambda t: len(self._post[t]))
        scores: dict[int, float] = defaultdict(float)
        for t in toks[:rare]:
            w = self._idf[t]
            for i in self._post[t]:
                scores[i] += w
        n = len(query)
        toks_of = self._toks
        return heapq.nsmallest(self.candidates, scores.items(),
                               key=lambda kv: (-round(kv[1], 6), abs(len(toks_of[kv[0]]) - n)))

    def _authors_ok(self, i: int, padded_entry: str) -> bool:
        names = self._surnames[i]
        return not names or any(f" {n} " in padded_entry for n in names)

    def _year_ok(self, i: int, years: list[int]) -> bool:
        ly = self._years[i]
        if self.year_tolerance is None or ly is None or not years:
            return True
        return any(abs(ly - y) <= self.year_tolerance for y in years)

    # --- matching -------------------------------------------------------------------------------

    def match(self, entry_text: str) -> tuple[str, float] | None:
        """``(library id, score)`` of the paper ``entry_text`` cites, or ``None``.

        ``score`` is 100 for a DOI or arXiv match, else the title similarity (0–100).
        """
        if not isinstance(entry_text, str) or not entry_text.strip() or not self.entries:
            return None
        text = _finish_text(_join_pieces(entry_text.split("\n")))   # raw lines welcome
        doi, arxiv = extract_ids(text)
        same = self._ids.find_by_id(doi, arxiv)
        if same is not None:
            return self.entries[same].id, 100.0
        q = _Query(text, [int(y[:4]) for y in extract_years(text)], norm_arxiv(arxiv),
                   f" {norm_title(text)} ")
        best = self._by_title(q, None)
        if best is None or best[0] < 100:
            best = self._by_sentences(q, best)
        if best is None:
            return None
        return self.entries[best[1]].id, float(round(best[0], 2))

    def _allowed(self, q: "_Query", i: int, score: float) -> bool:
        """Years and arXiv ids agree; a near miss or a short title needs a surname."""
        if not self._year_ok(i, q.years):
            return False
        lib_arxiv = norm_arxiv(self.entries[i].arxiv)
        if q.arxiv and lib_arxiv and lib_arxiv != q.arxiv:
            return False
        if score >= self.strict and len(self._norm[i].split()) >= self.min_partial_words:
            return True
        # near misses, and short titles that other papers share ("Point Transformer")
        return self._authors_ok(i, q.padded)

    def _by_title(self, q: "_Query", best: Optional[tuple[float, int]]) -> Optional[tuple[float, int]]:
        """The best (score, entry index) comparing the entry's extracted title with library titles."""
        title = norm_title(extract_title(q.text))
        if not title or len(title) < 8:
            return best
        fuzz = self._fuzz
        for i, _ in self._rank(_tokens(title), rare=6):
            lib = self._norm[i]
            if not lib:
                continue
            score = max(fuzz.ratio(title, lib), fuzz.token_sort_ratio(title, lib))
            if score >= self.threshold and (best is None or score > best[0]) and self._allowed(q, i, score):
                best = (score, i)
        return best

    def _by_sentences(self, q: "_Query", best: Optional[tuple[float, int]]) -> Optional[tuple[float, int]]:
        """The best (score, entry index) comparing library titles of ``min_partial_words`` words or
        more with every sentence (and pair of sentences) of the entry."""
        segs = _segments(_LEADING_LABEL.sub("", q.text))
        entry_tokens = set(_tokens(" ".join(segs)))
        for i, _ in self._rank(entry_tokens, rare=10):
            lib = self._norm[i]
            if len(lib.split()) < self.min_partial_words:
                continue
            toks = self._toks[i]
            covered = sum(self._idf[t] for t in toks if t in entry_tokens)
            total = sum(self._idf[t] for t in toks) or 1.0
            if covered / total < 0.75:
                continue
            score = max((self._fuzz.ratio(lib, s, score_cutoff=self.partial_threshold) for s in segs),
                        default=0.0)
            if score >= self.partial_threshold and (best is None or score > best[0]) and self._allowed(q, i, score):
                best = (score, i)
        return best

    def match_all(self, entries: Iterable[Reference]) -> dict[str, tuple[str, float]]:
        """``{label: (library id, score)}`` for the entries that match."""
        out = {}
        for r in entries:
            m = self.match(r.text)
            if m is not None:
                out[r.label] = m
        return out


@dataclass
class _Query:
    """One entry being matched: its text, years, arXiv id, and normalised text padded with
    spaces (to find surnames as whole words)."""

    text: str
    years: list[int]
    arxiv: str
    padded: str
