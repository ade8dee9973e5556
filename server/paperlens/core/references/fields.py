"""What one reference entry says: its title, DOI, arXiv id and years."""
from __future__ import annotations

import re

from paperlens.core.identity import arxiv_of_doi

__all__ = ["extract_title", "extract_ids", "extract_years", "extract_first_author"]

# a year not preceded by [\d./:\-–] (the lookbehind after the digits, over them and the
# character before: the same matches, found about 3x faster than with the lookbehind first)
_YEAR = re.compile(r"((?:19\d\d|20[0-4]\d)(?<![\d./:\-–]\d{4})[a-z]?)(?![\d]|\.\d|\s?[-–]\s?\d)")
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
# "Surname, I." author lists: "Lamport, L.: Title", "GILBERT, S., AND LYNCH, N. Title",
# "Oki, Brian M., and Liskov, Barbara H. Title", "Chandra, T.D., Griesemer, R.: Title"
_SURNAME = (r"(?:(?:van|von|de|der|den|da|di|du|del|della|la|le|dos|el|al|ten|ter)\s+)*"
            r"[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+(?:[ \-][A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+)?")
_INITIALS = r"(?:[A-Z\u00C0-\u024F]\.(?:[a-z]\.)?\s?-?\s?)+"
_GIVEN = r"[A-Z\u00C0-\u024F][a-z\u00C0-\u024F]+(?:\s[A-Z]\.)*"
_ONE_SURNAME = (r"(?:(?:van|von|de|der|den|da|di|du|del|della|la|le|dos|el|al|ten|ter)\s+)*"
                r"[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]+")
# a given name in full only after a one-word surname: "Jeffrey Dean, Gregory S. Corrado" is not one
_PERSON_SI = r"(?:" + _SURNAME + r",\s?" + _INITIALS + r"|" + _ONE_SURNAME + r",\s?" + _GIVEN + r")" \
    r"(?:,?\s?(?:Jr|Sr|II|III|IV)\b\.?\s?)?"
_PERSON_I = _SURNAME + r",\s?" + _INITIALS
_SI_SEP = r"(?:,\s*(?:and\s+|AND\s+|&\s*)?|\s*(?:and|AND|&)\s+|;\s*(?:and\s+)?)"
_SI_LIST = re.compile(r"^" + _PERSON_SI + r"(?:" + _SI_SEP + _PERSON_SI + r"|(?:\.\s)?" + _PERSON_I + r")*"
                      r"(?:,?\s*et\s+al\.?)?")
# after the list, names that go on ("Goh, P.K.") or an ACL-style "Name. 2006." : not this style
_MORE_NAMES = re.compile(r"^\s*(?:[A-Z][\w'’\-]+,\s?[A-Z]\.|[A-Z][\w'’\-]+\.\s+(?:19|20)\d\d|"
                         r"[A-Z][\w'’\-]+,?\s+and\s+[A-Z]\.)")
_PAREN_DATE = re.compile(r"\(\s*(?:19|20)\d\d[a-z]?(?:,\s*[A-Za-z.]+)?\s*\)[.,:]?\s+")
# names only (capitalised words, initials, commas, 'and', 'et al'): what comes before "(2013)"
_NAMES_ONLY = re.compile(r"^(?:(?:[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]*\.?|and|AND|&|et|al\.?|"
                         r"van|von|de|der|den|da|di|du|del|la|le)[,;]?\s+){1,80}$")
# what ends a title set off by a comma in place of a period: ", ICML, 2014." / ", 47, 235-256, 2002."
_TRAILING_VENUE = re.compile(r"(?:,\s*(?:[A-Z]{2,}[a-z]?['’]?\d{0,4}|\d[\d\s\-–:()]*|(?:19|20)\d\d[a-z]?))+\s*$")
_TRAILING_YEAR = re.compile(r"\s*,\s*\(?(?:19|20)\d\d[a-z]?\)?$")


def extract_ids(entry_text: str) -> tuple[str, str]:
    """``(doi, arxiv)`` found in an entry; each may be ``""``. DOIs are lower-cased; an arXiv
    DOI (``10.48550/arXiv.2106.12790``) gives the arXiv id too."""
    if not isinstance(entry_text, str):
        return "", ""
    doi = arxiv = ""
    m = _DOI.search(entry_text) if "10." in entry_text else None
    if m:
        doi = m.group(1).lower()
        arxiv = arxiv_of_doi(doi)
    if not arxiv and _may_name_arxiv(entry_text):
        m = _ARXIV_NEW.search(entry_text) or _ARXIV_OLD.search(entry_text)
        if m:
            arxiv = m.group(1).lower()
    return doi, arxiv


