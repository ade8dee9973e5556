"""Paper texts: ``.txt`` extractions and ``.md`` papers -> one Paper with its passages.

The rules are simple and meant to be robust on real extractions (see ``shared/seeds``):
title on the first lines, then author lines, affiliations, an ``Abstract`` heading and
numbered section headings; ``References`` ends the body. Markdown papers may instead use a
``# Title`` heading, ``**Authors:**``-style fields and ``## Abstract``; YAML front matter
(``title:``, ``author:``, ``year:``, ``venue:``, ``doi:``, ``key:``) wins over both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.core.joins import HEAD_CHARS
from paperlens.core.models import Paper
from paperlens.core.parse.common import ParseResult, chunk_lines, join_lines, paper_id

FUNCTION_WORDS = {
    "a", "an", "the", "of", "for", "in", "on", "to", "from", "with", "via", "by", "using",
    "towards", "toward", "into", "through", "without", "at", "is", "are", "as", "be", "we",
    "our", "not", "or", "its", "can", "do", "does", "what", "how", "when", "versus", "vs",
}
NAME_PARTICLES = {"and", "de", "van", "der", "von", "da", "di", "le", "la", "du", "del", "den", "dos", "y"}
AFFILIATION_HINTS = re.compile(
    r"universit|institut|college|laborator|\blab\b|research|school|department|dept\.|"
    r"centre|center|inc\.|corporation|academy|hospital|google|microsoft|meta\b|@|https?://|"
    r"\bgmbh\b|\bltd\b|faculty|\bchina\b|\busa\b|\buk\b|france|germany|japan|israel|spain",
    re.IGNORECASE)
HEADING = re.compile(
    r"^(?:#{1,6}\s*)?(?:(?:\d+(?:\.\d+)*\.?|[IVX]+\.)\s+)?"
    r"(abstract|introduction|related work|background|method|methods|methodology|approach|"
    r"experiments?|results|evaluation|discussion|conclusions?|limitations|"
    r"acknowledg(?:e)?ments?|references|bibliography|appendix)\b[.:]?\s*$",
    re.IGNORECASE)
NUMBERED_HEADING = re.compile(r"^(?:#{1,6}\s*)?\d+(?:\.\d+)*\.?\s+[A-Z][^.]{0,70}$")
GLUED_INTRO = re.compile(r"^(.*?\S)\s*((?:1\.?|I\.)\s+Introduction)\s*$")
INLINE_ABSTRACT = re.compile(r"(?:^\s*(?:#+\s*)?abstract\s*[-—.:]\s*|(?<![A-Za-z])Abstract\s*:\s*)(?=\S)",
                             re.IGNORECASE)
MD_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
FIELD = re.compile(r"^\s*(?:\*\*|__)?(title|authors?|year|venue|doi|arxiv|keywords?)(?:\*\*|__)?\s*:\s*"
                   r"(?:\*\*|__)?\s*(.+?)\s*$", re.IGNORECASE)
YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
ARXIV = re.compile(r"\barXiv:\s*(\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)
VENUES = ("CVPR", "ICCV", "ECCV", "WACV", "NeurIPS", "NIPS", "ICLR", "ICML", "AAAI", "IJCAI",
          "ACL", "EMNLP", "NAACL", "MICCAI", "SIGIR", "KDD", "CHI", "SIGGRAPH", "BMVC")
FILENAME_VENUE = re.compile(r"(?:^|[_\-\s])(" + "|".join(VENUES) + r")[_\-\s]?((?:19|20)\d\d)(?:[_\-\s.]|$)",
                            re.IGNORECASE)
WATERMARK_VENUE = re.compile(r"This (" + "|".join(VENUES) + r") paper is the Open Access version")
MARKERS = re.compile(r"[\d*†‡§¶⇤∗✝]+|‚á§|‚àó|\$\^?\{?[\d,*]+\}?\$?")


_MARKDOWN_MARKS = re.compile(r"[*_`]+")


def _strip_markdown(s: str) -> str:
    if "*" in s or "_" in s or "`" in s:
        s = _MARKDOWN_MARKS.sub("", s)
    return s.strip()


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """Simple YAML front matter (scalars and ``- item`` lists) and the line after it."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    data: dict[str, str] = {}
    last = ""
    for i in range(1, min(len(lines), 200)):
        line = lines[i]
        if line.strip() in ("---", "..."):
            return data, i + 1
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if m:
            last = m.group(1).lower()
            data[last] = m.group(2).strip().strip("'\"")
        elif line.strip().startswith("- ") and last:
            item = line.strip()[2:].strip().strip("'\"")
            data[last] = f"{data[last]}; {item}" if data[last] else item
    return {}, 0


