"""What a PDF's layout says that its text alone does not: the title page's metadata and the running
headers and footers of every page.

Pure Python over ``Line`` records (text, font size and box, in points from the page's top-left);
``pdf.py`` makes them with pypdfium2. Rules, all measured on real PDFs (bench/metadata_accuracy.py):

- the **title** is the largest-font block in the upper part of the first real page (a repository
  cover page, ResearchGate/HAL/SSRN/CMU, is skipped), without journal banners, running headers,
  dates, copyright/reprint/editor lines or section headings; its lines are joined whatever their
  number; the PDF's own Info title is used when it is on the page (or when the page has none);
- the **authors** are the name-like lines between the title and the abstract (emails,
  affiliations, addresses and editor lines left out); all-caps names are title-cased;
- the **year** comes from the copyright, venue or journal line, the arXiv side stamp or a dated
  line of the title page (the publication's own lines, never the abstract's text);
- **running headers and footers** are short lines at the top or bottom of pages that repeat on
  other pages (digits aside), and bare page numbers there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from paperlens.core.joins import norm_words


@dataclass
class Line:
    text: str
    size: float = 0.0        # font size in points (height of the characters' loose boxes)
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0         # from the top of the page
    bottom: float = 0.0
    weight: int = 0          # 400 regular, 700 bold; 0 or -1 unknown
    rotated: bool = False    # vertical text (the arXiv stamp on the left margin)
    order: int = 0           # index of the line in the page's text
    page_height: float = 0.0
    page_width: float = 0.0

    @property
    def words(self) -> list[str]:
        return self.text.split()


@dataclass
class Header:
    """Metadata read off a PDF's title page; empty strings where nothing plausible was found."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: str = ""


# -- running headers and footers -------------------------------------------------------------------

BAND = 0.09                  # top and bottom share of the page where running lines live
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—\[]\s*)?(?:page\s+)?(?:\d{1,4}|[ivxlc]{2,6})(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—\]])?$",
    re.IGNORECASE)


def _shape(text: str) -> str:
    """A line's text with numbers and spacing made alike: 'Design July 1983 12' ~ '... 13'."""
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _in_band(line: Line) -> bool:
    h = line.page_height
    if h <= 0:
        return False
    return line.top < BAND * h or line.bottom > (1 - BAND) * h


def _edge_lines(lines: list[Line]) -> list[Line]:
    """A page's candidates for running headers and footers: its two topmost and two bottommost
    lines (margins differ between publishers), and any line in the top or bottom band."""
    flat = [l for l in lines if not l.rotated and l.text.strip()]
    by_top = sorted(flat, key=lambda l: l.top)
    edge = by_top[:2] + by_top[-2:]
    return list({id(l): l for l in edge + [l for l in flat if _in_band(l)]}.values())


