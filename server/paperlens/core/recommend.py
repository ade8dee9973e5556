"""What to cite here: library papers ranked by the text around the cursor.

Pure Python (no index, no protocol). :func:`context` reads what is being written around an
offset of a draft (the sentence, the paragraph, with markup and citations stripped; the keys
cited nearby and earlier); :func:`rank` scores library papers for it from

* the fit of their titles to the sentence and the paragraph (BM25 over the titles of the rows,
  in memory: :class:`TitleIndex`, built once per library state),
* the passages a full-text search for the sentence found (titles, abstracts, paper texts:
  ``search`` is the library's ranked search, given as a function),
* co-citation: papers cited together with the keys cited in this paragraph, in this document
  (in one citation, or in one paragraph elsewhere) and in the library's citation graph (what
  those papers cite, what cites them),
* the words written around the document's other citations of each key (its "profile"),
* the .bib's own order: entries next to the keys cited in this paragraph and in the citation
  just before (entries are often added to the file in the order a part of the work cites them),
  weighed by how far the document's citations in a row follow the file's order,
* the title of the section being written, a first author named next to the cursor,
* recency: keys this document cited shortly before,
* optionally, word embeddings of the titles (core/embed.py: ``pip install paperlens[embed]``).

Each scored paper says why (:class:`Suggestion`: the title words that matched, the passage
and its page). Weights were chosen on the development theses of ``bench/cite_recommend.py``.
"""
from __future__ import annotations

import heapq
import math
import re
import threading
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Callable, Iterable, Optional, Sequence

from paperlens.core import citations
from paperlens.core.lru import LRU

# How far around the cursor the context is read (a completion must not read a whole 2 MB draft)
BEFORE = 20_000          # characters before the cursor: earlier citations, the paragraph
AFTER = 2_000            # characters after it: the rest of the sentence and the paragraph
PARAGRAPH_CAP = 1_500    # characters of the paragraph on each side of the sentence
PROFILE_BEFORE = 300_000  # where the document's other citations describe the papers they cite (and are cited together)
PROFILE_AFTER = 100_000
PROFILE_REACH = 220      # characters before a citation (and a few after) that describe its keys
SEARCH_LIMIT = 20        # passages asked of the full-text search
KEEP = 200               # papers a ranking keeps (and explains)
EMBEDDED = 300           # titles the word embeddings add to (the best; all others: 0)
SIMILAR = 0.5            # an embedding score (0.9 at most) that says "title close in meaning"
SAY_SIMILAR = 10         # (of the best rows only)
MAX_QUERY_STEMS = 16     # title stems looked up for a context
TITLE_POSTINGS = 1500     # title postings read for a context (the most telling stems first): bounded work at 10k+ papers

# Weights of the signals (scores are each normalised to 0..1 first)
W_SENTENCE = 1.0
W_PARAGRAPH = 0.35
W_SEARCH = 0.3           # a search hit that is the entry's title again (its record)
W_PASSAGE = 0.6          # a search hit in the paper's text or abstract
W_COCITED = 0.6          # cited together (in one citation) with a key of this paragraph
W_COPARAGRAPH = 0.3      # cited in another paragraph with a key of this paragraph
W_GRAPH = 0.25
W_RECENT = 0.1
W_PROFILE = 1.0
W_PROFILE_SENTENCE = 0.35    # the same, for the sentence's words alone
W_AUTHOR = 1.5           # the first author's surname is written right before the cursor
W_HEADING = 0.25         # the title of the section being written vs the titles
W_BIB_NEAR = 0.5         # next to a key of this paragraph in the .bib (the file's own order)
W_BIB_PREVIOUS = 0.4     # next to a key of the citation before the cursor in the .bib
BIB_NEAR_SCALE, BIB_NEAR_REACH = 10.0, 30            # (places in the file: weight exp(-d / scale))
BIB_PREVIOUS_SCALE, BIB_PREVIOUS_REACH = 3.0, 10
BIB_CLOSE = 5            # places: two citations in a row with keys this close say the file is in order
W_NEAR = 0.5             # added to the sentence's weight for the words right around the cursor
NEAR_BEFORE, NEAR_AFTER = 6, 3

STOPWORDS = frozenset("""
a about above after again against all also although am among an and any are as at be because
been before being below between both but by can could did do does doing done down during each
either et al etc few for from further had has have having here how however i if in into is it
its itself just may might more most much must no nor not now of off on once one only or other
our out over own per same several should since so some such than that the their them then
there these they this those through thus to too under until up upon us use used using very via
was we were what when where whether which while who whom why will with within without would yet
you your cite see e g ie eg fig figure table section chapter eq equation ref work works paper
papers show shows shown propose proposed approach approaches method methods result results
recent recently based new first two well many often different example following given
""".split())

_WORD = re.compile(r"[^\W\d_]{2,}")
_LATEX_DROP = re.compile(
    r"\\(?:label|ref|eqref|autoref|cref|Cref|pageref|begin|end|includegraphics|input|include|url|"
    r"href|bibliography|bibliographystyle|usepackage|documentclass|newcommand|renewcommand)\*?"
    r"(?:\[[^\]]{0,200}\])?\{[^}]{0,300}\}")
_LATEX_MATH = re.compile(r"\$\$.{0,2000}?\$\$|\$[^$]{0,500}\$|\\\(.{0,500}?\\\)|\\\[.{0,2000}?\\\]", re.S)
_COMMAND = re.compile(r"\\[A-Za-z@]+\*?|#[A-Za-z][\w-]*")
_PARAGRAPH_BREAK = re.compile(
    r"\n[ \t]*\n|\\(?:chapter|section|subsection|subsubsection|paragraph|item|caption)\b|"
    r"\\begin\{|\\end\{|^#+ |^\*+ |^=+ ", re.M)
_SENTENCE_END = re.compile(r"[.!?][\"')\]}]*\s+(?=[A-Z\\(\[])|[.!?]\s*\n")


