"""Citation keys for papers that have no ``.bib`` entry: Better BibTeX's default
``auth.lower + year + shorttitle(1)`` form, e.g. ``vaswani2017attention``, unique in the library."""
from __future__ import annotations

import re
import unicodedata

from paperlens.core.models import Paper, author_surname

STOP_WORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "from", "with", "and",
              "towards", "toward", "via", "is", "are", "at", "by"}


def ascii_fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def base_key(paper: Paper) -> str:
    """``surnameYEARfirstword`` in lowercase ASCII (parts that are unknown are left out)."""
    surname = ""
    if paper.authors:
        surname = author_surname(paper.authors[0]).split(" ")[-1]
    surname = re.sub(r"[^a-z]", "", ascii_fold(surname).lower())
    word = ""
    for w in re.findall(r"[A-Za-z\u00C0-\u024F0-9]+", paper.title):
        folded = re.sub(r"[^a-z0-9]", "", ascii_fold(w).lower())
        if folded and folded not in STOP_WORDS:
            word = folded
            break
    year = paper.year if re.fullmatch(r"\d{4}", paper.year or "") else ""
    key = f"{surname}{year}{word}"
    return key or "paper"


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
