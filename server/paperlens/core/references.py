"""A paper's own reference list, its numeric citations, and matching entries to the library.

Pure Python (plus ``rapidfuzz`` for the title similarity). Everything works on the text of one
paper as a ``str``; offsets are code-point offsets into that string and lines are 0-based
indices into ``text.split("\\n")``, the same conventions as :mod:`paperlens.core.parse.text`.

Real inputs (PDF extractions, see ``shared/seeds``) carry two-column artefacts that the rules
below are written for:

* entries wrap over lines, words are hyphenated at line ends (``Ste-`` / ``fanos``);
* every entry ends with back-reference page numbers (``... 2020. 2, 5`` or ``2,3,\\n5``);
* page numbers of the paper sit alone on a line in the middle of an entry (``hand-\\n1993\\n
  object``);
* after a column break the next label is glued to the previous entry (``2022. 2[15] Bowen``,
  ``[cs].[14] Haowen``) and labels may lack the space (``[1]Shir Amir``);
* mojibake (``‚Äì`` for an en dash) and stray NULs / carriage returns.

Labels must increase along the list; that is what tells an entry start from a ``[3]`` quoted
inside an entry's text.
"""
from __future__ import annotations

import bisect
import heapq
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional

from paperlens.core import identity
from paperlens.core.identity import PaperKeys, arxiv_of_doi
from paperlens.core.identity import norm_arxiv as _norm_arxiv
from paperlens.core.identity import norm_title as normalize_title
from paperlens.core.models import Reference, Span

try:  # the repair step is optional: without it entries keep their mojibake
    from paperlens.core.parse.repair import repair_text as _repair_text
except Exception:  # pragma: no cover - repair depends on ftfy
    def _repair_text(text: str) -> str:
        return text

__all__ = [
    "Reference", "NumericCite", "LibraryEntry", "ReferenceMatcher",
    "find_reference_section", "parse_references", "extract_title", "extract_ids",
    "extract_years", "normalize_title", "find_numeric_citations", "numeric_citation_at",
]


# =============================================================================================
# records
# =============================================================================================

@dataclass
class NumericCite:
    """A numeric citation such as ``[3, 15]``: ``span`` covers the brackets, ``labels`` are
    every label it cites (ranges expanded), as strings, in order, without duplicates."""

    span: Span
    labels: list[str]


@dataclass
class LibraryEntry:
    """What the matcher needs to know about one library paper."""

    id: str
    title: str
    doi: str = ""
    arxiv: str = ""
    year: str = ""
    surnames: list[str] = field(default_factory=list)


# =============================================================================================
# the reference section
# =============================================================================================

_MD = r"(?:\*\*|__|\*|_)?"
_REF_HEADING = re.compile(
    r"^[ \t\x00]*(#{1,6}[ \t]*)?" + _MD +
    r"(?:(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.|[A-Z]\.)[ \t]+)?"
    r"(?:references|bibliography|reference[ \t]+list|works[ \t]+cited|literature[ \t]+cited|"
    r"cited[ \t]+literature)" + _MD + r"[ \t]*[.:]?[ \t]*" + _MD + r"[ \t\x00\r]*$",
    re.IGNORECASE | re.MULTILINE)
# "References [1] Foo ..." or "References1. Foo": the heading glued to the first entry
_REF_HEADING_GLUED = re.compile(r"^[ \t\x00]*(?:References|REFERENCES|Bibliography)[ \t]*"
                                r"(?=\[1\]|1\.[ \t]+[A-Z])", re.MULTILINE)
_END_HEADING = re.compile(
    r"^[ \t\x00]*(?:#{1,6}[ \t]*)?" + _MD + r"(?:(?:[A-Z]|\d+)\.?[ \t]+)?"
    r"(?:Appendix|APPENDIX|Appendices|APPENDICES|Supplementary|SUPPLEMENTARY|Supplemental|"
    r"SUPPLEMENTAL|Acknowledg(?:e)?ments?|ACKNOWLEDG(?:E)?MENTS?)\b[^\n]{0,90}$",
    re.MULTILINE)
