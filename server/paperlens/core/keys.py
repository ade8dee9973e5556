"""Citation keys for papers that have no ``.bib`` entry: Better BibTeX's default
``auth.lower + year + shorttitle(1)`` form, e.g. ``vaswani2017attention``, unique in the library."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from paperlens.core.models import Paper, author_surname

STOP_WORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "from", "with", "and",
              "towards", "toward", "via", "is", "are", "at", "by"}


def ascii_fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())


def _title_words(title: str) -> list[str]:
    words = (_slug(w) for w in re.findall(r"[A-Za-z\u00C0-\u024F0-9]+", title))
    return [w for w in words if w and w not in STOP_WORDS]


def base_key(paper: Paper) -> str:
    """``surnameYEARfirstword`` in lowercase ASCII (Better BibTeX's default form).

    Without an author the key is never a bare word ('introduction', 'paper'): two title words
    and the year ('mathematicaltheory1948'), else the file's name; a key starts with a letter."""
    surname = ""
    if paper.authors:
        surname = _slug(author_surname(paper.authors[0]).split(" ")[-1])
    words = _title_words(paper.title)
    year = paper.year if re.fullmatch(r"\d{4}", paper.year or "") else ""
    if surname:
        key = f"{surname}{year}{words[0] if words else ''}"
    else:
        key = "".join(words[:2]) + year
        if len(words) < 2 and not year:
            stem = _slug(Path(paper.file or paper.source).stem) if (paper.file or paper.source) else ""
            key += stem if stem and stem != key else "untitled"
    if not key[:1].isalpha():
        key = "paper" + key
    return key


def unique_key(base: str, taken: set[str]) -> str:
    """``base``, else ``base`` + a, b, …, z, aa, ab, … (Better BibTeX's disambiguation)."""
    if base not in taken:
        return base
    n = 0
    while True:
        suffix, m = "", n
        while True:
            suffix = chr(ord("a") + m % 26) + suffix
            m = m // 26 - 1
            if m < 0:
                break
        if base + suffix not in taken:
            return base + suffix
        n += 1
