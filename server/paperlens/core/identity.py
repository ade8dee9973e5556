"""When two records are the same paper: DOI, arXiv id and title normalisation, in one place.

The rule, used by the index's joins (a full text and its bibliography entry,
:mod:`paperlens.core.joins`), by the citation graph (a reference-list entry and a library paper,
:mod:`paperlens.core.library`) and by the reference matcher (:mod:`paperlens.core.references`):

1. the same DOI, normalised (:func:`norm_doi`: lower case, no ``https://doi.org/`` or ``doi:``);
2. else the same arXiv id, version aside (:func:`norm_arxiv`); an arXiv DOI
   (``10.48550/arXiv.1706.03762``) stands for its arXiv id too;
3. else the same title, normalised (:func:`norm_title`), when it has at least
   :data:`TITLE_MIN_WORDS` words: shorter titles are shared by different papers ("Point
   Transformer", "Sagas") and count only with more evidence (the joins: unique on both sides;
   the matcher: a surname of the authors).

:class:`PaperKeys` is that rule as a lookup table: papers are added once, then each record is
looked up by its DOI, arXiv id and title (the first paper added under a key keeps it).

:func:`norm_words` is another normalisation, for finding a title inside running text (a page's
head, a file name): it splits at hyphens, so a word hyphenated at a line end still matches.
Pure Python, no imports beyond the standard library.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Generic, Optional, TypeVar

__all__ = ["TITLE_MIN_WORDS", "norm_doi", "norm_arxiv", "arxiv_of_doi", "norm_title", "title_key",
           "norm_words", "fold", "same_paper", "PaperKeys"]

TITLE_MIN_WORDS = 4

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)")
_ARXIV_PREFIX = re.compile(r"^(?:arxiv:\s*|https?://arxiv\.org/(?:abs|pdf)/)")
_ARXIV_VERSION = re.compile(r"v\d+$")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$")


def norm_doi(doi: str) -> str:
    """``10.1145/3368089``: lower case, without a resolver prefix or a trailing full stop."""
    d = (doi or "").strip().lower()
    return _DOI_PREFIX.sub("", d).rstrip(".")


def norm_arxiv(arxiv: str) -> str:
    """``1706.03762`` / ``cs/0112017``: lower case, without ``arXiv:``, URL or version."""
    a = (arxiv or "").strip().lower()
    return _ARXIV_VERSION.sub("", _ARXIV_PREFIX.sub("", a))


def arxiv_of_doi(doi: str) -> str:
    """The arXiv id an arXiv DOI (``10.48550/arXiv.2106.12790``) names, normalised; else ``""``."""
    m = _ARXIV_DOI.match(norm_doi(doi))
    return norm_arxiv(m.group(1)) if m else ""


_APOSTROPHES = str.maketrans({"'": "", "’": "", "‘": "", "`": "", "´": ""})
_HYPHENS = str.maketrans({"-": "", "‐": "", "‑": "", "‒": "", "–": "", "—": "", "−": ""})
_NON_WORD = re.compile(r"[^\w]+|_")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def _no_marks(run: re.Match) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def _without_marks(text: str) -> str:
    """``text`` without its combining marks (accents once NFKD has split them off): only its
    runs of characters that are not ASCII are looked at (an ASCII character is never one), a
    few characters of a name or title with accents instead of all."""
    return _NOT_ASCII.sub(_no_marks, text)


def norm_title(title: str) -> str:
    """Lower case, accents folded, ligatures expanded, hyphens joined (``Spatio-temporal`` ->
    ``spatiotemporal``, so both hyphenation choices agree), other punctuation -> space."""
    if not title:
        return ""
    if title.isascii():        # nothing to fold (most titles): 10x faster for the citation graph
        s = title.lower().replace("&", " and ").replace("'", "").replace("`", "").replace("-", "")
    else:
        s = _without_marks(unicodedata.normalize("NFKD", title)).casefold()
        s = s.replace("&", " and ").translate(_APOSTROPHES).translate(_HYPHENS)
    s = _NON_WORD.sub(" ", s)
    return " ".join(s.split())


@lru_cache(maxsize=1 << 16)    # a library's references repeat titles: 275k references, 11k titles
def title_key(title: str) -> str:
    """:func:`norm_title` when it is evidence of the paper on its own (at least
    :data:`TITLE_MIN_WORDS` words), else ``""``."""
    t = norm_title(title)
    return t if t.count(" ") + 1 >= TITLE_MIN_WORDS else ""


def fold(text: str) -> str:
    """Lower case without accents."""
    if text.isascii():
        return text.lower()
    return _without_marks(unicodedata.normalize("NFKD", text.lower()))


_WORD = re.compile(r"[^\W_]+")


def norm_words(text: str) -> str:
    """Lowercase words without accents or punctuation, one space apart (hyphens split words)."""
    return " ".join(_WORD.findall(fold(text or "").replace("’", "'").replace("'", "")))


def _arxiv_ids(doi: str, arxiv: str) -> tuple[str, ...]:
    """The arXiv ids of a record: its own, and the one its (normalised) DOI names."""
    own, named = norm_arxiv(arxiv), arxiv_of_doi(doi)
    return tuple(a for a in (own, named if named != own else "") if a)


def same_paper(a, b) -> bool:
    """Whether two records (anything with ``doi``, ``arxiv`` and ``title``) are one paper: they
    share a DOI, an arXiv id or a title key (what :meth:`PaperKeys.find` looks up)."""
    keys: PaperKeys[bool] = PaperKeys()
    keys.add(True, a.doi, a.arxiv, a.title)
    return keys.find(b.doi, b.arxiv, b.title) is not None


T = TypeVar("T")


class PaperKeys(Generic[T]):
    """Papers (any value) by their normalised DOI, arXiv id and title key.

    ``add`` registers a paper under every key it has; the first paper added under a key keeps
    it. ``find`` looks a record up by DOI, then arXiv id, then title (:func:`title_key`)."""

    def __init__(self) -> None:
        self.by_doi: dict[str, T] = {}
        self.by_arxiv: dict[str, T] = {}
        self.by_title: dict[str, T] = {}

    def add(self, value: T, doi: str = "", arxiv: str = "", title: str = "") -> None:
        d = norm_doi(doi)
        if d:
            self.by_doi.setdefault(d, value)
        for a in _arxiv_ids(d, arxiv):
            self.by_arxiv.setdefault(a, value)
        if t := title_key(title):
            self.by_title.setdefault(t, value)

    def find_by_id(self, doi: str = "", arxiv: str = "") -> Optional[T]:
        """The paper with this DOI, else with this arXiv id (an arXiv DOI counts as one)."""
        d = norm_doi(doi)
        found = self.by_doi.get(d) if d else None
        for a in _arxiv_ids(d, arxiv) if found is None else ():
            found = self.by_arxiv.get(a)
            if found is not None:
                break
        return found

    def find_by_title(self, title: str) -> Optional[T]:
        t = title_key(title)
        return self.by_title.get(t) if t else None

    def find(self, doi: str = "", arxiv: str = "", title: str = "") -> Optional[T]:
        found = self.find_by_id(doi, arxiv)
        return found if found is not None else self.find_by_title(title)