def running_lines(pages: list[list[Line]]) -> list[set[int]]:
    """Per page, the ``order`` of lines that are running headers, footers or page numbers.

    A line counts when it is at the top or bottom of its page and either is a bare page number
    or repeats there (numbers aside) on at least two other pages (or on a third of the pages,
    for long documents with alternating even/odd headers). Long lines never count."""
    out: list[set[int]] = [set() for _ in pages]
    edges = [_edge_lines(lines) for lines in pages]
    seen: dict[tuple, set[int]] = {}

    def where(line: Line) -> tuple:          # same text, numbers aside, at the same height
        return _shape(line.text), round(line.top / 8)

    for p, lines in enumerate(edges):
        for line in lines:
            if len(line.words) <= 16:
                seen.setdefault(where(line), set()).add(p)
    need = max(3, -(-len(pages) // 4))
    if len(pages) < 3:
        need = 10 ** 9                      # too few pages to tell a header from a title
    for p, lines in enumerate(edges):
        for line in lines:
            text = line.text.strip()
            if _PAGE_NUMBER.match(text) and len(pages) >= 2:
                out[p].add(line.order)
            elif len(line.words) <= 16 and len(seen.get(where(line), ())) >= need:
                out[p].add(line.order)
    return out


# -- the title page --------------------------------------------------------------------------------

_COVER = re.compile(
    r"See discussions, stats, and author profiles|researchgate\.net/publication|"
    r"HAL is a multi-disciplinary open access|HAL Id\s*:|archive ouverte pluridisciplinaire|"
    r"Research Showcase @ CMU|Carnegie Mellon University Research Showcase|"
    r"This (?:article|paper) (?:was|is) (?:brought to you|downloaded)|Electronic copy available at|"
    r"Downloaded from|Terms and Conditions of (?:Use|access)|JSTOR is a not-for-profit|"
    r"Your use of the JSTOR archive|Follow this and additional works at|eScholarship|"
    r"Recommended Citation|Digital Commons", re.IGNORECASE)

# lines that are never a title: banners, boilerplate, headings, dates, numbers
_NOT_TITLE = re.compile(
    r"©|\(c\)\s*\d|copyright|all rights reserved|permission|reprint|licen[sc]e|creative commons|"
    r"\bdoi\b|https?:|www\.|@|\bissn\b|\bisbn\b|\bvol(?:ume)?\b\.?\s*\d|\bno\.\s*\d|\bpp\.|"
    r"arxiv\s*:|\bsubmitted\b|\bpublished\b|\baccepted\b|\bunder review\b|\bto appear\b|"
    r"\beditors?\b\s*:|^edited by|\bcommunicated by|\bproceedings\b|\bin proc\.|"
    r"^(?:working|technical|research|position|conference|discussion|white|short|full)\s+paper\b|"
    r"^(?:technical|research|tech\.?|internal)\s+report\b|^rapport de recherche|^apport de recherche|"
    r"^(?:research\s+)?article$|^preprint\b|^review$|^letter$|^editorial$|^contents$|^table of contents|"
    r"^(?:abstract|introduction|keywords?|index terms|authors?)\b|^\d+(?:\.\d+)*\.?\s+introduction\b|"
    r"journal of|transactions on|foundations and trends|lecture notes|communications of the|"
    r"^(?:the\s+)?(?:university|institut[eo]?|department|school|college|laborator)|"
    r"\buniversit(?:y|ät|é|at)\b.*\b(?:of|de|di)\b.*$",
    re.IGNORECASE)
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|janvier|f[ée]vrier|mars|"
          r"avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)\.?")
_DATE_LINE = re.compile(rf"^(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?(?:19|20)\d\d\.?$|"
                        rf"^(?:19|20)\d\d$", re.IGNORECASE)
_TITLE_MARKS = re.compile(r"(?:\s*[*∗†‡§¶]+|(?<=[a-z])\d{1,2}|\s*\(\s*\*\s*\))+$")
_EMAIL = re.compile(r"\{[^{}]*\}\s*@\S+|\S+@\S+")
_URL = re.compile(r"https?://\S+|www\.\S+")
TOP_SHARE = 0.66             # the title starts in the upper two thirds of its page
SLIDE_TITLE_SIZE = 20.0      # a font this large is a title's even when most of the page has it (slides)


def is_cover_page(text: str) -> bool:
    """A repository's cover sheet put before the paper (ResearchGate, HAL, SSRN, CMU, JSTOR…)."""
    return bool(_COVER.search(text[:6000]))


def garbled(text: str) -> bool:
    """Text from a PDF whose fonts have no usable character map: few letters, few vowels, many
    symbols ('"!#%$&'$)(*$+,' or 'Í!l%')."""
    chars = [c for c in text if not c.isspace()]
    if len(chars) < 4:
        return False
    letters = [c for c in chars if c.isalpha()]
    if len(letters) / len(chars) < 0.6:
        return True
    latin = [c for c in letters if c.isascii()]
    if len(latin) >= 8:
        vowels = sum(1 for c in latin if c.lower() in "aeiouy")
        if not 0.18 <= vowels / len(latin) <= 0.7:
            return True
        words = [w for w in re.findall(r"[A-Za-z]+", text) if len(w) >= 3]
        # junk: capitals inside lowercase runs ("rEs", "vCtu", "ijlkCmCnpoq")
        odd = sum(1 for w in words if re.search(r"[a-z][A-Z]", w) and not re.match(r"(?:Mc|Mac|De|Di|La|Le|Van|Von)[A-Z]", w))
        if odd >= 4 and odd / len(words) > 0.3:
            return True
    symbols = sum(1 for c in chars if c in "#{}|~<>\\^`@$%")
    return symbols >= 2 and symbols / len(chars) > 0.04


def _title_like(line: Line) -> bool:
    text = line.text.strip()
    if not text or line.rotated:
        return False
    if not re.search(r"[^\W\d_]{3}|[\u3400-\u9fff]", text):
        return False                 # no word of three letters: math ("h PN i"), marks, numbers
    if _NOT_TITLE.search(text) or _DATE_LINE.match(text) or _PAGE_NUMBER.match(text):
        return False
    if garbled(text):
        return False
    return True


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into visual rows (same baseline region, similar size), top to bottom, each
    row left to right. pdfium splits a row where the font or spacing changes."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda l: (l.top, l.x0)):
        for row in rows[-3:]:
            ref = row[0]
            overlap = min(ref.bottom, line.bottom) - max(ref.top, line.top)
            if overlap > 0.5 * min(ref.bottom - ref.top, line.bottom - line.top) and \
                    abs(ref.size - line.size) <= 0.25 * max(ref.size, line.size) and \
                    max(line.x0 - max(l.x1 for l in row), min(l.x0 for l in row) - line.x1) \
                    < 1.5 * max(line.size, 1.0):
                row.append(line)
                break
        else:
            rows.append([line])
    for row in rows:
        row.sort(key=lambda l: l.x0)
    rows.sort(key=lambda r: r[0].top)
    # rows side by side (names in columns, set a point apart) are read left to right
    out: list[list[Line]] = []
    band: list[list[Line]] = []
    for row in rows:
        if band:
            ref = band[0][0]
            centre = (row[0].top + row[0].bottom) / 2
            if not ref.top <= centre <= ref.bottom:
                out.extend(sorted(band, key=lambda r: r[0].x0))
                band = []
        band.append(row)
    out.extend(sorted(band, key=lambda r: r[0].x0))
    return out


def _row_text(row: list[Line]) -> str:
    out = ""
    for line in row:
        t = line.text.strip()
        if out and not (t.startswith((",", ";", ".")) or out.endswith(("-", "/"))):
            out += " "
        out += t
    return out


def _x_overlap(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) - max(a0, b0) > -2.0 or abs((a0 + a1) / 2 - (b0 + b1) / 2) < 40


def _title_block(rows: list[list[Line]], seed: int) -> list[list[Line]]:
    """The title's rows around row ``seed``: rows of similar size, close below or above,
    overlapping it horizontally, that are themselves title-like. Rows of another column
    (no horizontal overlap) in between are passed over."""
    size = max(l.size for l in rows[seed])
    x0, x1 = min(l.x0 for l in rows[seed]), max(l.x1 for l in rows[seed])
    column = [r for r in rows if _x_overlap(x0, x1, min(l.x0 for l in r), max(l.x1 for l in r))]
    at = next(i for i, r in enumerate(column) if r is rows[seed])

    def joins(a: list[Line], b: list[Line]) -> bool:
        sa, sb = max(l.size for l in a), max(l.size for l in b)
        if not (0.72 * size <= sb <= 1.4 * size):
            return False
        gap = abs(b[0].top - a[0].top)
        if gap > 1.9 * max(sa, sb) or gap <= 0:
            return False
        text = _row_text(b)
        if not _title_like(Line(text)) or _EMAIL.search(text):
            return False
        names = _names_line(text)
        if names and (abs(sb - size) > 0.08 * size or
                      (len(names) >= 2 and re.search(r",|\sand\s|&|[A-Za-z][\d*†‡∗]", text))):
            return False          # the author line right under a title
        return True

    start, end = at, at + 1
    while end < len(column) and end - start < 6 and joins(column[end - 1], column[end]):
        end += 1
    while start > 0 and end - start < 6 and joins(column[start], column[start - 1]):
        start -= 1
    return column[start:end]


def _clean_title(text: str) -> str:
    text = " ".join(text.split())
    text = _TITLE_MARKS.sub("", text).strip(" .,;:-–—")
    text = re.sub(r"\s+([:,;?!])", r"\1", text)
    text = re.sub(r"(?<=[:;])(?=[A-Za-z])", " ", text)       # "Tracing:Dynamic" -> "Tracing: Dynamic"
    if text.isupper() and sum(1 for c in text if c.isalpha()) > 6:
        text = _title_case(text)
    return text


_SMALL = {"a", "an", "the", "of", "for", "in", "on", "to", "and", "or", "with", "from", "via",
          "by", "at", "as", "is", "into", "over", "under"}


def _title_case(text: str) -> str:
    """'QUEUEING MODELS OF CONCURRENCY CONTROL' -> 'Queueing Models of Concurrency Control';
    short words that are not English function words stay as they are (BGP, LSM, CAP)."""
    out = []
    for i, word in enumerate(text.split()):
        bare = re.sub(r"[^A-Za-z]", "", word)
        if i and bare.lower() in _SMALL:
            out.append(word.lower())
        elif len(bare) <= 3 and bare.lower() not in _SMALL:
            out.append(word)
        else:
            out.append(re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), word))
    return " ".join(out)