_MD_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+\S", re.MULTILINE)


def find_reference_section(text: str) -> tuple[int, int] | None:
    """Code-point range ``(start, end)`` of the reference list, or ``None``.

    The list starts after the last ``References`` / ``Bibliography`` heading (Markdown ``##``
    headings and numbered headings included) and runs to the end of the text, or to an
    ``Appendix`` / ``Supplementary`` / ``Acknowledgements`` heading, or, after a Markdown
    heading, to the next Markdown heading of the same or a higher level.
    """
    if not isinstance(text, str) or not text:
        return None
    heading = None
    for m in _REF_HEADING.finditer(text):
        heading = m
    glued = None
    for m in _REF_HEADING_GLUED.finditer(text):
        glued = m
    if heading is None and glued is None:
        return None
    if heading is not None and (glued is None or heading.start() >= glued.start()):
        nl = text.find("\n", heading.end())
        start = len(text) if nl < 0 else nl + 1
        md_level = len(heading.group(1).strip()) if heading.group(1) else 0
    else:
        start = glued.end()
        md_level = 0
    end = len(text)
    m = _END_HEADING.search(text, start)
    # a heading line that is too long or ends like an entry is text, not a heading
    while m is not None and (len(m.group().strip()) > 100 or re.search(r"(?:19|20)\d\d\.\s*$", m.group())):
        m = _END_HEADING.search(text, m.end())
    if m is not None:
        end = m.start()
    if md_level:
        for h in _MD_HEADING.finditer(text, start, end):
            if len(h.group(1)) <= md_level:
                end = h.start()
                break
    if end < start:
        end = start
    return start, end


# =============================================================================================
# parsing the entries
# =============================================================================================

_BRACKET_LABEL = re.compile(r"\[[ \t\x00]*(\d{1,4})[ \t\x00]*\]")
_NUMBERED_LABEL = re.compile(r"^[ \t\x00]*(?:[-*+•][ \t]+)?(\d{1,3})(?:[.)]|(?=[ \t]))[ \t\x00]*(?=[^\s\d])",
                             re.MULTILINE)
_LINE_START_PREFIX = re.compile(r"^[ \t\x00]*(?:[-*+•][ \t]+)?$")
_GLUE_BEFORE = re.compile(r"[.,;:)\]\d'\"”’][ \t\x00]*$")
_PAGE_LINE = re.compile(r"^\d{1,6}(?:[ \t]*,[ \t]*\d{1,3})*[ \t]*,?$")
_BACKREFS = re.compile(r"(?<=[.)\]/])\s+\d{1,3}(?:\s*,\s*\d{1,3})*\s*,?\s*$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:])(?=\s|$)")
_BULLET = re.compile(r"^[ \t\x00]*[-*+•][ \t]+")
_YEAR = re.compile(r"(?<![\d./:\-–])((?:19[5-9]\d|20[0-4]\d)[a-z]?)(?![\d]|\.\d|\s?[-–]\s?\d)")


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


class _Lines:
    """Line numbers of offsets in a text."""

    def __init__(self, text: str):
        self.starts = _line_starts(text)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1


def _clean_piece(s: str) -> str:
    return s.replace("\x00", "").replace("\r", "").strip()


# words that end the first half of a compound far more often than a hyphenated syllable:
# "large-" + "scale" stays "large-scale", "Ste-" + "fanos" becomes "Stefanos"
_KEEP_HYPHEN = {
    "non", "self", "multi", "large", "small", "well", "cross", "semi", "zero", "few", "one",
    "two", "three", "four", "fine", "coarse", "single", "double", "task", "domain", "object",
    "language", "vision", "image", "text", "sign", "deep", "human", "video", "world", "hand",
    "full", "whole", "top", "weakly", "fully", "spatio", "audio", "visual", "scene", "instance",
    "category", "rgb",
}