def fold(text: str) -> str:
    """Lower case without accents."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light English stemmer: plurals and common suffixes, so that "networks" meets
    "network" and "convolutional" meets "convolution"."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ational", "ations", "ation", "ional", "ings", "ing", "ed", "al", "ly"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[:-len(suffix)]
            if suffix in ("ation", "ations", "ational"):
                w += "e"
            break
    return w


@lru_cache(maxsize=100_000)
def _stem_of(word: str) -> Optional[str]:
    folded = fold(word)
    return None if folded in STOPWORDS else stem(folded)


def terms(text: str) -> list[tuple[str, str]]:
    """(stem, word as written) of the content words of ``text``."""
    out = []
    for word in _WORD.findall(text):
        st = _stem_of(word)
        if st is not None:
            out.append((st, word))
    return out


def plain(text: str, language: Optional[str]) -> str:
    """Text with markup removed: LaTeX commands (with the arguments of \\label, \\ref ...),
    math, Typst functions; what remains is read as words (punctuation is dropped by
    :func:`terms` anyway)."""
    if language == "latex":
        text = _LATEX_DROP.sub(" ", text)
        text = _LATEX_MATH.sub(" ", text)
    return _COMMAND.sub(" ", text)


# -- context ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What is being written at an offset: ``sentence`` and ``paragraph`` (plain text, citations
    removed; the paragraph without the sentence), ``nearby`` the keys cited in the paragraph,
    ``earlier`` {key: characters between its last citation before the cursor and the cursor},
    ``groups`` the citations of the window (each its keys), ``excluded`` keys not to offer
    (those of the citation at the cursor), ``span`` the sentence's start and end in the text."""
    sentence: str
    paragraph: str
    nearby: tuple[str, ...] = ()
    earlier: dict = field(default_factory=dict)
    groups: tuple[tuple[str, ...], ...] = ()
    excluded: frozenset = frozenset()
    span: tuple[int, int] = (0, 0)      # where the sentence is in the text (offsets)
    profiles: dict = field(default_factory=dict)   # key -> Counter of the stems around its citations
    near: str = ""                      # the words right around the cursor
    # the citations of the paragraphs read for the profiles (not the cursor's), in the
    # document's order: each paragraph a tuple of citations, each its keys
    paragraphs: tuple = ()
    previous: tuple[str, ...] = ()      # the keys of the last citation before the cursor
    heading: str = ""                   # the title of the section the cursor is in