def plausible_info_title(title: str) -> bool:
    """The PDF's Info title, when it is a title and not a file name or a template's placeholder."""
    t = " ".join((title or "").split())
    if len(t) < 6 or len(t.split()) < 2 and len(t) < 12:
        return False
    if re.search(r"\.(?:dvi|pdf|docx?|tex|ps|eps|fm|indd|qxd|rtf|pptx?)\b|^(?:microsoft\s+\w+\s*-|"
                 r"slide\s*\d|untitled|pii\s*:|proceedings template|title\b|document\d*$|"
                 r"powerpoint presentation|lncs \d+)|[/\\]", t, re.IGNORECASE):
        return False
    return not garbled(t)


def _fuzzy_in(needle: str, hay: str) -> bool:
    n, h = norm_words(needle), norm_words(hay)
    return bool(n) and (n in h or n.replace(" ", "") in h.replace(" ", ""))


# -- authors -----------------------------------------------------------------------------------------

_AFFILIATION = re.compile(
    r"universit|institut|college|laborator|\blabs?\b|research|school|department|dept\b|faculty|"
    r"centre|center|\binc\b|corporation|\bcorp\b|company|academy|hospital|foundation|\bgmbh\b|"
    r"\bltd\b|\bllc\b|\bsa\b|google|microsoft|yahoo|facebook|amazon|linkedin|\bibm\b|intel\b|"
    r"\bsap\b|nokia|\bhp\b|alibaba|tencent|baidu|@|https?://|\bstreet\b|\bave(?:nue)?\b|\broad\b|"
    r"\bbox\b|\bcedex\b|\busa\b|\buk\b|\bchina\b|\bfrance\b|\bgermany\b|\bjapan\b|\bitaly\b|"
    r"\bspain\b|\bcanada\b|\bisrael\b|\bportugal\b|\bengland\b|\bgreece\b|\bswitzerland\b|"
    r"\bnetherlands\b|\baustria\b|\bkorea\b|\bindia\b|\bsingapore\b|\baustralia\b|program",
    re.IGNORECASE)
