"""What one reference entry says: its title, DOI, arXiv id and years."""
from __future__ import annotations

import re

from paperlens.core.identity import arxiv_of_doi

__all__ = ["extract_title", "extract_ids", "extract_years"]

_YEAR = re.compile(r"(?<![\d./:\-–])((?:19[5-9]\d|20[0-4]\d)[a-z]?)(?![\d]|\.\d|\s?[-–]\s?\d)")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
_ARXIV_NEW = re.compile(r"(?:arXiv\s*[:.]?\s*|arxiv\.org/(?:abs|pdf)/|\babs/|CoRR\s*,?\s*(?:abs/)?)"
                        r"(\d{4}\.\d{4,5})(?:v\d+)?", re.IGNORECASE)
_ARXIV_OLD = re.compile(r"(?:arXiv\s*:\s*|arxiv\.org/(?:abs|pdf)/)([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
                        re.IGNORECASE)
_LEADING_LABEL = re.compile(r"^\s*(?:\[\s*\d{1,4}\s*\]|\d{1,3}[.)](?=\s)|[-*•](?=\s))\s*")
_INITIAL = re.compile(r"^(?:[A-Z\u00C0-\u024F]\.?(?:-?[A-Z]\.?)*|Jr|Sr|St)$")
_TITLE_ABBREV = {"vs", "v", "e.g", "i.e", "cf", "etc", "approx", "fig", "no", "vol", "st", "dr", "mr",
                 "mrs", "ms", "prof", "inc", "ltd", "jr", "sr", "al"}
_QUOTED = re.compile(r"[\"“”„]([^\"“”„]{6,}?)[\"“”]")
_VNAME = r"(?:[a-z]+\s)*[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+(?:\s[A-Z\u00C0-\u024F][\w'’\-]+)?"
_VANCOUVER = re.compile(    # "Ho J, Jain A, Abbeel P. Title." / "Lowe DG. Title."
    r"^(?:(?:" + _VNAME + r"\s[A-Z]{1,3},\s)+" + _VNAME + r"\s[A-Z]{1,3}(?:,?\set\sal)?"
    r"|" + _VNAME + r"\s[A-Z]{2,3}(?:,?\set\sal)?"
    r"|" + _VNAME + r"\s[A-Z](?=\.\s(?![A-Z][\w'’\-]+(?:[.,]|\sand\s))))\.\s")   # not "David G. Lowe."
_PAREN_YEAR = re.compile(r"\(\s*(?:19|20)\d\d[a-z]?\s*\)[.,:]?\s+")
_TRAILING_YEAR = re.compile(r"\s*,\s*\(?(?:19|20)\d\d[a-z]?\)?$")


def extract_ids(entry_text: str) -> tuple[str, str]:
    """``(doi, arxiv)`` found in an entry; each may be ``""``. DOIs are lower-cased; an arXiv
    DOI (``10.48550/arXiv.2106.12790``) gives the arXiv id too."""
    if not isinstance(entry_text, str):
        return "", ""
    doi = arxiv = ""
    m = _DOI.search(entry_text)
    if m:
        doi = m.group(1).lower()
        arxiv = arxiv_of_doi(doi)
    if not arxiv:
        m = _ARXIV_NEW.search(entry_text) or _ARXIV_OLD.search(entry_text)
        if m:
            arxiv = m.group(1).lower()
    return doi, arxiv


def extract_years(entry_text: str) -> list[str]:
    """Year-like numbers (1950–2049, optional letter: ``2020a``) in order; not parts of arXiv
    ids, DOIs or page ranges."""
    if not isinstance(entry_text, str):
        return []
    return [m.group(1) for m in _YEAR.finditer(entry_text)]


def _boundaries(s: str, start: int, title_phase: bool):
    """Sentence ends in ``s`` from ``start``: yields the offset just after the punctuation."""
    for m in re.finditer(r"[.?!](?=[\"'”’)]*(?:\s|$)|arXiv|In\s)", s[start:]):
        p = start + m.start()
        ch = s[p]
        after = s[p + 1:].lstrip("\"'”’) ")
        if ch == ".":
            word = re.search(r"(\S*)$", s[:p]).group(1).lstrip("(\"'“")
            if not title_phase:
                if _INITIAL.match(word) or (word.count(".") and _INITIAL.match(word.replace(".", ""))):
                    continue
            else:
                if word.lower() in _TITLE_ABBREV or (len(word) == 1 and word.isupper()):
                    continue
        else:
            nxt = after[:1]
            if not (nxt.isupper() or nxt.isdigit() or after.startswith(("arXiv", "In ", "in ")) or not after):
                continue
        end = p + 1
        while end < len(s) and s[end] in "\"'”’)":
            end += 1
        yield end


def _clean_title(t: str) -> str:
    t = t.strip().strip("\"'“”‘’").strip()
    t = re.sub(r"[.,;:]+$", "", t).strip()
    t = _TRAILING_YEAR.sub("", t).strip()
    t = t.strip("\"'“”‘’,. ").strip()
    if "http" in t or not re.search(r"[A-Za-z\u00C0-\u024F]{2}", t):
        return ""
    return t


def extract_title(entry_text: str) -> str:
    """Best guess of the cited title of one reference entry; ``""`` when there is none.

    Handles ``Authors. Title. In Venue, year.`` (CVPR/ACM/NeurIPS), ``Authors (year). Title.``
    (APA, Springer), ``Authors. year. Title.`` (ACL), ``Surname X, Surname Y. Title.``
    (Vancouver) and quoted titles ``"Title,"`` (IEEE). Initials (``Y. A. Sheikh``) do not end
    the author list; ``et al.`` does.
    """
    if not isinstance(entry_text, str):
        return ""
    s = " ".join(_LEADING_LABEL.sub("", entry_text.replace("\x00", "")).split())
    if not s:
        return ""
    q = _QUOTED.search(s)
    if q and len(q.group(1).split()) >= 2:
        t = _clean_title(q.group(1))
        if t:
            return t
    v = _VANCOUVER.match(s)
    if v:
        authors_end = v.end()
    else:
        authors_end = next(_boundaries(s, 0, title_phase=False), None)
        if authors_end is None:
            return _clean_title(s) if len(s.split()) <= 25 else ""
        head = s[:authors_end]
        py = list(_PAREN_YEAR.finditer(head))
        if py and py[-1].end() < len(head) - 3:
            authors_end = py[-1].end()    # "Vaswani A et al (2017) Attention is all you need."
    rest_start = authors_end
    while rest_start < len(s) and s[rest_start] == " ":
        rest_start += 1
    for _ in range(3):
        end = next(_boundaries(s, rest_start, title_phase=True), len(s))
        chunk = s[rest_start:end]
        if re.fullmatch(r"\s*\(?(?:19|20)\d\d[a-z]?\)?[.,]?\s*", chunk):   # ACL: "2019." after authors
            rest_start = end
            while rest_start < len(s) and s[rest_start] == " ":
                rest_start += 1
            continue
        return _clean_title(chunk)
    return ""