def _groups(text: str, found: Sequence) -> list[tuple[int, int, list[str]]]:
    """Citation keys joined into their citations: (start, end, keys) of each, in order. Two keys
    belong to one citation when only separators lie between them."""
    out: list[tuple[int, int, list[str]]] = []
    for c in found:
        if out and c.span.start - out[-1][1] <= 8 and re.fullmatch(
                r"[\s,;@<>]*", text[out[-1][1]:c.span.start]):
            start, _, keys = out[-1]
            out[-1] = (start, c.span.end, keys + [c.key])
        else:
            out.append((c.span.start, c.span.end, [c.key]))
    return out


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with the (ordered, disjoint) spans overwritten with spaces."""
    out, at = [], 0
    for a, b in spans:
        a, b = max(a, at), min(b, len(text))
        if b <= a:
            continue
        out.append(text[at:a])
        out.append(" " * (b - a))
        at = b
    out.append(text[at:])
    return "".join(out)


def context(text: str, offset: int, language: Optional[str], macros=None,
            profiles: bool = True) -> Context:
    """The context of ``offset`` in a draft (see :class:`Context`); reads a window of
    :data:`BEFORE` + :data:`AFTER` characters around it, and with ``profiles`` the rest of the
    document for the words written before each cited key (what completion ranks by; a hover's
    sentence needs none of it)."""
    offset = max(0, min(offset, len(text)))
    lo, hi = max(0, offset - BEFORE), min(len(text), offset + AFTER)
    window, at = text[lo:hi], offset - lo
    found = citations.find_citations(window, language, macros, part=True) if language else []
    groups = _groups(window, found)
    excluded: set[str] = set()
    # the citation at the cursor: its keys are being written (not offered again), its command
    # is markup
    for start, end, keys in groups:
        if start - 40 <= at <= end + 2:
            before = window[max(0, start - 40):at]
            if start <= at <= end or re.search(r"[{\[(@<]\s*$", before) or (
                    at >= end and re.fullmatch(r"[\s,;@<>]*", window[end:at])):
                excluded.update(keys)
    masked = citations.masked_text(window, language) if language else window
    stripped = _blank(masked, [(c.span.start, c.span.end) for c in found])
    # the paragraph: from the last break before the cursor to the first after it
    start = 0
    for m in _PARAGRAPH_BREAK.finditer(stripped, max(0, at - 4 * PARAGRAPH_CAP), at):
        start = m.end()
    m = _PARAGRAPH_BREAK.search(stripped, at)
    end = m.start() if m else len(stripped)
    start, end = max(start, at - PARAGRAPH_CAP), min(end, at + PARAGRAPH_CAP)
    # the sentence: from the last sentence end before the cursor to the next one after it
    s_start = start
    for m in _SENTENCE_END.finditer(stripped, start, at):
        s_start = m.end()
    m = _SENTENCE_END.search(stripped, at, end)
    s_end = m.end() if m else end
    sentence = plain(stripped[s_start:s_end], language)
    # the words right before the cursor (and a few after it): what the citation is about when a
    # sentence cites several things
    before_words = terms(plain(stripped[max(s_start, at - 300):at], language))[-NEAR_BEFORE:]
    after_words = terms(plain(stripped[at:min(s_end, at + 150)], language))[:NEAR_AFTER]
    near = " ".join(w for _, w in before_words + after_words)
    paragraph = plain(stripped[start:s_start] + " " + stripped[s_end:end], language)
    nearby = []
    earlier: dict[str, int] = {}
    for g_start, g_end, keys in groups:
        for key in keys:
            if key in excluded:
                continue
            if start - 2 <= g_start and g_end <= end + 2 and key not in nearby:
                nearby.append(key)
            if g_end <= at:
                earlier[key] = at - g_end
    previous: tuple = ()
    for g_start, g_end, keys in groups:
        if g_end > at:
            break
        kept = tuple(k for k in keys if k not in excluded)
        if kept:
            previous = kept
    read, paragraphs, title = {}, (), ""
    if profiles:
        read, paragraphs = _profiles(text, offset, language, macros, (lo + s_start, lo + s_end), excluded)
        title = heading(text, offset, language)
    return Context(sentence=sentence, paragraph=paragraph, nearby=tuple(nearby), earlier=earlier,
                   groups=tuple(tuple(k for k in keys if k not in excluded) for _, _, keys in groups),
                   excluded=frozenset(excluded), span=(lo + s_start, lo + s_end), profiles=read,
                   near=near, paragraphs=paragraphs, previous=previous, heading=title)


HEADING_REACH = 100_000      # characters before the cursor where its section's title is looked for
_HEADINGS = {
    "latex": re.compile(r"\\(?:chapter|section|subsection|subsubsection)\*?\s*(?:\[[^\]]{0,200}\])?\s*\{"),
    "markdown": re.compile(r"^#{1,6}[ \t]+", re.M),
    "typst": re.compile(r"^=+[ \t]+", re.M),
    "org": re.compile(r"^\*+[ \t]+", re.M),
}
_HEADING_MARKS = {"latex": ("\\chapter", "\\section", "\\subsection", "\\subsubsection"),
                  "markdown": ("\n#",), "typst": ("\n=",), "org": ("\n*",)}


def heading(text: str, offset: int, language: Optional[str]) -> str:
    """The title of the section ``offset`` is in (plain text; "" when none is found in the
    :data:`HEADING_REACH` characters before it): looked for backwards with ``rfind``, not read."""
    marks = _HEADING_MARKS.get(language or "")
    if not marks:
        return ""
    lo = max(0, offset - HEADING_REACH)
    pattern = _HEADINGS[language]
    end = offset
    for _ in range(16):       # (a mark that is no heading, e.g. a "#" inside a line: look further back)
        at = max(text.rfind(m, lo, end) for m in marks)
        if at < 0 and (lo > 0 or end < 0 or language == "latex"):
            return ""
        start = at + 1 if at < 0 or text[at] == "\n" else at     # (-1: a heading on the first line)
        m = pattern.match(text, start)
        if m is not None:
            if language == "latex":
                close = text.find("}", m.end(), min(len(text), m.end() + 300))
                title = text[m.end():close] if close >= 0 else ""
            else:
                eol = text.find("\n", m.end(), min(len(text), m.end() + 300))
                title = text[m.end():eol if eol >= 0 else min(len(text), m.end() + 300)]
            return plain(title, language)
        end = at
        if at < 0:
            return ""
    return ""


def reach(profiles: bool = True) -> tuple[int, int]:
    """How far before and after its offset :func:`context` may read the text (characters): two
    texts the same over that range around the same offset have the same context."""
    if not profiles:
        return BEFORE, AFTER
    return max(BEFORE, PROFILE_BEFORE + 2 * ALIGN), max(AFTER, PROFILE_AFTER + 2 * ALIGN + TAIL + 2)


def _profiles(text: str, offset: int, language: Optional[str], macros, sentence: tuple[int, int],
              excluded: set) -> tuple[dict, tuple]:
    """{key: Counter of stems}: the words written just before each citation of the key in the
    document (around the cursor, outside the sentence being written): how this author
    describes the papers they cite; and the citations of the paragraphs read (but the cursor's),
    each paragraph a tuple of citations (each its keys), in the document's order.

    The words before a citation are read within its paragraph (up to the blank line before it),
    so the document is read paragraph by paragraph (blank lines), from about
    :data:`PROFILE_BEFORE` characters before the cursor to :data:`PROFILE_AFTER` after it: each
    paragraph's profiles are remembered by its text, and the merged profiles of the paragraphs
    around the one being written by theirs. Typing in a paragraph reads that paragraph only; a
    completion elsewhere in the document reads the paragraphs that changed and merges."""
    if not language:
        return {}, ()
    s0, s1 = sentence
    lo = max(0, offset - PROFILE_BEFORE) // ALIGN * ALIGN
    hi = min(len(text), -(-(offset + PROFILE_AFTER) // ALIGN) * ALIGN)
    if lo > 0:     # a paragraph's start (where typing at the cursor does not move it)
        cut = text.rfind("\n\n", max(0, lo - ALIGN), lo)
        lo = cut + 2 if cut >= 0 else lo // ALIGN * ALIGN
    if hi < len(text):
        cut = text.find("\n\n", hi, hi + ALIGN)
        hi = cut if cut >= 0 else hi
    lo, hi = min(lo, s0), max(hi, s1)
    # the paragraph(s) of the sentence: read now, without the sentence's own citations
    a = text.rfind("\n\n", lo, s0)
    a = a + 2 if a >= 0 else lo
    b = text.find("\n\n", s1, hi)
    b = b if b >= 0 else hi
    held = _merged_profiles(language, macros, _paragraphs(text, lo, a), _paragraphs(text, b, hi))
    near = (_read_profiles(text[a:min(len(text), b + TAIL)], language, macros, (s0 - a, s1 - a), b - a)
            if b > a else {})
    if not near and not excluded.intersection(held):
        return held, held.groups         # (cached: never updated in place)
    out = {k: v for k, v in held.items() if k not in excluded}
    for k, counts in near.items():
        if k in excluded:
            continue
        mine = out.get(k)
        if mine is None:
            out[k] = counts
        else:
            merged = out[k] = Counter(mine)
            merged.update(counts)
    return out, held.groups


class _Read(dict):
    """Profiles ({key: Counter of stems}) and the citations they were read from (``groups``:
    of one paragraph, each citation its keys; of merged paragraphs, each paragraph's groups)."""
    __slots__ = ("groups",)

    def __init__(self, *args, groups: tuple = ()) -> None:
        super().__init__(*args)
        self.groups = groups


ALIGN = 4096             # how far a paragraph break is looked for at the ends of the profiles' text
TAIL = 40                # characters after a citation read with the words before it


def _paragraphs(text: str, a: int, b: int) -> tuple:
    """The paragraphs of ``text[a:b]`` (split at blank lines), each as (its text with the
    :data:`TAIL` characters after it, its length)."""
    out = []
    while a < b:
        end = text.find("\n\n", a, b)
        end = b if end < 0 else end
        if end > a:
            out.append((text[a:min(len(text), end + TAIL)], end - a))
        a = end + 2
    return tuple(out)


_parts = LRU(4096, total=4_000_000)    # chars of the paragraphs: (language, macros, paragraph) -> profiles
_merged = LRU(8)                       # (language, macros, before, after) -> profiles


def _merged_profiles(language: str, macros, before: tuple, after: tuple) -> dict:
    """The profiles of the paragraphs ``before`` and ``after`` the one being written, merged
    (remembered for the last few sets of paragraphs). The paragraphs are merged by chunks
    (:func:`_chunks`), each remembered by its paragraphs: a completion in another paragraph
    merges the few chunks that changed, then ~30 chunks instead of ~400 paragraphs."""
    key = (language, macros, before, after)
    held = _merged.get(key)
    if held is not None:
        return held
    reads = [_chunk_profiles(chunk, language, macros) for chunk in _chunks(before) + _chunks(after)]
    out = _combine(reads, tuple(p for read in reads for p in read.groups))
    _merged.put(key, out)
    return out


CHUNK = 16               # paragraphs in a chunk, on average
_chunks_held = LRU(512, total=4_000_000)    # chars of the chunks: (language, macros, chunk) -> profiles


def _chunks(parts: tuple) -> list:
    """``parts`` (paragraphs) cut into runs, each ending after a paragraph whose text hashes to
    0 modulo :data:`CHUNK` (or at the end): where the runs end depends on the paragraphs'
    texts, not on where the cursor is, so moving it keeps the runs (but the first and last)."""
    out, run = [], []
    for part in parts:
        run.append(part)
        if hash(part[0]) % CHUNK == 0:
            out.append(tuple(run))
            run = []
    if run:
        out.append(tuple(run))
    return out


def _chunk_profiles(chunk: tuple, language: str, macros) -> "_Read":
    """The merged profiles of a run of paragraphs (``groups``: each paragraph's citations, those
    with any), remembered by the run's paragraphs."""
    key = (language, macros, chunk)
    held = _chunks_held.get(key)
    if held is not None:
        return held
    reads = [_part_profiles(part, language, macros) for part in chunk]
    made = _combine(reads, tuple(read.groups for read in reads if read.groups))
    _chunks_held.put(key, made, sum(len(part[0]) for part in chunk))
    return made


def _combine(reads: list, groups: tuple) -> "_Read":
    """The profiles of ``reads`` merged (a key's counts summed; a key's Counter that only one
    has is shared, never updated in place)."""
    lists: dict[str, list] = {}
    for read in reads:
        for k, counts in read.items():
            held = lists.get(k)
            if held is None:
                lists[k] = [counts]
            else:
                held.append(counts)
    out = _Read(groups=groups)
    for k, found in lists.items():
        if len(found) == 1:
            out[k] = found[0]
        else:
            merged = out[k] = Counter(found[0])
            get = merged.get
            for counts in found[1:]:
                for st, n in counts.items():
                    merged[st] = get(st, 0) + n
    return out


def _part_profiles(part: tuple, language: str, macros) -> dict:
    key = (language, macros, part)
    held = _parts.get(key)
    if held is not None:
        return held
    made = _read_profiles(part[0], language, macros, None, part[1])
    _parts.put(key, made, len(part[0]))
    return made


def _read_profiles(window: str, language: str, macros, skip: Optional[tuple[int, int]],
                   upto: Optional[int] = None) -> dict:
    """The profiles of the citations of ``window`` that start before ``upto`` (the rest is
    read for the words after them), but those starting within ``skip``."""
    found = citations.find_citations(window, language, macros, part=True)
    if not found:
        return _Read()
    masked = _blank(citations.masked_text(window, language), [(c.span.start, c.span.end) for c in found])
    out = _Read()
    groups = []
    for start, end, keys in _groups(window, found):
        if skip is not None and skip[0] <= start <= skip[1]:
            continue
        if upto is not None and start >= upto:
            break
        groups.append(tuple(keys))
        before = masked[max(0, start - PROFILE_REACH):start]
        cut = max(before.rfind("\n\n"), 0)
        stems = Counter(st for st, _ in terms(plain(before[cut:] + " " + masked[end:end + TAIL], language)))
        for k in keys:
            held = out.get(k)
            if held is None:
                out[k] = Counter(stems)
            else:
                held.update(stems)
    out.groups = tuple(groups)
    return out


# -- titles ----------------------------------------------------------------------------------

class TitleIndex:
    """BM25 over the titles of a library's rows, in memory. Rows are indexed by position.

    Compact at 10k+ papers: each stem's postings are two arrays (rows, BM25 weights: 8 bytes a
    posting), the surnames' rows arrays too; a title's words (what a suggestion says matched)
    are read again from the title when asked (:meth:`words_of`), not kept per row."""

    K1, B = 1.2, 0.5

    def __init__(self, rows: Sequence) -> None:
        self.rows = list(rows)
        self.surnames: dict[str, array] = {}     # folded surname of a first author -> rows
        self.by_key: dict[str, int] = {}
        self.by_id: dict[str, int] = {}
        postings: dict[str, list] = {}           # stem -> [row, tf, row, tf, ...] while built
        lengths = array("H")
        read: dict[str, tuple] = {}       # title -> (counts, length): an entry and its PDF share one
        for n, row in enumerate(self.rows):
            self.by_key.setdefault(row.key, n)
            self.by_id.setdefault(row.id, n)
            if row.surnames:
                held = self.surnames.get(fold(row.surnames[0]))
                if held is None:
                    self.surnames[fold(row.surnames[0])] = array("i", (n,))
                else:
                    held.append(n)
            title = row.title or ""
            held = read.get(title)
            if held is None:
                pairs = terms(title)
                held = read[title] = (tuple(Counter(s for s, _ in pairs).items()), min(len(pairs), 65535))
            lengths.append(held[1])
            for s, tf in held[0]:
                p = postings.get(s)
                if p is None:
                    postings[s] = [n, tf]
                else:
                    p += (n, tf)
        del read
        # the order of the entries in their files (a .bib's own order): position -> row, row ->
        # position, and each position's file (neighbours count within one file only)
        self.order = array("i", sorted(range(len(self.rows)), key=lambda n: (
            str(getattr(self.rows[n], "source", "") or ""), getattr(self.rows[n], "source_line", 0) or 0, n)))
        self.place = array("i", [0]) * len(self.rows)
        self.segment = array("i", [0]) * len(self.rows)
        files: dict[str, int] = {}
        for at, n in enumerate(self.order):
            self.place[n] = at
            self.segment[at] = files.setdefault(str(getattr(self.rows[n], "source", "") or ""), len(files))
        total = len(self.rows) or 1
        self.avg = (sum(lengths) / total) or 1.0
        self.idf = {s: math.log(1 + (total - len(p) / 2 + 0.5) / (len(p) / 2 + 0.5)) for s, p in postings.items()}
        self.max_idf = max(self.idf.values(), default=1.0)     # (a word no title has)
        # each posting's BM25 weight, computed once: (rows, weights) of a stem
        k1, b, avg = self.K1, self.B, self.avg
        self.weights: dict[str, tuple[array, array]] = {}
        for s in list(postings):
            p = postings.pop(s)
            ids = array("i", p[0::2])
            self.weights[s] = (ids, array("f", [tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[n] / avg))
                                                for n, tf in zip(ids, p[1::2])]))

    def neighbours(self, rows: Iterable[int], scale: float, reach: int) -> dict[int, float]:
        """{row: exp(-distance / scale)} of the rows at most ``reach`` places from one of
        ``rows`` in the files' order (the nearest counts; the rows themselves: 1)."""
        out: dict[int, float] = {}
        order, segment, n_rows = self.order, self.segment, len(self.order)
        for n in rows:
            at = self.place[n]
            seg = segment[at]
            for d in range(reach + 1):
                v = _DECAY[scale][d]
                for q in ((at,) if d == 0 else (at - d, at + d)):
                    if 0 <= q < n_rows and segment[q] == seg:
                        r = order[q]
                        if v > out.get(r, 0.0):
                            out[r] = v
        return out

    def postings(self, stem: str) -> int:
        """How many titles have ``stem``."""
        held = self.weights.get(stem)
        return len(held[0]) if held is not None else 0

    def words_of(self, n: int) -> tuple:
        """The (stem, word) of row ``n``'s title, each stem once."""
        if not 0 <= n < len(self.rows):
            return ()
        return _title_words(self.rows[n].title or "")

    def score(self, query: dict[str, float]) -> dict[int, float]:
        """{row position: BM25 score} for weighted query stems."""
        out: dict[int, float] = {}
        get = out.get
        common = max(50, len(self.rows) // 10)
        weights = self.weights
        # the query's most telling stems (a word in a tenth of the titles says little and costs
        # most: it is not looked up)
        chosen = sorted(((w * self.idf[s], s, w) for s, w in query.items()
                         if s in weights and len(weights[s][0]) <= common), reverse=True)
        budget = TITLE_POSTINGS
        for idf, s, _ in chosen[:MAX_QUERY_STEMS]:
            ids, ws = weights[s]
            if len(ids) > budget:
                continue
            budget -= len(ids)
            for n, v in zip(ids, ws):
                out[n] = get(n, 0.0) + idf * v
        return out


class _Decay(dict):
    """scale -> (exp(-d / scale) for d = 0, 1, ...): made once per scale."""

    def __missing__(self, scale: float) -> tuple:
        made = self[scale] = tuple(math.exp(-d / scale) for d in range(256))
        return made


_DECAY = _Decay()


@lru_cache(maxsize=4096)
def _title_words(title: str) -> tuple:
    return tuple(_unique(terms(title)))


_cache_lock = threading.Lock()
_cache: Optional[tuple[list, TitleIndex]] = None


_building: Optional[threading.Thread] = None
WAIT_BELOW = 3000        # rows: a smaller library's titles are indexed during the request (~0.1 s)


def _held(rows: Sequence) -> Optional[TitleIndex]:
    with _cache_lock:
        held = _cache
    if held is not None and len(held[0]) == len(rows) and all(
            held[0][i] is rows[i] for i in {0, len(rows) // 3, len(rows) // 2, len(rows) - 1} if rows):
        return held[1]
    return None


def _build(rows: Sequence) -> TitleIndex:
    global _cache
    made = TitleIndex(rows)
    with _cache_lock:
        _cache = (list(rows), made)
    return made


def title_index(rows: Sequence, wait: bool = True) -> Optional[TitleIndex]:
    """The :class:`TitleIndex` of ``rows``, kept while the library's rows are the same objects
    (a table is replaced, never changed, when its index changes). Without ``wait``, None while
    it is built on a background thread (started here; a library of fewer than
    :data:`WAIT_BELOW` rows is indexed at once)."""
    global _building
    held = _held(rows)
    if held is not None:
        return held
    if wait or len(rows) < WAIT_BELOW:
        return _build(rows)
    with _cache_lock:
        if _building is None or not _building.is_alive():
            _building = threading.Thread(target=_build, args=(list(rows),), name="paperlens-titles",
                                         daemon=True)
            _building.start()
    return None


# -- ranking ---------------------------------------------------------------------------------

_searches = LRU(16)         # (query, the rows' state) -> (the first row, hits)


def _searched(query: str, rows: Sequence, search: Callable[[str], list]) -> list:
    """``search(query)``, remembered for the library's rows as they are: the editor asks for
    completion again at each character typed in a citation, with the same sentence (the
    search is most of a request's cost at 10k papers). A search that answers None has no hits
    yet (it runs in the background): nothing is remembered."""
    state = (len(rows), id(rows[0]), id(rows[-1])) if rows else (0,)
    key = (query, state)
    held = _searches.get(key)
    if held is not None and held[0] is (rows[0] if rows else None):
        return held[1]
    hits = search(query)
    if hits is None:          # not found yet (searched in the background): not kept
        return []
    _searches.put(key, (rows[0] if rows else None, hits))       # (the row keeps its id unique)
    return hits


@dataclass
class Suggestion:
    """A library row scored for the context, and why: ``words`` the title words that matched,
    ``passage``/``page`` the passage the search found, ``cocited`` keys it was cited with."""
    row: object
    score: float = 0.0
    words: list[str] = field(default_factory=list)
    passage: str = ""
    page: Optional[int] = None
    cocited: list[str] = field(default_factory=list)
    recent: bool = False
    profiled: bool = False      # the words around its other citations in the document fit
    author: str = ""            # its first author is named next to the cursor
    similar: bool = False       # its title is close in meaning (word embeddings)
    bib: str = ""               # a key cited nearby that is next to it in the .bib

    def reason(self) -> str:
        """One short line: what made this paper fit."""
        parts = []
        if self.author:
            parts.append(f"by {self.author}")
        if self.words:
            parts.append("title: " + ", ".join(self.words[:4]))
        elif self.similar:
            parts.append("title close in meaning")
        if self.passage:
            parts.append(("p. %d: " % self.page if self.page else "passage: ") + _short(self.passage, 80))
        if self.cocited:
            parts.append("cited with " + ", ".join(self.cocited[:2]))
        elif self.bib:
            parts.append(f"next to {self.bib} in the .bib")
        if self.recent:
            parts.append("cited above")
        elif self.profiled:
            parts.append("cited in this document for similar words")
        return " · ".join(parts)


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1].rsplit(" ", 1)[0] + "…"


def query_of(ctx: Context) -> dict[str, float]:
    """Weighted stems: the words right around the cursor, the sentence's, then the paragraph's."""
    q: dict[str, float] = {}
    for s, _ in terms(ctx.sentence):
        q[s] = W_SENTENCE
    for s, _ in terms(ctx.near):
        q[s] = W_SENTENCE + W_NEAR
    for s, _ in terms(ctx.paragraph):
        q.setdefault(s, W_PARAGRAPH)
    return q


def search_query(ctx: Context) -> str:
    """The sentence as a plain word query for the full-text search (no query syntax)."""
    seen, words = set(), []
    for s, w in terms(ctx.sentence):
        if s not in seen and fold(w) not in ("and", "or", "not", "to"):
            seen.add(s)
            words.append(fold(w))
    return " ".join(words[:24])


def _normalise(scores: dict) -> dict:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


def rank(ctx: Context, rows: Sequence, *, search: Optional[Callable[[str], list]] = None,
         graph=None, document_groups: Sequence[Sequence[str]] = (), skip: Iterable[str] = (),
         use_titles: bool = True, use_search: bool = True, keep: int = KEEP,
         wait: bool = True, vectors=None) -> list[Suggestion]:
    """The rows that fit ``ctx``, best first (at most ``keep``, only those scoring above zero).

    ``search(query)``: the library's passage search (hits with ``key``, ``paper_id``,
    ``score``, ``text``, ``page``; None while they are searched in the background); ``graph``:
    the citation graph (``cites``, ``cited_by`` by row id); ``document_groups``: the citations
    of the whole document, each its keys (co-citation within the document; default: those of
    the context's window); ``skip``: ids of rows never offered (the document itself, when it is
    a paper of the library); ``wait``: for the titles' index (see :func:`title_index`);
    ``vectors``: the titles' word embeddings (core/embed.py's ``TitleVectors`` of ``rows``), when
    the optional model is there."""
    index = title_index(rows, wait=wait)
    if index is None:            # a large library's titles are being indexed: the first requests
        index = TitleIndex(())   # rank by what else is known
        by_key = {}
        by_id = {}
        for n, row in enumerate(rows):
            by_key.setdefault(row.key, n)
            by_id.setdefault(row.id, n)
        index.by_key, index.by_id = by_key, by_id
    by_key, by_id = index.by_key, index.by_id
    skipped = {by_id[i] for i in skip if i in by_id}
    # the titles' scores stay raw (normalised when read): at 10k papers thousands of rows share
    # a title word, and dividing, then sorting, every one of them cost more than the rest of the
    # ranking; only the best ``keep`` of them (and the rows another signal adds to) are ranked
    titles: dict[int, float] = {}
    top_title = 0.0
    score: dict[int, float] = {}             # the rows another signal adds to: their whole score
    notes: dict[int, Suggestion] = {}        # the rows a signal other than the title fits
    hit: dict[int, object] = {}              # the passage the search found for a row

    def note(n: int) -> Suggestion:
        s = notes.get(n)
        if s is None:
            s = notes[n] = Suggestion(rows[n])
        return s

    def add(n: int, v: float) -> None:
        held = score.get(n)
        if held is None:
            t = titles.get(n)
            held = t / top_title if t is not None else 0.0
        score[n] = held + v

    query = query_of(ctx)
    if use_titles and query:
        titles = index.score(query)
        top_title = max(titles.values(), default=0.0)
        if top_title <= 0:
            titles = {}
    if use_search and search is not None:
        q = search_query(ctx)
        hits = _searched(q, rows, search) if q else []
        best: dict[int, float] = {}
        first: dict[int, object] = {}
        for h in hits:
            n = by_key.get(h.key)
            if n is None:
                n = by_id.get(h.paper_id)
            if n is None or n in skipped:
                continue
            if h.score > best.get(n, 0.0):
                best[n], first[n] = h.score, h
        for n, v in _normalise(best).items():
            h = hit[n] = first[n]
            text = getattr(h, "text", "") or ""
            # a passage of the paper (its text, its abstract) says more than its title again
            said = getattr(h, "page", None) is not None or (text and not _repeats_title(text[:400], index.words_of(n)))
            add(n, (W_PASSAGE if said else W_SEARCH) * v)
    # the titles' word embeddings (optional): their fit to the context and to the titles of
    # the papers cited nearby
    if use_titles and vectors is not None:
        nearby_at = [by_key[k] for k in ctx.nearby if k in by_key]
        earlier_at = [(by_key[k], d) for k, d in ctx.earlier.items() if k in by_key and k not in ctx.nearby]
        for i, (n, v) in enumerate(vectors.scores(ctx.sentence, ctx.near, ctx.paragraph, nearby_at,
                                                  earlier_at, top=EMBEDDED)):
            if n not in skipped:
                add(n, v)
                if i < SAY_SIMILAR and v >= SIMILAR:      # (the best few: it says why)
                    note(n).similar = True
    # the title of the section being written
    if use_titles and ctx.heading and W_HEADING:
        for n, v in _heading_scores(index, ctx.heading).items():
            if n not in skipped:
                add(n, W_HEADING * v)
    # a first author named right before the cursor ("as Rao and Ballard showed \cite{")
    if use_titles and ctx.near and W_AUTHOR:
        for word in _WORD.findall(ctx.near):
            if word[:1].isupper():
                for n in index.surnames.get(fold(word), ())[:20]:
                    add(n, W_AUTHOR)
                    note(n).author = word
    # the document's own words for a paper: those written before its other citations
    if ctx.profiles and query and W_PROFILE:
        idf = index.idf
        default = getattr(index, "max_idf", 1.0)
        prof: dict[str, float] = {}
        prof_sentence: dict[str, float] = {}
        asked = query.keys()
        place = {st: i for i, st in enumerate(query)}
        said = {st for st, _ in terms(ctx.sentence)}
        for k, counts in ctx.profiles.items():
            if k not in by_key:
                continue
            shared = asked & counts.keys()          # (a set operation: most profiles share none)
            if not shared:
                continue
            total = math.sqrt(sum(counts.values()) or 1)
            ordered = sorted(shared, key=place.__getitem__)         # (in the query's order)
            v = sum(query[st] * idf.get(st, default) * min(counts[st], 3) for st in ordered)
            if v > 0:
                prof[k] = v / total
            v = sum(idf.get(st, default) * min(counts[st], 3) for st in ordered if st in said)
            if v > 0:
                prof_sentence[k] = v / total
        for k, v in _normalise(prof).items():
            add(by_key[k], W_PROFILE * v)
            note(by_key[k]).profiled = True
        if W_PROFILE_SENTENCE:
            for k, v in _normalise(prof_sentence).items():
                add(by_key[k], W_PROFILE_SENTENCE * v)
    # co-citation in the document: keys cited together with the keys cited nearby
    nearby = [k for k in ctx.nearby if k in by_key]
    groups = document_groups or ([g for paragraph in ctx.paragraphs for g in paragraph]
                                 if ctx.paragraphs else ctx.groups)
    if nearby and ctx.paragraphs and W_COPARAGRAPH:
        # cited in the same paragraph elsewhere in the document as the keys of this one
        near = set(nearby)
        co_p: Counter = Counter()
        for paragraph in ctx.paragraphs:
            keys = {k for g in paragraph for k in g}
            shared = len(near.intersection(keys))
            if shared:
                for k in keys:
                    if k not in near:
                        co_p[k] += shared
        for k, v in _normalise(dict(co_p)).items():
            n = by_key.get(k)
            if n is not None:
                add(n, W_COPARAGRAPH * v)
    # the .bib's own order: entries added to it one after another (for one part of the work)
    # are often cited together; weighed by how much this document's citations in a row are
    # next to one another in the file (not at all in a file kept in another order)
    previous = [k for k in ctx.previous if k in by_key]
    if (nearby or previous) and (W_BIB_NEAR or W_BIB_PREVIOUS) and len(getattr(index, "place", ())) == len(rows):
        factor = _bib_locality(index, ctx.paragraphs)
        if factor > 0:
            for keys, w, scale, far in ((nearby, W_BIB_NEAR, BIB_NEAR_SCALE, BIB_NEAR_REACH),
                                        (previous, W_BIB_PREVIOUS, BIB_PREVIOUS_SCALE, BIB_PREVIOUS_REACH)):
                if not keys or not w:
                    continue
                for n, v in index.neighbours([by_key[k] for k in keys], scale, far).items():
                    add(n, factor * w * v)
                    if v > 0.3 and rows[n].key not in keys:
                        s = note(n)
                        if not s.bib:
                            s.bib = min(keys, key=lambda k: abs(index.place[by_key[k]] - index.place[n]))
    if nearby:
        co: Counter = Counter()
        near = set(nearby)
        for group in groups:
            if near.intersection(group):
                for k in group:
                    if k not in near:
                        co[k] += 1
        for k, v in _normalise(dict(co)).items():
            n = by_key.get(k)
            if n is not None:
                add(n, W_COCITED * v)
                note(n).cocited = [x for x in nearby if any(x in g and k in g for g in groups)][:2]
    # the citation graph: what the nearby papers cite and what cites them, and papers cited
    # along with them by a library paper
    if graph is not None and nearby:
        linked: dict[str, float] = {}
        get = linked.get
        for k in nearby:
            for other, v in _linked(graph, rows[by_key[k]].id):
                linked[other] = get(other, 0.0) + v
        top_linked = max(linked.values(), default=0.0)
        for rid, v in linked.items():
            n = by_id.get(rid)
            if n is not None:
                held = score.get(n)
                if held is None:
                    t = titles.get(n)
                    held = t / top_title if t is not None else 0.0
                score[n] = held + W_GRAPH * (v / top_linked)
    # recency: keys this document cited shortly before (a paper is often cited again)
    for k, distance in ctx.earlier.items():
        n = by_key.get(k)
        if n is not None:
            add(n, W_RECENT / (1.0 + distance / 3000.0))
            note(n).recent = True
    dropped = set(skipped)
    for k in ctx.excluded:
        n = by_key.get(k)
        if n is not None:
            dropped.add(n)
    # the rows ranked: those at or above the ``keep``-th title score (a row with only a title
    # score below it has ``keep`` rows above it) and those another signal added to, titles first
    # as they were scored (ties keep that order; in a large library, rows another signal added
    # to that are below that title score follow the others they tie with)
    room = keep + len(dropped)
    ranked: dict[int, float] = {}
    if len(titles) > room:
        least = heapq.nlargest(room, titles.values())[-1]
        for n in [n for n, t in titles.items() if t >= least]:
            v = score.get(n)
            ranked[n] = titles[n] / top_title if v is None else v
    else:
        for n, t in titles.items():
            v = score.get(n)
            ranked[n] = t / top_title if v is None else v
    for n, v in score.items():
        if n not in ranked:
            ranked[n] = v
    for n in dropped:
        ranked.pop(n, None)
    top = sorted(ranked.items(), key=itemgetter(1), reverse=True)[:keep]     # (stable: ties by row)
    stems = set(query)
    out = []
    for n, v in top:
        if v <= 0:
            break
        s = notes.get(n) or Suggestion(rows[n])
        s.score = v
        # why: the title words the context shares
        title_words = index.words_of(n)
        s.words = [w for st, w in title_words if st in stems]
        h = hit.get(n)
        text = (getattr(h, "text", "") or "") if h is not None else ""
        if text and not _repeats_title(text[:400], title_words):     # not the title again
            s.passage, s.page = text, getattr(h, "page", None)
        out.append(s)
    return out


HEADING_KEEP = 50        # titles a section's title adds to (the best)
_heading_held = LRU(64)     # (id of a titles' index, a section's title) -> (the index, scores)


def _heading_scores(index: TitleIndex, title: str) -> dict[int, float]:
    """{row: 0..1} the titles' fit to a section's title (remembered per titles' index: the
    section stays while the user writes in it)."""
    key = (id(index), title)
    held = _heading_held.get(key)
    if held is not None and held[0] is index:
        return held[1]
    scores = index.score({st: 1.0 for st, _ in terms(title)})
    if len(scores) > HEADING_KEEP:
        scores = dict(heapq.nlargest(HEADING_KEEP, scores.items(), key=itemgetter(1)))
    made = _normalise(scores)
    _heading_held.put(key, (index, made))
    return made


_locality_held = LRU(16)    # (ids of a titles' index and paragraphs) -> (them, the factor)
BIB_EVIDENCE = 6         # citations in a row needed before the file's order counts
BIB_FULL = 0.15          # the share of them (above chance) at which it counts fully


def _bib_locality(index: TitleIndex, paragraphs: tuple) -> float:
    """0..1: how much the document's citations in a row (in ``paragraphs``) cite keys that are
    next to one another (:data:`BIB_CLOSE` places) in the library's files, above chance; 0 with
    fewer than :data:`BIB_EVIDENCE` such pairs. Remembered per index and paragraphs."""
    key = (id(index), id(paragraphs))
    held = _locality_held.get(key)
    if held is not None and held[0] is index and held[1] is paragraphs:
        return held[2]
    by_key, place, segment = index.by_key, index.place, index.segment
    sizes = Counter(segment)
    pairs = hits = 0
    expected = 0.0
    last: list = []
    for paragraph in paragraphs:
        for g in paragraph:
            here = [(place[by_key[k]], k) for k in g if k in by_key]
            if not here:
                continue
            if last:
                pairs += 1
                chance = 0.0
                close = False
                for pa, ka in last:
                    for pb, kb in here:
                        if ka != kb and segment[pa] == segment[pb]:
                            chance += min(1.0, (2 * BIB_CLOSE + 1) / sizes[segment[pa]])
                            close = close or abs(pa - pb) <= BIB_CLOSE
                hits += close
                expected += min(1.0, chance)
            last = here
    factor = 0.0 if pairs < BIB_EVIDENCE else max(0.0, min(1.0, (hits - expected) / (BIB_FULL * pairs)))
    _locality_held.put(key, (index, paragraphs, factor))
    return factor


_linked_held = LRU(2048)    # (id of a graph, a paper id) -> (the graph, its links)


def _linked(graph, rid: str) -> tuple:
    """(paper id, weight) of the papers the citation graph links to ``rid``: those it cites (1),
    those citing it (0.5) and the others those cite (0.5 each time), in that order; remembered
    per graph (a graph is built anew when the library changes), so a paper cited nearby in
    several completions is walked once (~1,000 links a paragraph at 10k papers)."""
    key = (id(graph), rid)
    held = _linked_held.get(key)
    if held is not None and held[0] is graph:
        return held[1]
    linked: Counter = Counter()
    for other in graph.cites.get(rid, {}):
        linked[other] += 1.0
    for citing in graph.cited_by.get(rid, ()):
        linked[citing] += 0.5
        for other in graph.cites.get(citing, {}):
            if other != rid:
                linked[other] += 0.5
    made = tuple(linked.items())
    _linked_held.put(key, (graph, made))
    return made


@lru_cache(maxsize=4096)
def _head_stems(text: str) -> tuple:
    return tuple(t for t, _ in _unique(terms(text)))


def _repeats_title(head: str, title_words) -> bool:
    """Whether a passage starts with the title's words (remembered per passage start: the same
    hits come back at each keystroke in a citation)."""
    title = tuple(t for t, _ in title_words)
    return _head_stems(head)[:len(title)] == title


def _unique(pairs):
    seen = set()
    for st, w in pairs:
        if st not in seen:
            seen.add(st)
            yield st, w