def _join_pieces(pieces: list[str]) -> str:
    """Join the lines of one entry: hyphenation re-joined, page-number lines dropped."""
    out = ""
    for raw in pieces:
        line = _clean_piece(raw)
        if not line:
            continue
        if _PAGE_LINE.match(line) and not (out.endswith(",") and _YEAR.fullmatch(line)):
            continue                           # a page number or back-references, not "In ICLR,\n2021"
        line = _repair_text(line)
        if not out:
            out = line
            continue
        if out.endswith("-") and len(out) >= 2:
            before = out[-2]
            word = re.search(r"(\S*)-$", out).group(1)
            first = line.split(" ", 1)[0]
            keep = "-" in word or "-" in first.rstrip("-") or word.lower() in _KEEP_HYPHEN
            if before.isalpha() and line[:1].islower() and not keep:
                out = out[:-1] + line          # "Ste-" + "fanos" -> "Stefanos"
            else:
                out = out + line               # "end-to-" + "end", "Chuo-" + "Ling"
        elif out.endswith(("–", "—", "/")) or (out.endswith("‐")):
            out = out + line                   # "pages 961–" + "970"
        else:
            out = out + " " + line
    return out


_MD_EMPHASIS = re.compile(r"\*+(?=\w)|(?<=[\w.,?!)])\*+")


def _finish_text(joined: str) -> str:
    s = " ".join(joined.split())
    s = _MD_EMPHASIS.sub("", s)             # Markdown *Venue* / **Title**, "Yang*" marks
    s = _BACKREFS.sub("", s)
    s = _SPACE_BEFORE_PUNCT.sub(r"\1", s)
    return s.strip()


@dataclass
class _Cand:
    start: int         # offset of the label's first character
    end: int           # offset just after the label
    label: int
    line_start: bool
    glue_ok: bool
    cut: int = -1      # where the previous entry ends (before a bullet); -1: at ``start``

    def __post_init__(self) -> None:
        if self.cut < 0:
            self.cut = self.start


def _select_increasing(cands: list[_Cand], first_max: int, allow_glued: bool,
                       max_gap: int = 3) -> list[_Cand]:
    """Entry starts: labels increase by one (small gaps allowed for line-start labels when the
    next label does not show up at all)."""
    chosen: list[_Cand] = []
    last: Optional[int] = None
    for k, c in enumerate(cands):
        if last is None:
            if c.line_start and 0 <= c.label <= first_max:
                chosen.append(c)
                last = c.label
            continue
        if c.label == last + 1 and (c.line_start or (allow_glued and c.glue_ok)):
            chosen.append(c)
            last = c.label
        elif c.line_start and last + 1 < c.label <= last + 1 + max_gap:
            # a gap: only if the expected label really is missing before the next one
            expected_later = any(
                d.label == last + 1 and (d.line_start or (allow_glued and d.glue_ok))
                for d in cands[k + 1:k + 1 + 4 * max_gap])
            if not expected_later:
                chosen.append(c)
                last = c.label
    return chosen


def _bracket_candidates(text: str, start: int, end: int) -> list[_Cand]:
    out = []
    for m in _BRACKET_LABEL.finditer(text, start, end):
        ls = text.rfind("\n", start, m.start()) + 1
        if ls < start:
            ls = start
        before = text[ls:m.start()]
        line_start = bool(_LINE_START_PREFIX.match(before))
        glue_ok = line_start or bool(_GLUE_BEFORE.search(before))
        after = text[m.end():m.end() + 1]
        if after in ("(", ":") and not line_start:
            continue            # a Markdown link, not a label
        out.append(_Cand(m.start(), m.end(), int(m.group(1)), line_start, glue_ok,
                         cut=ls if line_start else m.start()))
    return out


def _numbered_candidates(text: str, start: int, end: int) -> list[_Cand]:
    out = []
    for m in _NUMBERED_LABEL.finditer(text, start, end):
        if m.start() < start:
            continue
        out.append(_Cand(m.start(1), m.end(), int(m.group(1)), True, True, cut=m.start()))
    return out