def _may_name_arxiv(s: str) -> bool:
    """False when neither arXiv pattern can match: no "arxiv", "abs/" or "corr" in any case
    (a text that is not ASCII is searched: IGNORECASE also matches "ſ", "ı", "K" to s, i, k)."""
    if not s.isascii():
        return True
    low = s.lower()
    return "arxiv" in low or "abs/" in low or "corr" in low


def extract_years(entry_text: str) -> list[str]:
    """Year-like numbers (1950–2049, optional letter: ``2020a``) in order; not parts of arXiv
    ids, DOIs or page ranges."""
    if not isinstance(entry_text, str):
        return []
    return [m.group(1) for m in _YEAR.finditer(entry_text)]


_BOUNDARY = re.compile(r"[.?!](?=[\"'”’)]*(?:\s|$)|arXiv|In\s)")
_CLOSERS = "\"'”’) "


def _boundaries(s: str, start: int, title_phase: bool):
    """Sentence ends in ``s`` from ``start``: yields the offset just after the punctuation."""
    for m in _BOUNDARY.finditer(s, start):
        p = m.start()
        ch = s[p]
        if ch == ".":
            word = s[max(s.rfind(" ", 0, p), s.rfind("\n", 0, p)) + 1:p].lstrip("(\"'“")   # linear, not s[:p]
            if not title_phase:
                if _INITIAL.match(word) or (word.count(".") and _INITIAL.match(word.replace(".", ""))):
                    continue
            else:
                if word.lower() in _TITLE_ABBREV or (len(word) == 1 and word.isupper()):
                    continue
        else:
            q = p + 1                       # what follows, past quotes, brackets and spaces
            while q < len(s) and s[q] in _CLOSERS:
                q += 1
            nxt = s[q:q + 1]
            if not (nxt.isupper() or nxt.isdigit() or s.startswith(("arXiv", "In ", "in "), q) or not nxt):
                continue
        end = p + 1
        while end < len(s) and s[end] in "\"'”’)":
            end += 1
        yield end


_PAREN_YEAR_END = re.compile(r"\s+\((?:19|20)\d\d[a-z]?\)(?:\s+\(\w*)?$")
_TWO_LETTERS = re.compile(r"[A-Za-z\u00C0-\u024F]{2}")


def _clean_title(t: str) -> str:
    t = t.strip().strip("\"'“”‘’").strip()
    t = t.rstrip(".,;:").strip()            # (no line end after ``strip``: what [.,;:]+$ takes)
    t = _TRAILING_YEAR.sub("", t).strip()
    if "(" in t:
        t = _PAREN_YEAR_END.sub("", t).strip()   # "Title (2011) (acc"
    t = t.strip("\"'“”‘’,. ").strip()
    if "http" in t or not _TWO_LETTERS.search(t):
        return ""
    return t


# (patterns of extract_title and its helpers, compiled once)
_YEAR_CHUNK = re.compile(r"\s*\(?(?:19|20)\d\d[a-z]?\)?[.,]?\s*")
_VOLUME_ON = re.compile(r",\s*(?:vol|no|pp|pages)\b.*$")
_SUFFIX = re.compile(r"\s*(?:Jr|Sr|II|III|IV)\b\.?\s+")
_AN_INITIAL = re.compile(r"\s*[A-Z]\.")
_AND = re.compile(r"\s*(?:and|&)\s")
_NOT_LETTER = re.compile(r"[^A-Za-z\u00C0-\u024F]")
_COLON = re.compile(r":\s+(?=[A-Z0-9\"“])")
_SENTENCE_IN_NAMES = re.compile(r"[A-Za-z\u00C0-\u024F]{2}\.\s|\b(?:The|A|An|On|In|Of|For|To|Towards)\s")
_NAME_SEPARATOR = re.compile(r",|\sand\s|&")


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
    si = _si_authors_end(s) if not v else None
    py = _names_then_paren_year(s) if not v and si is None else None
    if not v and si is None and py is None:
        py = _names_then_colon(s)
    if v:
        authors_end = v.end()
    elif si is not None:
        authors_end = si
    elif py is not None:
        authors_end = py
    else:
        authors_end = next(_boundaries(s, 0, title_phase=False), None)
        if authors_end is None:
            return _clean_title(s) if len(s.split()) <= 25 else ""
        head = s[:authors_end]
        py = list(_PAREN_YEAR.finditer(head))
        if py and py[-1].end() < len(head) - 3:
            authors_end = py[-1].end()    # "Vaswani A et al (2017) Attention is all you need."
        else:
            authors_end = _names_comma_title(head, authors_end)
    rest_start = authors_end
    while rest_start < len(s) and s[rest_start] == " ":
        rest_start += 1
    for _ in range(3):
        end = next(_boundaries(s, rest_start, title_phase=True), len(s))
        chunk = s[rest_start:end]
        if _YEAR_CHUNK.fullmatch(chunk):   # ACL: "2019." after authors
            rest_start = end
            while rest_start < len(s) and s[rest_start] == " ":
                rest_start += 1
            continue
        title = _clean_title(_VOLUME_TAIL.sub("", chunk))
        if not title and len(chunk.strip()) <= 3 and end < len(s):
            rest_start = end       # a stray OCR token ("Schneider, F. 6. Fail-Stop Processors.")
            while rest_start < len(s) and s[rest_start] == " ":
                rest_start += 1
            continue
        if end >= len(s) or len(title.split()) > 25:
            # no period after the title: "Title, ICML, 2014." / "Title, Machine Learning,47, 235-256"
            title = _clean_title(_TRAILING_VENUE.sub("", _VOLUME_ON.sub("", title)))
            title = _clean_title(_VENUE_PIECE.sub("", title)) if len(title.split(",")[0].split()) >= 2 else title
        return title
    return ""


