"""The entries of a paper's own reference list, each a :class:`~paperlens.core.models.Reference`.

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

import re
from dataclasses import dataclass
from typing import Optional

from paperlens.core.models import Reference, Span
from paperlens.core.references.fields import _YEAR, extract_ids, extract_title, extract_years
from paperlens.core.references.section import find_reference_section

try:  # the repair step is optional: without it entries keep their mojibake
    from paperlens.core.parse.repair import repair_text as _repair_text
except Exception:  # pragma: no cover - repair depends on ftfy
    def _repair_text(text: str) -> str:
        return text

__all__ = ["parse_references", "unnumbered_section"]


_BRACKET_LABEL = re.compile(r"\[[ \t\x00]*(\d{1,4})[ \t\x00]*\]")
_NUMBERED_LABEL = re.compile(r"^[ \t\x00]*(?:[-*+•][ \t]+)?(\d{1,3})(?:[.)]|(?=[ \t]))[ \t\x00]*(?=[^\s\d])",
                             re.MULTILINE)
_LINE_START_PREFIX = re.compile(r"^[ \t\x00]*(?:[-*+•][ \t]+)?$")
_GLUE_BEFORE = re.compile(r"[.,;:)\]\d'\"”’][ \t\x00]*$")
_PAGE_LINE = re.compile(r"^\d{1,6}(?:[ \t]*,[ \t]*\d{1,3})*[ \t]*,?$")
_BACKREFS = re.compile(r"(?<=[.)\]/])\s+\d{1,3}(?:\s*,\s*\d{1,3})*\s*,?\s*$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:])(?=\s|$)")
_BULLET = re.compile(r"^[ \t\x00]*[-*+•][ \t]+")


class _Lines:
    """Line numbers of offsets in a text, asked in increasing order (mostly): counted on from the
    last one asked (not a list of every line start of the whole paper)."""

    def __init__(self, text: str):
        self.text = text
        self._at = 0          # an offset asked before, and its line
        self._line = 0

    def line_of(self, offset: int) -> int:
        if offset < self._at:
            self._at, self._line = 0, 0
        self._line += self.text.count("\n", self._at, offset)
        self._at = offset
        return self._line


# a spacing accent pdfium set apart from its letter ("Cappe ´", "prob- ´"): alone between spaces
_STRAY_ACCENT = re.compile(r"(?:(?<=\s)|^)[´`¨ˆ˜˚ˇ¸](?=\s|$)")
_ACCENT_CHAR = re.compile(r"[´`¨ˆ˜˚ˇ¸]")
_SPLIT_BY_ACCENT = re.compile(r"(?<=[^\W\d_]) [´`¨ˆ˜˚ˇ¸] (?=[a-z])")     # "Szepesv ´ ari" -> "Szepesvari"


def _clean_piece(s: str) -> str:
    s = s.replace("\x00", "").replace("\r", "").strip()
    if not s.isascii() and _ACCENT_CHAR.search(s) or "`" in s:
        s = " ".join(_STRAY_ACCENT.sub("", _SPLIT_BY_ACCENT.sub("", s)).split())
    return s


# words that end the first half of a compound far more often than a hyphenated syllable:
# "large-" + "scale" stays "large-scale", "Ste-" + "fanos" becomes "Stefanos"
_KEEP_HYPHEN = {
    "non", "self", "multi", "large", "small", "well", "cross", "semi", "zero", "few", "one",
    "two", "three", "four", "fine", "coarse", "single", "double", "task", "domain", "object",
    "language", "vision", "image", "text", "sign", "deep", "human", "video", "world", "hand",
    "full", "whole", "top", "weakly", "fully", "spatio", "audio", "visual", "scene", "instance",
    "category", "rgb",
}


_RUNNING_HEADER = re.compile(r"^(?:\d{1,4}\s+(?:References|REFERENCES|Bibliography)|"
                             r"(?:References|REFERENCES|Bibliography)\s+\d{1,4})$")


def _join_pieces(pieces: list[str]) -> str:
    """Join the lines of one entry: hyphenation re-joined, page-number lines dropped."""
    out = ""
    for raw in pieces:
        line = _clean_piece(raw)
        if not line:
            continue
        if _PAGE_LINE.match(line) and not (out.endswith(",") and _YEAR.fullmatch(line)):
            continue                           # a page number or back-references, not "In ICLR,\n2021"
        if _RUNNING_HEADER.match(line):
            continue                           # "References 117" / "118 References" at a page break
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
    # (each pattern is run only where it can match: ``s`` holds no whitespace but single spaces)
    s = " ".join(joined.split())
    if "*" in s:
        s = _MD_EMPHASIS.sub("", s)         # Markdown *Venue* / **Title**, "Yang*" marks
    last = s[-1:]
    if last == "," or last.isdecimal():     # (back-references end with a digit or a comma)
        s = _BACKREFS.sub("", s)
    if " ," in s or " ." in s or " ;" in s or " :" in s:
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
    name: str = ""     # an author-year key label ("ACL87"), used instead of the number

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


_KEY_LABEL = re.compile(
    r"^[ \t\x00]*(?:\[([A-Z][A-Za-z+\-.]{0,8}\d{0,2}[a-z]?"                     # [ACL87] [Ab] [Be83]
    r"|[A-Z\u00C0-\u024F][^\[\]\n]{0,80}?,?\s\(?(?:19|20)\d\d[a-z]?\)?)\]"     # [Abu-Mostafa, 1990]
    r"|([A-Z][A-Za-z+]{1,7}\d{2}[a-z]?)\.(?=[ \t]+[A-Z\u2014—\-]))[ \t]*(?=\S)",   # AGR03. L. Azzopardi
    re.MULTILINE)


def _key_candidates(text: str, start: int, end: int) -> list[_Cand]:
    """Author-year key labels at line starts: ``[ACL87] Agrawal, R., ...``, ``[AMS+07] ...``."""
    out = []
    for m in _KEY_LABEL.finditer(text, start, end):
        key = m.group(1) or m.group(2)
        start = m.start(1) - 1 if m.group(1) else m.start(2)
        out.append(_Cand(start, m.end(), 0, True, True, cut=m.start(), name=key))
    return out


def _numbered_candidates(text: str, start: int, end: int) -> list[_Cand]:
    out = []
    for m in _NUMBERED_LABEL.finditer(text, start, end):
        if m.start() < start:
            continue
        out.append(_Cand(m.start(1), m.end(), int(m.group(1)), True, True, cut=m.start()))
    return out


_AUTHOR_START = re.compile(
    r"^(?:(?i:van|von|de|der|den|da|di|du|del|della|la|le|dos|el|al)\s+)*"
    r"[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+(?:[ \-][A-Z\u00C0-\u024F][\w'’\-]+)?"
    r"(?:,\s+(?:[A-Z\u00C0-\u024F]\.|[A-Z\u00C0-\u024F][a-z\u00C0-\u024F]+)"   # Ho, J.   He, Kaiming
    r"|\s+[A-Z]{1,3}[,.])")                                                     # Ho J,
# "P. Auer, N. Cesa-Bianchi, and P. Fischer.", "O.-C. Granmo.", "J. C. Gittins."
_INITIALS_FIRST = re.compile(r"^(?:[A-Z\u00C0-\u024F]\.[ \t]?(?:-[ \t]?[A-Z]\.[ \t]?)?)+[ \t]?"
                             r"(?:(?:van|von|de|der|den|da|di|du|del|la|le)[ \t]+)*"
                             r"[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+(?:,|[ \t]+and[ \t]|\.[ \t]|\.$)")
# "John Langford. Interactive machine learning": a full name and a period, after an entry's end
_NAME_PERIOD = re.compile(r"^[A-Z\u00C0-\u024F][a-z\u00C0-\u024F'’\-]+(?:[ \t]+[A-Z]\.)*[ \t]+"
                          r"[A-Z\u00C0-\u024F][a-z\u00C0-\u024F'’\-]+\.[ \t]+[A-Z]")
_WEAK_AUTHOR_START = re.compile(r"^[A-Z\u00C0-\u024F][a-z\u00C0-\u024F'’\-]+(?:\s+[A-Z]\.)*"
                                r"\s+[A-Z\u00C0-\u024F][\w'’\-]+(?:,\s|\s+and\s)")
_ENDS_ENTRY = re.compile(r"(?:(?:19|20)\d\d[a-z]?\)?|\d+|\))\.[\"”']?$")


def _lead(text: str, p: int) -> int:
    """Where the entry that starts on the line at ``p`` starts: after a bullet and blanks."""
    raw = text[p:p + 200]
    m = _BULLET.match(raw)
    if m:
        return p + m.end()
    return p + (len(raw) - len(raw.lstrip(" \t\x00")))


def _author_year_starts(text: str, start: int, end: int) -> list[_Cand]:
    """Entry starts of an unnumbered list (author–year styles): bullets, else blocks between
    blank lines, else lines that start with an author name after the end of an entry."""
    offsets = []
    pos = start
    for raw in text[start:end].split("\n"):
        offsets.append((pos, raw))
        pos += len(raw) + 1
    lines = [(p, _clean_piece(r)) for p, r in offsets]
    content = [(p, s) for p, s in lines if s and not _PAGE_LINE.match(s)]
    if not content:
        return []
    bullets = [p for p, r in offsets if _BULLET.match(r)]
    if len(bullets) >= 2:
        return [_Cand(_lead(text, p), _lead(text, p), 0, True, True, cut=p) for p in bullets]
    blocks = _year_blocks(lines, len(content))
    if blocks:
        return [_Cand(_lead(text, b[0][0]), _lead(text, b[0][0]), 0, True, True) for b in blocks]
    return _author_line_starts(text, content)


def _year_blocks(lines: list[tuple[int, str]], n_content: int) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks when they look like entries (nearly all hold a year, and
    they are not a few big paragraphs); else ``[]``."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for p, s in lines:
        if not s:
            if blocks[-1]:
                blocks.append([])
        elif not _PAGE_LINE.match(s):
            blocks[-1].append((p, s))
    blocks = [b for b in blocks if b]
    with_year = sum(1 for b in blocks if _YEAR.search(" ".join(s for _, s in b)))
    if len(blocks) >= 2 and with_year >= 0.8 * len(blocks) and len(blocks) >= 0.2 * n_content:
        return blocks
    return []


def _starts_with_author(line: str, prev: str) -> bool:
    if _AUTHOR_START.match(line):
        return True
    if not _ENDS_ENTRY.search(prev):
        return False
    return bool(_WEAK_AUTHOR_START.match(line) or _INITIALS_FIRST.match(line) or _NAME_PERIOD.match(line))


# "C. Labovitz, G. Malan, and F. Jahanian, “Origins ...": initials-first names, then a quoted title
_IEEE_NAME = r"(?:[A-Z]\.[ \t]?(?:-[ \t]?[A-Z]\.[ \t]?)?)+[ \t]?[A-Z][\w'’\-]+"
_IEEE_START = re.compile(r"^" + _IEEE_NAME + r"(?:,[ \t]+" + _IEEE_NAME + r")*(?:,?[ \t]+and[ \t]+" + _IEEE_NAME +
                         r")?(?:[ \t]+et[ \t]+al\.)?,[ \t]+[\"“]")
_YEAR_END = re.compile(r"(?:19|20)\d\d[a-z]?\)?$")
_LABEL_START = re.compile(r"^\[\d{1,3}\]\s")    # a label the scan kept in an unnumbered list


def _author_line_starts(text: str, content: list[tuple[int, str]]) -> list[_Cand]:
    """A line starting with an author name after a line that ended an entry (with a year)."""
    out: list[_Cand] = []
    current_has_year = False
    prev = ""
    for p, s in content:
        ended = prev.endswith(".") or bool(_YEAR_END.search(prev))
        label = _LABEL_START.match(s)
        if label:       # the label the scan kept: the entry starts after it
            at = _lead(text, p)
            out.append(_Cand(at, text.find("]", at) + 1, 0, True, True))
            while text[out[-1].end:out[-1].end + 1] in (" ", "\t"):
                out[-1].end += 1
            current_has_year = False
        elif not out or (ended and current_has_year and _starts_with_author(s, prev)) or \
                (out and _IEEE_START.match(s) and not _IEEE_START.match(prev)):
            out.append(_Cand(_lead(text, p), _lead(text, p), 0, True, True))
            current_has_year = False
        if _YEAR.search(s):
            current_has_year = True
        prev = s
    return out


def unnumbered_section(text: str) -> tuple[int, int] | None:
    """The reference list's range when its entries carry no labels (author–year lists, or labels
    a scan lost), where only the layout (hanging indents) can tell where entries start; else None."""
    if not isinstance(text, str) or not text:
        return None
    section = find_reference_section(text)
    if section is None or section[1] <= section[0]:
        return None
    _, numeric = _entry_starts(text, section[0], section[1])
    return None if numeric else section


def parse_references(text: str, section: tuple[int, int] | None = None,
                     starts: Optional[list[int]] = None) -> list[Reference]:
    """The entries of the paper's own reference list, in order.

    ``section`` overrides :func:`find_reference_section` (pass ``(0, len(text))`` to parse a
    bare list). Numbered styles (``[12] ...``, ``12. ...``, ``12 ...``) keep their labels;
    unnumbered (author–year) lists are labelled ``"1"``, ``"2"``, ... in order. ``text`` of an
    entry is one line: hyphenation re-joined, page-number lines and trailing back-reference
    page numbers removed, mojibake repaired. Never raises on odd input; returns ``[]`` when no
    list is found. ``starts`` (offsets of lines in the section) are where the entries of an
    unnumbered list start, when the layout tells (a PDF's hanging indents); numbered lists ignore
    them.
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

    chosen, numeric = _entry_starts(text, start, end)
    if starts and not numeric:
        hinted = sorted({p for p in starts if start <= p < end})
        if len(hinted) >= 2:
            chosen = [_Cand(_lead(text, p), _lead(text, p), 0, True, True, cut=p) for p in hinted]
            if hinted[0] > start and text[start:hinted[0]].strip():
                chosen.insert(0, _Cand(_lead(text, start), _lead(text, start), 0, True, True, cut=start))
    if not chosen:
        return []
    lines = _Lines(text)
    entries: list[Reference] = []
    for i, c in enumerate(chosen):
        body_end = chosen[i + 1].cut if i + 1 < len(chosen) else end
        entry = _entry(text, c, body_end, numeric, len(entries) + 1, lines)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry_starts(text: str, start: int, end: int) -> tuple[list[_Cand], bool]:
    """Where the entries start, and whether they are numbered: bracketed labels, else numbers,
    else the starts of an author–year list."""
    bracket = _select_increasing(_bracket_candidates(text, start, end), first_max=5, allow_glued=True)
    numbered = _select_increasing(_numbered_candidates(text, start, end), first_max=1, allow_glued=False)
    if numbered and not _near_top(text, start, numbered[0].start):
        numbered = []       # "1 - x" lines of an appendix's maths after an author-year list
    keys = _key_candidates(text, start, end)
    if len(keys) >= 3 and len(keys) > len(bracket) and len(keys) > len(numbered):
        return keys, True
    if bracket and len(bracket) >= len(numbered):
        return bracket, True
    if len(numbered) >= 2 or (numbered and not bracket):
        return numbered, True
    return _author_year_starts(text, start, end), False


def _near_top(text: str, start: int, at: int, lines: int = 3) -> bool:
    """Whether ``at`` is on one of the first non-blank ``lines`` lines from ``start``."""
    return sum(1 for line in text[start:at].split("\n") if line.strip()) <= lines


def _entry(text: str, c: _Cand, body_end: int, numeric: bool, position: int, lines: _Lines) -> Reference | None:
    """The entry starting at ``c`` (its text joined into one line), or None when it is empty.
    Unnumbered entries are labelled by their ``position`` in the list."""
    entry_text = _finish_text(_join_pieces(text[c.end if numeric or c.end > c.start else c.start:body_end].split("\n")))
    if not entry_text:
        return None
    # span: label to the last non-blank character of the entry (page lines included)
    stop = body_end
    while stop > c.start and text[stop - 1] in " \t\r\n\x00":
        stop -= 1
    doi, arxiv = extract_ids(entry_text)
    years = extract_years(entry_text)
    label = (c.name or str(c.label)) if numeric else str(position)
    return Reference(label=label, text=entry_text,
                     line=lines.line_of(c.start), span=Span(c.start, max(stop, c.end)),
                     title=extract_title(entry_text), doi=doi, arxiv=arxiv, year=years[-1] if years else "")