_AUTHOR_START = re.compile(
    r"^(?:(?:van|von|de|der|den|da|di|du|del|della|la|le|dos|el|al)\s+)*"
    r"[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+(?:[ \-][A-Z\u00C0-\u024F][\w'’\-]+)?"
    r"(?:,\s+(?:[A-Z\u00C0-\u024F]\.|[A-Z\u00C0-\u024F][a-z\u00C0-\u024F]+)"   # Ho, J.   He, Kaiming
    r"|\s+[A-Z]{1,3}[,.])")                                                     # Ho J,
_WEAK_AUTHOR_START = re.compile(r"^[A-Z\u00C0-\u024F][a-z\u00C0-\u024F'’\-]+(?:\s+[A-Z]\.)*"
                                r"\s+[A-Z\u00C0-\u024F][\w'’\-]+(?:,\s|\s+and\s)")
_ENDS_ENTRY = re.compile(r"(?:(?:19|20)\d\d[a-z]?\)?|\d+|\))\.[\"”']?$")


def _author_year_starts(text: str, start: int, end: int) -> list[_Cand]:
    """Entry starts of an unnumbered list (author–year styles)."""
    segment = text[start:end]
    offsets = []
    pos = start
    for raw in segment.split("\n"):
        offsets.append((pos, raw))
        pos += len(raw) + 1
    lines = [(p, _clean_piece(r)) for p, r in offsets]
    content = [(p, s) for p, s in lines if s and not _PAGE_LINE.match(s)]
    if not content:
        return []
    out: list[_Cand] = []

    def lead(p: int) -> int:
        raw = text[p:p + 200]
        m = _BULLET.match(raw)
        if m:
            return p + m.end()
        return p + (len(raw) - len(raw.lstrip(" \t\x00")))

    # 1. bullets
    bullets = [p for p, r in offsets if _BULLET.match(r)]
    if len(bullets) >= 2:
        return [_Cand(lead(p), lead(p), 0, True, True, cut=p) for p in bullets]
    # 2. blank-line separated blocks, each with a year
    blocks: list[list[tuple[int, str]]] = [[]]
    for p, s in lines:
        if not s:
            if blocks[-1]:
                blocks.append([])
        elif not _PAGE_LINE.match(s):
            blocks[-1].append((p, s))
    blocks = [b for b in blocks if b]
    with_year = sum(1 for b in blocks if _YEAR.search(" ".join(s for _, s in b)))
    if len(blocks) >= 2 and with_year >= 0.8 * len(blocks) and len(blocks) >= 0.2 * len(content):
        return [_Cand(lead(b[0][0]), lead(b[0][0]), 0, True, True) for b in blocks]
    # 3. a line starting with an author name after a line that ended an entry
    current_has_year = False
    prev = ""
    for p, s in content:
        starts_entry = False
        if not out:
            starts_entry = True
        elif prev.endswith(".") and current_has_year:
            if _AUTHOR_START.match(s):
                starts_entry = True
            elif _WEAK_AUTHOR_START.match(s) and _ENDS_ENTRY.search(prev):
                starts_entry = True
        if starts_entry:
            out.append(_Cand(lead(p), lead(p), 0, True, True))
            current_has_year = False
        if _YEAR.search(s):
            current_has_year = True
        prev = s
    return out