def _is_name_line(line: str) -> bool:
    """An author line: names, affiliation digits/marks, commas; no title function words."""
    s = line.strip()
    if not s or len(s) > 400 or AFFILIATION_HINTS.search(s) or re.search(r"[<>\[\]|=]", s):
        return False
    if re.search(r"[A-Za-z][\d*†‡∗⇤]", s) or "‚á§" in s:
        return True  # digits/marks glued to names: "Baltatzis1," "Lu*"
    words = re.findall(r"[^\s,;]+", MARKERS.sub(" ", s))
    if len(words) < 2:
        return False
    for w in words:
        bare = w.strip(".()")
        if not bare:
            continue
        if bare.lower() in FUNCTION_WORDS:
            return False
        if not bare[0].isalpha():
            continue  # mojibake or marks ("¬¥e"): no evidence either way
        if not (bare[0].isupper() or bare.lower() in NAME_PARTICLES):
            return False
    return True


def _strong_names(line: str) -> bool:
    """Author evidence beyond capitalisation: affiliation marks, commas or 'and' between names."""
    return bool(re.search(r"[A-Za-z][\d*†‡∗⇤]|‚á§|,|\sand\s", line))


def split_authors(text: str) -> list[str]:
    """Split an author line: separators are commas, 'and', affiliation digits and marks."""
    s = text.replace("‚á§", "*").replace("‚àó", "*")
    s = re.sub(r"(?<=[A-Za-z\u00C0-\u024F.])[\d,;*†‡§¶⇤∗✝]+(?=\s*[A-Z\u00C0-\u024F]|\s*$)", " | ", s)
    s = re.sub(r"(?:\s+|(?<=[*†‡∗]))and\s+|[,;&]", " | ", s)
    names: list[str] = []
    for part in s.split("|"):
        part = " ".join(MARKERS.sub(" ", part).split())
        if not part:
            continue
        words = part.split()
        if len(words) >= 4 and not any(w.lower() in NAME_PARTICLES for w in words) and \
                not any(w.endswith(".") for w in words):
            # "Yiwei Bao Feng Lu": no separators between names, take them two words at a time
            names.extend(" ".join(words[i:i + 2]) for i in range(0, len(words), 2))
        else:
            names.append(part)
    return [n for n in names if re.search(r"[A-Za-z\u00C0-\u024F]", n)]


# the last character of a line HEADING can match (it is stripped): a heading word's last letter
# in either case ("ſ" and the Kelvin sign match s and k when the case is ignored), "." or ":"
_HEADING_ENDS = frozenset("tnkdsyhxTNKDSYHX.:\u017f\u212a")


def _heading_name(line: str) -> str | None:
    s = _strip_markdown(line)
    if not s:
        return None
    # (most lines are neither heading: each pattern is tried only where it can match)
    if s[-1] in _HEADING_ENDS:
        m = HEADING.match(s)
        if m:
            return m.group(1).lower()
    if (s[0] == "#" or s[0].isdecimal()) and NUMBERED_HEADING.match(s) and len(s.split()) <= 10:
        return "section"
    return None


# ---------------------------------------------------------------------------------------------
# the stages of parse_text_paper: lines -> head and abstract -> metadata -> sections -> passages
# -> references. Each piece of metadata is taken from the first place that has it: front matter,
# ``Field:`` lines, the header's layout (title above authors), then the whole text and file name.
# ---------------------------------------------------------------------------------------------

Numbered = list[tuple[int, str]]          # (0-based line, text)


@dataclass
class _Metadata:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: str = ""
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    key: str = ""


def _from_front_matter(front: dict[str, str]) -> _Metadata:
    """What YAML front matter says (it wins over everything in the text)."""
    names = front.get("author", front.get("authors", ""))
    year = front.get("year", "")
    if not year and front.get("date"):
        m = YEAR.search(front["date"])
        year = m.group(1) if m else ""
    return _Metadata(title=front.get("title", ""),
                     authors=[a.strip() for a in re.split(r";|\s+and\s+", names) if a.strip()],
                     year=year, venue=front.get("venue", ""), doi=front.get("doi", ""),
                     arxiv=front.get("arxiv", ""), key=front.get("key", ""))


def _abstract_line(lines: list[str], start: int) -> int | None:
    """The line of the ``Abstract`` heading (or of an inline ``Abstract:``), in the first 80."""
    for i in range(start, min(len(lines), start + 80)):
        if _heading_name(lines[i]) == "abstract" or INLINE_ABSTRACT.search(lines[i]):
            return i
    return None