_NOT_AUTHOR = re.compile(
    r"^(?:editor|edited|communicated|received|submitted|accepted|published|revised|keywords?|"
    r"abstract|to appear|appeared|position paper|working paper|technical report|research report|"
    r"white paper|preprint|draft|version|thesis|dissertation|supervisor|advisor|in partial|"
    r"a thesis|a dissertation|presented|master|doctor|bachelor|b\.sc|m\.sc|ph\.?d|"
    r"corresponding|equal contribution|all rights|copyright)\b",
    re.IGNORECASE)
_PARTICLES = {"de", "van", "der", "von", "da", "di", "le", "la", "du", "del", "den", "dos", "das",
              "ten", "ter", "bin", "al", "el", "y", "e"}
_NAME_TOKEN = re.compile(
    r"^(?:[A-Z\u00C0-\u00DE][a-z\u00DF-\u024F'’]+(?:-[A-Z\u00C0-\u00DE]?[a-z\u00DF-\u024F'’]*)*"
    r"|[A-Z]\.(?:-?[A-Z]\.)*|[A-Z]|O['’][A-Z][a-z]+|Mc[A-Z][a-z]+|Mac[A-Z][a-z]+|[A-Z][a-z]*[A-Z][a-z]+)$")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff]{2,4}$")