def parse_references(text: str, section: tuple[int, int] | None = None) -> list[Reference]:
    """The entries of the paper's own reference list, in order.

    ``section`` overrides :func:`find_reference_section` (pass ``(0, len(text))`` to parse a
    bare list). Numbered styles (``[12] ...``, ``12. ...``, ``12 ...``) keep their labels;
    unnumbered (author–year) lists are labelled ``"1"``, ``"2"``, ... in order. ``text`` of an
    entry is one line: hyphenation re-joined, page-number lines and trailing back-reference
    page numbers removed, mojibake repaired. Never raises on odd input; returns ``[]`` when no
    list is found.
    """
    if not isinstance(text, str) or not text:
        return []
    if section is None:
        section = find_reference_section(text)
        if section is None:
            return []
    start, end = max(0, section[0]), min(len(text), section[1])
    if end <= start:
        return []

    bracket = _select_increasing(_bracket_candidates(text, start, end), first_max=5, allow_glued=True)
    numbered = _select_increasing(_numbered_candidates(text, start, end), first_max=1, allow_glued=False)
    if bracket and len(bracket) >= len(numbered):
        chosen, numeric = bracket, True
    elif len(numbered) >= 2 or (numbered and not bracket):
        chosen, numeric = numbered, True
    else:
        chosen, numeric = _author_year_starts(text, start, end), False
    if not chosen:
        return []

    lines = _Lines(text)
    entries: list[Reference] = []
    for i, c in enumerate(chosen):
        body_start = c.end
        body_end = chosen[i + 1].cut if i + 1 < len(chosen) else end
        if not numeric:
            body_start = c.start
        raw = text[body_start:body_end]
        joined = _join_pieces(raw.split("\n"))
        entry_text = _finish_text(joined)
        if not entry_text and numeric:
            continue
        # span: label to the last non-blank character of the entry (page lines included)
        stop = body_end
        while stop > c.start and text[stop - 1] in " \t\r\n\x00":
            stop -= 1
        label = str(c.label) if numeric else str(len(entries) + 1)
        if not entry_text:
            continue
        doi, arxiv = extract_ids(entry_text)
        years = extract_years(entry_text)
        entries.append(Reference(label=label, text=entry_text, line=lines.line_of(c.start),
                                 span=Span(c.start, max(stop, c.end)), title=extract_title(entry_text),
                                 doi=doi, arxiv=arxiv, year=years[-1] if years else ""))
    return entries


# =============================================================================================
# titles and identifiers of one entry
# =============================================================================================

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


# =============================================================================================
# numeric citations in the running text
# =============================================================================================

_DASHES = ("-", "–", "—", "‐", "‑", "‒", "−", "‚Äì", "‚Äî")
_DASH_RE = "(?:" + "|".join(re.escape(d) for d in sorted(_DASHES, key=len, reverse=True)) + ")"
_ITEM = r"\d{1,4}(?:\s*" + _DASH_RE + r"\s*\d{1,4})?"
_NUMERIC_CITE = re.compile(r"\[\s*(" + _ITEM + r"(?:\s*[,;]\s*" + _ITEM + r")*)\s*\]")
_ITEM_SPLIT = re.compile(r"\s*[,;]\s*")
_RANGE = re.compile(r"^(\d{1,4})\s*" + _DASH_RE + r"\s*(\d{1,4})$")
MAX_RANGE = 100
DEFAULT_MAX_LABEL = 999


def _expand(body: str, max_label: int) -> list[str] | None:
    labels: list[str] = []
    seen = set()
    for item in _ITEM_SPLIT.split(body.strip()):
        m = _RANGE.match(item)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a < 1 or b <= a or b - a > MAX_RANGE or b > max_label:
                return None
            numbers = range(a, b + 1)
        else:
            try:
                n = int(item)
            except ValueError:
                return None
            if n < 1 or n > max_label:
                return None
            numbers = range(n, n + 1)
        for n in numbers:
            if n not in seen:
                seen.add(n)
                labels.append(str(n))
    return labels or None


def find_numeric_citations(text: str, max_label: int | None = None) -> list[NumericCite]:
    """Numeric citations in ``text``: ``[12]``, ``[3, 15]``, ``[3,15,22]``, ``[3-7]``, ``[3–7]``,
    ``[3—7]``, ``[1, 4-6]`` (ranges expanded; the span covers the brackets).

    Not inside the paper's own reference list, not Markdown links ``[1](url)`` / ``[1]: url``,
    not brackets holding a zero, a decreasing range or (with ``max_label``, e.g. the number of
    reference entries) a number above ``max_label`` — so ``[0, 1]`` intervals and ``[2020]``
    years are left alone. Without ``max_label`` numbers above 999 are not labels.
    """
    if not isinstance(text, str) or "[" not in text:
        return []
    limit = DEFAULT_MAX_LABEL if max_label is None else max_label
    section = find_reference_section(text)
    out: list[NumericCite] = []
    for m in _NUMERIC_CITE.finditer(text):
        s, e = m.start(), m.end()
        if section is not None and section[0] <= s < section[1]:
            continue
        nxt = text[e:e + 1]
        if nxt == "(":
            continue                                    # [1](http://...)
        if nxt == ":":
            ls = text.rfind("\n", 0, s) + 1
            if not text[ls:s].strip():
                continue                                # [1]: http://... link definition
        if s > 0 and text[s - 1] in "!\\":
            continue
        labels = _expand(m.group(1), limit)
        if labels:
            out.append(NumericCite(Span(s, e), labels))
    return out