def _split_header(header: Numbered) -> tuple[dict[str, str], str | None, Numbered, set[int]]:
    """``Field: value`` lines and a leading ``# Title`` out of the header: (fields, Markdown
    title, the other lines, the lines used)."""
    fields: dict[str, str] = {}
    md_title = None
    rest: Numbered = []
    used: set[int] = set()           # header lines that held metadata (the rest is body text)
    for i, line in header:
        m = FIELD.match(line)
        if m:
            name = m.group(1).lower()
            fields["author" if name.startswith("author") else name] = _strip_markdown(m.group(2))
            used.add(i)
            continue
        hm = MD_HEADING.match(line)
        if hm and md_title is None and len(hm.group(1)) == 1 and not rest:
            md_title = _strip_markdown(hm.group(2))
            used.add(i)
            continue
        rest.append((i, line))
    return fields, md_title, rest, used


def _apply_fields(meta: _Metadata, fields: dict[str, str], md_title: str | None) -> None:
    if not meta.title:
        meta.title = fields.get("title") or md_title or ""
    if not meta.authors and fields.get("author"):
        meta.authors = split_authors(fields["author"])
    meta.year = meta.year or fields.get("year", "")
    meta.venue = meta.venue or fields.get("venue", "")
    meta.doi = meta.doi or fields.get("doi", "")
    meta.arxiv = meta.arxiv or fields.get("arxiv", "")


def _title_above_authors(rest: Numbered) -> int | None:
    """How many lines above a clear author line (marks, commas, 'and') in the first five,
    when none of them is an affiliation: those lines are the title."""
    strong = next((k for k in range(1, min(len(rest), 5)) if _is_name_line(rest[k][1])
                   and _strong_names(rest[k][1])), None)
    if strong is None or any(AFFILIATION_HINTS.search(rest[k][1]) for k in range(strong)):
        return None
    return strong


def _title_lines(rest: Numbered) -> int:
    """How many of the first lines are the title (at most three): lines that continue it."""
    prev = rest[0][1].strip()
    j = 1
    while j < len(rest) and j < 3:
        line = rest[j][1].strip()
        if AFFILIATION_HINTS.search(line):
            break
        if len(line) > 100 or re.search(r"[.。!?！？]$", line):
            break                      # a sentence, not more of the title
        continuation = prev.endswith((":", "-", "–")) or line[:1].islower() or \
            (not _is_name_line(line) and len(line.split()) <= 12)
        if not continuation:
            break
        prev = line
        j += 1
    return j


def _author_lines(rest: Numbered, used: set[int]) -> list[str]:
    """The first run of author lines (an affiliation before any of them ends the search)."""
    author_lines = []
    for i, line in rest:
        if _is_name_line(line):
            author_lines.append(line)
            used.add(i)
        elif author_lines or AFFILIATION_HINTS.search(line):
            break
    return author_lines


def _read_header(meta: _Metadata, header: Numbered) -> set[int]:
    """Title and authors from the header's lines; returns the lines that held metadata."""
    fields, md_title, rest, used = _split_header(header)
    _apply_fields(meta, fields, md_title)
    if not meta.title and rest:
        n = _title_above_authors(rest)
        if n is not None:
            meta.title = join_lines([line for _, line in rest[:n]])   # everything above the authors
        else:
            n = _title_lines(rest)
            meta.title = join_lines([line.strip() for _, line in rest[:n]])
        used.update(i for i, _ in rest[:n])
        rest = rest[n:]
    if not meta.authors:
        meta.authors = split_authors(" , ".join(_author_lines(rest, used)))
    return used


@dataclass
class _Sections:
    """The abstract's lines and the body's sections, filled line by line."""

    in_abstract: bool
    abstract: Numbered = field(default_factory=list)
    body: list[tuple[str, Numbered]] = field(default_factory=list)
    section: str = "body"
    current: Numbered = field(default_factory=list)

    def add(self, i: int, line: str) -> None:
        (self.abstract if self.in_abstract else self.current).append((i, line))

    def abstract_heading(self, i: int, line: str) -> None:
        m = INLINE_ABSTRACT.search(line)
        inline = line[m.end():] if m else ""
        if inline.strip():
            self.abstract.append((i, inline))
            if len(inline) > 300:   # a whole abstract on one line (web pages): it ends here
                self.in_abstract = False

    def heading(self, line: str, name: str) -> bool:
        """A section starts; True when it is the reference list (the body ends)."""
        self.in_abstract = False
        if self.current:
            self.body.append((self.section, self.current))
        self.current = []
        if name in ("references", "bibliography"):
            self.section = "references"
            return True
        self.section = _strip_markdown(line)
        return False

    def close(self) -> None:
        if self.current and self.section != "references":
            self.body.append((self.section, self.current))