_DBLP_LAST_NAME = re.compile(r"^\s*(?!(?:The|A|An|On|In|Towards?)\s)(?:[A-Z\u00C0-\u024F][\w'’.\-]*\s+){1,3}[A-Z\u00C0-\u024F][\w'’\-]+:\s+(?=[A-Z0-9])")
_PARTICLE_WORDS = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "la", "le"}
_NAME_PIECE = re.compile(r"^(?:and\s+)?(?:[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]*\.?\s*){1,4}$")


def _names_comma_title(head: str, authors_end: int) -> int:
    """Full names separated by commas with the title after the last comma, no period between:
    "H. Brendan McMahan, Gary Holt, ..., Jeremy Kubica, Ad Click Prediction: a View from the
    Trenches." -> where the title starts; ``authors_end`` when the sentence is not like that."""
    if head.count(",") < 3:
        return authors_end
    pieces = head.split(",")
    last = pieces[-1]
    if len(last.split()) < 2 or not all(_NAME_PIECE.match(p.strip()) for p in pieces[:-1]):
        return authors_end
    at = len(head) - len(last) + (len(last) - len(last.lstrip()))
    suffix = _SUFFIX.match(last)
    if suffix:                       # "J. B. Rothnie, Jr. Concurrency control ..."
        return at - (len(last) - len(last.lstrip())) + suffix.end()
    if _AN_INITIAL.match(last):
        return authors_end
    dblp = _DBLP_LAST_NAME.match(last)
    if dblp and not any(p.strip().startswith("and ") for p in pieces):
        return at - (len(last) - len(last.lstrip())) + dblp.end()   # "..., Jennifer Widom: Lore: ..."
    words = last.split()
    if len(words) >= 2 and _AND.match(pieces[-2]) and not _NAME_PIECE.match(last.strip()):
        return at                    # "..., and S. Toueg, Distributed systems (2nd Ed.). ACM Press"
    lower = [w for w in words if w[:1].islower() and w not in ("and", "et", "al.") and w not in _PARTICLE_WORDS]
    wordy = [w for w in words if w != "and" and len(_NOT_LETTER.sub("", w)) >= 2]
    if len(words) < 4 or (len(lower) < 2 and len(wordy) < 6) or " and " in last and len(lower) < 3:
        return authors_end
    return at


_VENUE_PIECE = re.compile(r",\s*(?:In:?\s|Proc\b|Proceedings|Journal|Machine Learning|IEEE|ACM|SIAM|"
                         r"Communications|Transactions|Trans\.|(?:[A-Z][a-z]+\s)*(?:International\s)?"
                         r"(?:Conference|Workshop|Symposium))[^,]*$")


_VOLUME_TAIL = re.compile(r",\s*(?:vol|pp|pages)\b\.?\s*(?:\d.*)?$", re.IGNORECASE)   # "..., vol. 1, pp"