def numeric_citation_at(text: str, offset: int, max_label: int | None = None) -> NumericCite | None:
    """The numeric citation whose brackets hold ``offset``: from the ``[`` (``span.start``) to
    just after the ``]`` (``span.end``, where a cursor stands after typing it). When two
    citations touch (``[1][2]``), the one starting at ``offset`` wins."""
    if not isinstance(text, str) or not isinstance(offset, int) or offset < 0 or offset > len(text):
        return None
    if text.rfind("[", 0, offset + 1) < 0:
        return None
    hits = [c for c in find_numeric_citations(text, max_label) if c.span.start <= offset <= c.span.end]
    if not hits:
        return None
    for c in hits:
        if c.span.start <= offset < c.span.end:
            return c
    return hits[0]


# =============================================================================================
# matching entries to library papers
# =============================================================================================

_STOP = {"a", "an", "the", "of", "for", "and", "in", "on", "with", "to", "via", "by", "from",
         "is", "are", "at", "as", "or", "its", "into", "using", "towards", "toward", "we", "our"}
# transitional (issue 14): core/library.py imports these until it reads core/identity
_norm_doi = identity.norm_doi


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
        n = normalize_title(p)
        if n:
            segs.append(n)
            m = _AFTER_YEAR.match(p)
            if m:
                extra.append(normalize_title(m.group(1)))
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
            n = normalize_title(e.title)
            self._norm.append(n)
            toks = frozenset(_tokens(n))
            self._toks.append(toks)
            for t in toks:
                post[t].append(i)
            y = re.match(r"\s*((?:1[5-9]|20)\d\d)", e.year or "")
            self._years.append(int(y.group(1)) if y else None)
            self._surnames.append([normalize_title(s) for s in e.surnames if normalize_title(s)])
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
        years = [int(y[:4]) for y in extract_years(text)]
        arxiv_n = _norm_arxiv(arxiv)
        fuzz = self._fuzz

        padded = f" {normalize_title(text)} "

        def allowed(i: int, score: float) -> bool:
            if not self._year_ok(i, years):
                return False
            lib_arxiv = _norm_arxiv(self.entries[i].arxiv)
            if arxiv_n and lib_arxiv and lib_arxiv != arxiv_n:
                return False
            if score >= self.strict and len(self._norm[i].split()) >= self.min_partial_words:
                return True
            # near misses, and short titles that other papers share ("Point Transformer")
            return self._authors_ok(i, padded)

        best: tuple[float, int] | None = None
        title = normalize_title(extract_title(text))
        if title and len(title) >= 8:
            for i, _ in self._rank(_tokens(title), rare=6):
                lib = self._norm[i]
                if not lib:
                    continue
                score = max(fuzz.ratio(title, lib), fuzz.token_sort_ratio(title, lib))
                if score >= self.threshold and (best is None or score > best[0]) and allowed(i, score):
                    best = (score, i)
        if best is None or best[0] < 100:
            segs = _segments(_LEADING_LABEL.sub("", text))
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
                score = max((fuzz.ratio(lib, s, score_cutoff=self.partial_threshold) for s in segs),
                            default=0.0)
                if score >= self.partial_threshold and (best is None or score > best[0]) and allowed(i, score):
                    best = (score, i)
        if best is None:
            return None
        return self.entries[best[1]].id, float(round(best[0], 2))

    def match_all(self, entries: Iterable[Reference]) -> dict[str, tuple[str, float]]:
        """``{label: (library id, score)}`` for the entries that match."""
        out = {}
        for r in entries:
            m = self.match(r.text)
            if m is not None:
                out[r.label] = m
        return out