_AUTHOR_MARKS = re.compile(r"[\d*∗†‡§¶⇤✝♮♯♭⋆^#]+")


def _name_ok(name: str, caps_line: bool) -> bool:
    tokens = name.split()
    if not 1 <= len(tokens) <= 5 or len(name) > 60:
        return False
    if len(tokens) == 1:
        return bool(_CJK_NAME.match(tokens[0]))
    real = 0
    for tok in tokens:
        t = tok.strip(",")
        if t.lower() in _PARTICLES:
            continue
        if caps_line and re.fullmatch(r"[A-Z][A-Z'’-]+|[A-Z]\.?", t):
            t = t.capitalize() if len(t) > 2 else t
        if not _NAME_TOKEN.match(t):
            return False
        if len(t.rstrip(".")) > 1:
            real += 1
    return real >= 1


_IEEE = re.compile(r",?\s*(?:(?:Student|Senior|Life)\s+)?(?:Member|Fellow)\s*,?\s*IEEE\b|,\s*IEEE\b")


def _caps(text: str) -> bool:
    """An all-capitals author line ('PHILIP A. BERNSTEIN and NATHAN GOODMAN')."""
    return re.sub(r"\band\b", "", text).isupper()


def _run_of_names(tokens: list[str]) -> list[str]:
    """'Venky Harinarayan Anand Rajaraman Jeffrey D. Ullman' -> three names: a given name,
    initials, then a surname (with its particles: 'van den Driessche')."""
    names, i = [], 0
    while i < len(tokens):
        name = [tokens[i]]
        i += 1
        while i < len(tokens) and re.fullmatch(r"[A-Z]\.(?:-?[A-Z]\.)*", tokens[i]):
            name.append(tokens[i])
            i += 1
        while i < len(tokens) and tokens[i].lower() in _PARTICLES:
            name.append(tokens[i])
            i += 1
        if i < len(tokens):
            name.append(tokens[i])
            i += 1
        names.append(" ".join(name))
    return names


def _split_names(text: str) -> list[str]:
    """Names on an author line: separated by commas, semicolons, 'and', '&', em dashes,
    affiliation marks, or wide gaps (pdfium keeps runs of spaces between name columns)."""
    s = _IEEE.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", text)))
    caps = _caps(s)
    if caps:
        s = re.sub(r"\bAND\b", " and ", s)
    s = re.sub(r"(?<=[A-Za-z\u00C0-\u024F.])[\d*∗†‡§¶⋆^#,]+(?=\s|$)", " | ", s)
    s = re.sub(r"\s(?:and|&|und|et|y)\s|[,;|—–]|\s{3,}|^and\s|\s+and$", " | ", s)
    out = []
    for part in s.split("|"):
        part = " ".join(_AUTHOR_MARKS.sub(" ", part).split()).strip(" .")
        part = re.sub(r"^(?:by|and)\s+", "", part, flags=re.IGNORECASE)
        if not part:
            continue
        tokens = part.split()
        if len(tokens) >= 4 and sum(1 for t in tokens if not re.fullmatch(r"[A-Z]\.(?:-?[A-Z]\.)*", t)
                                    and t.lower() not in _PARTICLES) >= 4:
            out.extend(_run_of_names(tokens))      # no separators between the names
        else:
            out.append(part)
    names = []
    for n in out:
        if caps:
            n = " ".join(w if re.fullmatch(r"[A-Z]\.?", w) else w.capitalize() for w in n.split())
        if n and n.endswith(".") and not re.search(r"\b[A-Z]\.$", n):
            n = n[:-1]
        names.append(n)
    return names