def _si_authors_end(s: str) -> int | None:
    """Where a "Surname, I." author list ends ("Lamport, L.: Paxos made simple."), or None
    when the entry does not start with one."""
    m = _SI_LIST.match(s)
    if not m:
        return None
    end = m.end()
    head = s[:end].rstrip()
    rest = s[end:]
    if rest.lstrip().startswith(",") or _MORE_NAMES.match(rest):
        return None           # "Berry, Donald A., Bert Fristedt." : names go on in another style
    if head.endswith(".") or rest.lstrip().startswith((".", ":")):
        while end < len(s) and s[end] in " .:":
            end += 1
        y = _PAREN_DATE.match(s, end)
        if y:
            end = y.end()     # "Bertsekas, D. (2003) Nonlinear Programming."
        return end if end < len(s) else None
    return None


def _names_then_colon(s: str) -> int | None:
    """Where the authors end when only names come before a colon: "Abbasi-Yadkori Y., Pal D., and
    Szepesvari, C.: Improved Algorithms ...", "Baransi, Akram and Maillard, Odalric-Ambrym: ..."."""
    m = _COLON.search(s, 0, 400)
    if not m or m.start() < 3:
        return None
    head = s[:m.start()]
    if _SENTENCE_IN_NAMES.search(head) or not _NAME_SEPARATOR.search(head):
        return None                  # a sentence ended before the colon ("et al. Tensorflow: ..."), one name
    if not _NAMES_ONLY.match(head.rstrip() + " "):
        return None
    return m.end()


def _names_then_paren_year(s: str) -> int | None:
    """Where the authors end when only names come before a "(2013)" year: "Brendan H., Holt G.,
    Phillips. T, Davydov E. (2013) Ad Click Prediction: ...". None otherwise."""
    m = _PAREN_YEAR.search(s, 0, 1500)
    if not m or m.start() < 3:
        return None
    if not _NAMES_ONLY.match(s[:m.start()].rstrip() + " "):
        return None
    return m.end()


_FIRST_SURNAME_SI = re.compile(r"^(" + _SURNAME + r"),\s?(?:" + _INITIALS + r"|[A-Z\u00C0-\u024F][a-z])")
_FIRST_SURNAME_VANCOUVER = re.compile(r"^(" + _VNAME + r")\s[A-Z]{1,3}(?:[,.]|\s(?:et\s+al|and)\b)")
_FIRST_PIECE_END = re.compile(r",|;|:|\s+(?:and|AND|&)\s+|\s*\(|(?<=[^\W\d_]{2})\.(?:\s|$)|\s+et\s+al\b")
_NAME_WORD = re.compile(r"^(?:[A-Z\u00C0-\u024F][\w'’\-\u00C0-\u024F]*|(?:van|von|de|der|den|da|di|du|del|la|le|dos)$)")


def extract_first_author(entry_text: str) -> str:
    """The surname of an entry's first author as printed (``"Lamport"``, ``"LAMPORT"``,
    ``"van Renesse"``), or ``""`` when the entry does not start with a person's name.

    Reads ``Surname, I.`` (APA, LNCS, ACM caps), ``Surname IN`` (Vancouver), ``I. Surname`` and
    ``Given Surname`` (IEEE, CVPR, JMLR) first names; a leading label is skipped."""
    if not isinstance(entry_text, str):
        return ""
    s = " ".join(_LEADING_LABEL.sub("", entry_text.replace("\x00", "")).split())
    s = re.sub(r"^\[[^\]]{1,12}\]\s*", "", s)          # "[ACL87] Agrawal, R."
    if not s:
        return ""
    m = _FIRST_SURNAME_SI.match(s)
    if m and not re.match(r"(?:[A-Z]\.\s?)+", s):
        return m.group(1)
    m = _FIRST_SURNAME_VANCOUVER.match(s)
    if m and not re.match(r"[A-Z]\.", s):
        return m.group(1)
    end = _FIRST_PIECE_END.search(s)
    piece = s[:end.start()] if end else s
    words = [w for w in piece.split() if not re.fullmatch(r"(?:[A-Z\u00C0-\u024F]\.-?)+|Jr\.?|Sr\.?|II|III", w)]
    if not words or len(words) > 4 or not all(_NAME_WORD.match(w) for w in words):
        return ""
    # the surname: the last word with the particles before it ("Aaron van den Oord" -> "van den Oord")
    i = len(words) - 1
    while i > 0 and words[i - 1].lower() in _PARTICLE_WORDS:
        i -= 1
    if i == 0 and len(words) > 1 and words[0].lower() not in _PARTICLE_WORDS:
        i = len(words) - 1
    return " ".join(words[i:])