def _sections(lines: list[str], scan_from: int, abstract_line: int | None) -> _Sections:
    """Abstract and body sections from ``scan_from`` to the reference list."""
    out = _Sections(in_abstract=abstract_line is not None)
    for i in range(scan_from, len(lines)):
        line = lines[i]
        name = _heading_name(line)
        # (GLUED_INTRO is case-sensitive: no match without the word)
        glued = GLUED_INTRO.match(line) if not name and "Introduction" in line else None
        if glued:  # "...last abstract words.1. Introduction": a column break glued them
            out.add(i, glued.group(1))
            line, name = glued.group(2), "introduction"
        if i == abstract_line:
            out.abstract_heading(i, line)
            continue
        if name and name != "abstract":
            if out.heading(line, name):
                break
            continue
        out.add(i, line)
    out.close()
    return out


def _year_and_venue(meta: _Metadata, path: Path, text: str, header: Numbered) -> None:
    """A year from the file name (``CVPR_2024``) or the header, a venue from the file name or
    an Open Access watermark, where nothing said them before."""
    if not meta.year:
        m = FILENAME_VENUE.search(path.stem)
        if m:
            meta.year = m.group(2)
            meta.venue = meta.venue or m.group(1)
        else:
            ym = YEAR.search(" ".join(t for _, t in header))
            meta.year = ym.group(1) if ym else ""
    if not meta.venue:
        m = WATERMARK_VENUE.search(text) or FILENAME_VENUE.search(path.stem)
        meta.venue = m.group(1) if m else ""


def _identifiers(meta: _Metadata, lines: list[str]) -> None:
    """A DOI and an arXiv id from the first 60 lines, where nothing said them before."""
    whole_head = "\n".join(lines[:min(len(lines), 60)])
    if not meta.doi:
        m = DOI.search(whole_head)
        meta.doi = m.group(1) if m else ""
    if not meta.arxiv:
        m = ARXIV.search(whole_head)
        meta.arxiv = m.group(1) if m else ""


def _references(paper: Paper, text: str, result: ParseResult, name: str) -> None:
    try:
        from paperlens.core.references import parse_references

        paper.references = parse_references(text)
    except Exception as exc:   # a reference list we cannot read never costs the paper
        result.warnings.append(f"{name}: reference list not read ({exc.__class__.__name__})")


def _passages(result: ParseResult, pid: str, source: str, sections: _Sections,
              line_pages: list[int] | None) -> None:
    if sections.abstract:
        result.passages.extend(chunk_lines(sections.abstract, pid, source, "abstract",
                                           target_tokens=520, max_tokens=800))
    for sec, sec_lines in sections.body:
        result.passages.extend(chunk_lines(sec_lines, pid, source, sec))
    if line_pages:
        for passage in result.passages:
            if 0 <= passage.line_start < len(line_pages):
                passage.page = line_pages[passage.line_start]


def parse_text_paper(path: Path, text: str, line_pages: list[int] | None = None) -> ParseResult:
    """Parse a paper text (already decoded and cleaned).

    ``line_pages`` (for text extracted from a PDF) gives the 1-based page of every line;
    passages then carry the page they start on.
    """
    source = str(path)
    lines = text.split("\n")
    front, start = _front_matter(lines)
    meta = _from_front_matter(front)
    result = ParseResult()

    abstract_line = _abstract_line(lines, start)
    header_end = abstract_line if abstract_line is not None else min(len(lines), start + 12)
    header = [(i, lines[i]) for i in range(start, header_end) if lines[i].strip()]
    used = _read_header(meta, header)

    if abstract_line is not None:
        scan_from = abstract_line
    else:   # no abstract heading: the body starts after the title and author lines
        scan_from = max(used) + 1 if used else start
    sections = _sections(lines, scan_from, abstract_line)
    _year_and_venue(meta, path, text, header)
    _identifiers(meta, lines)

    if not meta.title:
        meta.title = path.stem.replace("_", " ")
        result.warnings.append(f"{path.name}: no title found; using the file name")
    pid = paper_id(source)
    paper = Paper(id=pid, key=meta.key, title=meta.title, authors=meta.authors, year=str(meta.year),
                  venue=meta.venue, abstract=join_lines([t for _, t in sections.abstract]),
                  doi=meta.doi, arxiv=meta.arxiv, source=source, source_line=0, source_kind="text",
                  file=source)
    _references(paper, text, result, path.name)
    result.papers.append(paper)
    result.heads[pid] = text[:HEAD_CHARS]
    _passages(result, pid, source, sections, line_pages)
    return result