_MARK_PARENS = re.compile(r"\(\s*[\d*∗†‡§¶⋆^#,\s]+\)|\{\s*[\d*∗†‡§¶⋆^#,\s]+\}|\$[^$]{0,12}\$")


_STRAY_ACCENT = re.compile(r"(?<=\w) [˜´`¨ˆ¸˚ˇ] (?=\w)|(?<=\w)[˜´`¨ˆ¸˚ˇ](?=\s|$)|\s[˜´`¨ˆ¸˚ˇ](?=\s|$)")


_COMMA_BELOW = {"t": "ţ", "T": "Ţ", "s": "ş", "S": "Ş"}


def _name_repairs(text: str) -> str:
    """What extraction does to names: accents set apart from their letter ('Leit ˜ ao˜',
    'F ¨ eraud'), OCR digits for letters ('U1lman'), a lost space ('JonathanMace')."""
    text = _STRAY_ACCENT.sub("", text)
    # a comma below set as a comma: 'Let, ia' -> 'Leţia' (a separator is followed by a capital)
    text = re.sub(r"(?<=[a-z])([tTsS]),\s?(?=[a-z])", lambda m: _COMMA_BELOW[m.group(1)], text)
    text = re.sub(r"(?<=[A-Za-z])1(?=[a-z])", "l", text)
    return re.sub(r"\b([A-Z][a-z]{3,})([A-Z][a-z]{2,})\b", r"\1 \2", text)


def _names_line(text: str) -> list[str]:
    """The names on a line, or [] when the line is not a line of author names."""
    t = _name_repairs(_IEEE.sub(" ", _MARK_PARENS.sub(" ", text))).strip()
    t = re.sub(r"^by\s+", "", t, flags=re.IGNORECASE)
    bare = _EMAIL.sub(" ", _URL.sub(" ", t))
    if not bare.strip() or _NOT_AUTHOR.search(t) or _AFFILIATION.search(bare) or \
            re.search(r"\d{3,}|[<>=\[\]{}()|]", bare):
        return []
    if _DATE_LINE.match(t) or garbled(t):
        return []
    names = _split_names(t)
    caps = _caps(bare)
    if not names or not all(_name_ok(n, caps) for n in names):
        return []
    return names


# -- year --------------------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<![\d.\-/])(1[89]\d\d|20\d\d)(?!\d|['’]?s\b)|(?<![\d.])\d{1,2}[-/](1[89]\d\d|20\d\d)(?!\d)")
_ARXIV_STAMP = re.compile(r"arXiv:\s*\d{4}\.\d{4,5}(?:v\d+)?\s*\[[^\]]*\]\s*\d{1,2}\s+\w+\s+(\d{4})")
_COPYRIGHT = re.compile(r"©|\(c\)|⃝c|copyright|\bc\s+(?=(?:19|20)\d\d)|all rights reserved|"
                        r"^\W{0,2}[@0OQ©]?\s*(?:19|20)\d\d\s+(?:ACM|IEEE)\b", re.IGNORECASE)
# where a publication says where and when it appeared
_VENUE_STRONG = re.compile(
    r"proceedings|conference|symposium|workshop|journal|transactions|letters|\bvol\.?\s*\d|volume|"
    r"published|appeared|to appear|accepted|under review|in press", re.IGNORECASE)
_VENUE = re.compile(
    r"\bacm\b|\bieee\b|\busenix\b|vldb|sigmod|sigcomm|sosp|osdi|nsdi|podc|kdd|wsdm|recsys|nips|"
    r"neurips|icml|iclr|aaai|ijcai|\bacl\b|emnlp|cvpr|iccv|eccv|press|submitted|revised|review|"
    r"report|working paper|\btr\b|thesis|issn|isbn|pp\.|\bno\.|nature|science|springer|elsevier|"
    r"kluwer|pergamon|jmlr|pmlr|edition|technical|presented|kaufmann|wiley|addison|prentice|"
    r"birkh[aä]user|north[- ]holland|publishers?\b", re.IGNORECASE)
_DEGREE = re.compile(r"\b(?:B\.?\s?Sc|M\.?\s?Sc|B\.?\s?A\.?\s?Sc|B\.\s?A|M\.\s?A|Ph\.\s?D|B\.?\s?Eng|M\.?\s?Eng|"
                     r"M\.?\s?S\.|B\.?\s?S\.)(?![a-z])")
_CONF_YEAR = re.compile(r"\b[A-Z][A-Za-z]{1,9}\s?['’](\d\d)\b")


def _years(text: str) -> list[str]:
    return [y for m in _YEAR.finditer(text) if 1900 <= int(y := m.group(1) or m.group(2)) <= 2099]


def find_year(lines: list[Line], body_size: float, header_bottom: float = 0.0) -> str:
    """The publication year printed on the title page (see module doc); '' when none.

    Ranked: a copyright line, then where it appeared (proceedings, journal, 'appeared in'), the
    arXiv stamp, a dated or venue-like line, a line at the page's edge or in a small font, any
    other short line above ``header_bottom`` (where the abstract or the text starts); the latest
    year of the best rank. Running text, decades ('1970s') and earlier degrees ('B.Sc., 2002' on
    a thesis) do not count."""
    best: tuple[int, int, str] = (0, 0, "")
    prev: Optional[Line] = None
    for line in sorted(lines, key=lambda l: (l.top, l.x0)):
        above, prev = prev, line
        text = " ".join(line.text.split())
        context = text
        if above is not None and 0 < line.top - above.top < 2 * max(line.size, 1) and \
                not _years(above.text):
            context = " ".join(above.text.split()) + " " + text     # "... published by" / "Kaufmann (1992)"
        m = _ARXIV_STAMP.search(text)
        if m:
            best = max(best, (4, int(m.group(1)), m.group(1)))
            continue
        years = _years(text)
        conf = _CONF_YEAR.findall(text) if not years else []
        if not years and not conf or _DEGREE.search(text):
            continue
        words = len(text.split())
        running_text = words > 14 and line.size >= 0.95 * body_size and not _COPYRIGHT.search(text) \
            and not re.search(r"^(?:in\s+)?proceedings|^published|^appeared|^to appear|^this (?:article|paper)",
                              text, re.I) \
            and not (_VENUE_STRONG.search(text) and re.search(r"\bvol\b|\bno\.|\bpages?\s+\d|\bpp\.", text, re.I))
        if running_text:
            continue                          # a sentence of the abstract or the body
        height = line.page_height or 1e9
        aside = line.top < header_bottom or _in_band(line) or not 0.9 * body_size <= line.size <= 1.15 * body_size or \
            line.top > 0.8 * height                   # the first page's footnotes: venue, copyright
        if _COPYRIGHT.search(text):
            rank = 6
        elif _VENUE_STRONG.search(context):
            rank = 5
        elif not aside:
            continue                          # a year in the text, not about this paper
        elif _VENUE.search(text) or _DATE_LINE.match(text) or re.search(r"\((?:19|20)\d\d\)$", text) or \
                re.search(_MONTH + r"\s+(?:\d{1,2},?\s+)?(?:19|20)\d\d|\b\d{1,2}[-/](?:19|20)\d\d\b", text, re.I):
            rank = 3
        elif words <= 8 or line.top >= header_bottom:
            rank = 2
        else:
            continue
        for y in years:
            best = max(best, (rank, int(y), y))
        for yy in conf:
            y = ("20" if int(yy) < 50 else "19") + yy
            best = max(best, (rank - 1, int(y), y))
    return best[2]


# -- the whole header --------------------------------------------------------------------------------

def body_size(lines: list[Line]) -> float:
    """The most common font size, weighted by characters: the running text's size."""
    weights: dict[float, int] = {}
    for line in lines:
        if line.size > 0:
            key = round(line.size * 2) / 2
            weights[key] = weights.get(key, 0) + len(line.text)
    return max(weights, key=weights.get) if weights else 0.0


_HEADING_STOP = re.compile(r"^(?:#+\s*)?(?:abstract|a b s t r a c t|(?:1\.?|I\.)?\s*introduction)\b",
                           re.IGNORECASE)


def _is_stop(text: str, line: Line, body: float) -> bool:
    """Where the header ends: the abstract, a first section, or running text."""
    t = text.strip()
    if re.match(r"^(?:#+\s*)?(?:abstract|summary|résumé|keywords|index terms|a b s t r a c t)\b", t, re.I):
        return True
    if re.match(r"^(?:1\.?|I\.)?\s*introduction\b", t, re.I):
        return True
    return len(t.split()) > 14 and abs(line.size - body) <= 0.6 and not _names_line(t) and \
        not _AFFILIATION.search(t)


def read_header(pages: list[list[Line]], page_texts: list[str], info_title: str = "",
                running: Optional[list[set[int]]] = None) -> Header:
    """Title, authors and year from the first pages' lines (see the module doc)."""
    if not pages:
        return Header()
    skip = running or [set() for _ in pages]
    if not (len(pages) > 1 and page_texts and is_cover_page(page_texts[0]) and pages[1]):
        return _read_page(pages[0], info_title, skip[0])
    # a repository's cover page: the paper's own first page, where the cover confirms its title
    cover = _read_page(pages[0], info_title, skip[0])
    paper = _read_page(pages[1], info_title, skip[1])
    if paper.title and (not cover.title or _fuzzy_in(paper.title, page_texts[0])):
        paper.authors = paper.authors or cover.authors
        paper.year = paper.year or cover.year
        return paper
    return cover


def _read_page(lines: list[Line], info_title: str, skip: set[int]) -> Header:
    lines = [l for l in lines if l.text.strip()]
    if not lines:
        return Header()
    body = body_size(lines)
    height = lines[0].page_height or max(l.bottom for l in lines)
    rows = _rows([l for l in lines if not l.rotated and l.order not in skip])
    page_text = "\n".join(l.text for l in lines)

    # the title: the largest title-like row in the upper part of the page
    seed, seed_size = None, 0.0
    for i, row in enumerate(rows):
        if row[0].top > TOP_SHARE * height:
            break
        text = _row_text(row)
        if seed is not None and _HEADING_STOP.match(text):
            break                             # the abstract or first section: the title was above
        size = max(l.size for l in row)
        if size > seed_size + 0.3 and _title_like(Line(text)):
            seed, seed_size = i, size
    title = ""
    end = 0
    if seed is not None:
        block = _title_block(rows, seed)
        title = _clean_title(" ".join(_row_text(r) for r in block))
        end = rows.index(block[-1]) + 1
        if seed_size < body + 0.6 and seed_size < SLIDE_TITLE_SIZE and block[0][0].top > 0.3 * height:
            title = ""                        # no larger font near the top: no title typography
    info = " ".join((info_title or "").split())
    if plausible_info_title(info) and norm_words(info) != norm_words(title):
        typeset = seed_size >= body + 0.6          # the page sets a title apart by its size
        if not title or not typeset or (_fuzzy_in(info, page_text) and not _fuzzy_in(title, info)
                                        and seed_size < body + 2):
            title = _clean_title(info)

    # the authors: name lines after the title, before the abstract or the first section
    authors: list[str] = []
    if title and seed is not None:
        name_size = None
        for row in rows[end:end + 25]:
            text = _row_text(row)
            line = row[0]
            if _is_stop(text, line, body) or line.top > 0.8 * height:
                break
            pieces = [_names_line(l.text) for l in row] if len(row) > 1 else []
            names = _names_line(text) or [n for p in pieces for n in p]
            size = max(l.size for l in row)
            if names:
                if name_size is None or abs(size - name_size) <= 0.6:
                    name_size = size
                    authors.extend(n for n in names if n not in authors)
            elif authors and name_size is not None and abs(size - name_size) > 0.6:
                continue                      # an affiliation in another font: names may follow
    header_bottom = next((r[0].top for r in rows[end:] if _is_stop(_row_text(r), r[0], body)), height)
    year = find_year(lines, body, header_bottom)       # running headers date papers too: all lines
    return Header(title=title, authors=authors, year=year)
