"""One paper, one card: which bibliography entry a paper's full text (a PDF, a text) belongs to.

The evidence, strongest first:

1. the entry's ``file`` field names the text;
2. the same DOI, or the same arXiv id (version aside);
3. the same title, normalised (2 and 3 are :mod:`paperlens.core.identity`'s rule: titles of four
   words or more; a shorter title only when it is unique among both the entries and the texts
   left);
4. the entry's title printed at the top of the text's first page (``heads``: what the parser
   kept of it, running headers included), exactly or, for long titles, within a few OCR errors;
5. the entry's title as the text's file name or folder name ('paxos_made_simple.pdf',
   'base-an-acid-alternative/p48-pritchett.pdf').

Each text joins at most one entry. Steps 4 and 5 join one text to an entry that nothing else
joined, so a weaker join never takes a text or an entry that a stronger one has. Steps 4 and 5
look only at what steps 1-3 left over, through an index of title words, so their cost does not
grow with the library's joined part. When two entries share a DOI or a title, the first one
takes the text.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable, Optional, Protocol

from paperlens.core.identity import PaperKeys, norm_title, norm_words, title_key

__all__ = ["link", "head_of_pages", "norm_words", "HEAD_CHARS", "JoinRow"]


class JoinRow(Protocol):
    id: str
    title: str
    source: str
    file: str
    doi: str
    arxiv: str
    alias_of: str
    fulltext: str

    @property
    def is_entry(self) -> bool: ...


MIN_HEAD_TITLE_WORDS = 3       # shorter titles ('Sagas') join by title or file name only
FUZZY_MIN_CHARS = 24           # titles this long may differ from the page by OCR errors
FUZZY_SCORE = 92
GENERIC_TITLES = {"introduction", "abstract", "contents", "preface", "index", "references",
                  "untitled", "paper", "article", "notes", "slides", "chapter", "appendix", "draft",
                  "report", "thesis", "summary", "review", "editorial", "foreword", "letter"}


def _slug(text: str) -> str:
    return norm_words(text).replace(" ", "")


def _name_matches(title: str, path: str) -> bool:
    """The title is the file's name or its folder's name (punctuation and tags aside)."""
    t = _slug(title)
    if len(t) < 5 or norm_words(title) in GENERIC_TITLES:
        return False
    p = Path(path)
    for name in (p.stem, p.parent.name):
        s = _slug(re.sub(r"^\[[^\]]*\]|\([^()]*\)$", "", name.strip()))
        if s == t or (len(t) >= 12 and t in s and len(t) >= 0.6 * len(s)):
            return True
    return False


def _in_head(title: str, head: str) -> int:
    """Where the entry's title starts in the head (word offset), or -1."""
    t = norm_words(title)
    if len(t.split()) < MIN_HEAD_TITLE_WORDS:
        return -1
    h = norm_words(head)
    at = h.find(t)
    if at >= 0 and (at == 0 or h[at - 1] == " "):
        return h.count(" ", 0, at)
    if len(t) >= FUZZY_MIN_CHARS:
        from rapidfuzz import fuzz
        from rapidfuzz.distance import Levenshtein

        hit = fuzz.partial_ratio_alignment(t, h, score_cutoff=FUZZY_SCORE)
        if hit is not None:
            # OCR errors change letters inside words ('ALGORlTHMS'), never a whole word: every
            # word of the title is on the page within an edit or two
            region = h[max(0, hit.dest_start - 20): hit.dest_end + 20].split()
            if all(any(Levenshtein.distance(w, x, score_cutoff=max(1, len(w) // 5)) <= max(1, len(w) // 5)
                       for x in region) for w in t.split() if len(w) >= 3):
                return h.count(" ", 0, hit.dest_start)
    return -1


Heads = Callable[[Iterable[str]], dict[str, str]]


def link(rows: list, heads: Optional[Heads] = None) -> list:
    """Set ``alias_of`` on texts and ``fulltext`` on entries (rows changed in place); returns
    the rows whose join changed.

    The joins are worked out aside and only the rows whose join changed are written: the rows
    of an update are those of the table requests are reading (a changed file's update joins
    20k rows at 10k papers), and a row is never seen without its join meanwhile.

    ``heads(ids)`` gives the first-page text of those text rows (read only when entries are
    left over after the exact joins)."""
    joiner = _Joiner(rows)
    joiner.exact()
    for step in (joiner.short_titles, joiner.file_names):
        if not joiner.left_over():
            break
        step()
    else:
        if heads is not None and joiner.left_over():
            joiner.first_pages(heads)
    return joiner.write(rows)


class _Joiner:
    """The steps of :func:`link`, each on what the stronger ones left over. A text's entry and
    an entry's full text are kept here (by the row's identity) until :meth:`write`."""

    def __init__(self, rows: list) -> None:
        self.entries = [r for r in rows if r.is_entry]
        self.texts = [r for r in rows if not r.is_entry]
        self.alias: dict[int, str] = {}          # id(text row) -> its entry's id
        self.full: dict[int, str] = {}           # id(entry row) -> its full text's path
        self.taken: set[str] = set()
        self.left_entries: list = []
        self.left_texts: list = []

    def join(self, text, entry) -> None:
        self.alias[id(text)] = entry.id
        self.full.setdefault(id(entry), text.source)
        self.taken.add(entry.id)

    def joined(self, text) -> bool:
        return id(text) in self.alias

    def write(self, rows: list) -> list:
        """Give each row its join (none: ``""``); only the rows whose join changed are written
        (and returned)."""
        alias, full = self.alias, self.full
        changed = []
        for r in rows:
            a, f = alias.get(id(r), ""), full.get(id(r), "")
            if r.alias_of != a or r.fulltext != f:
                r.alias_of, r.fulltext = a, f
                changed.append(r)
        return changed

    def left_over(self) -> bool:
        """Narrow the entries and texts left to those still unjoined; True when both remain."""
        self.left_entries = [e for e in self.left_entries if e.id not in self.taken]
        self.left_texts = [r for r in self.left_texts if not self.joined(r)]
        return bool(self.left_entries and self.left_texts)

    def exact(self) -> None:
        """1-3: exact evidence; a text that names an entry by file, DOI or arXiv id goes first."""
        same: PaperKeys = PaperKeys()            # the entries by DOI, arXiv id and title (identity)
        for r in self.entries:
            same.add(r, r.doi, r.arxiv, r.title)
        by_file = {r.file: r for r in self.entries if r.file}
        for strong in (True, False):
            for r in self.texts:
                if self.joined(r):
                    continue
                if strong:
                    entry = by_file.get(r.source) or same.find_by_id(r.doi, r.arxiv)
                else:
                    entry = same.find_by_title(r.title)
                if entry:
                    self.join(r, entry)        # (a PDF and its text extraction may both join one entry)
        self.left_entries = [e for e in self.entries if norm_words(e.title)]
        self.left_texts = self.texts

    def short_titles(self) -> None:
        """3b: a short title ('Sagas', 'Eventually Consistent': too short to be evidence on its
        own, identity.title_key) joins when it is unique on both sides."""
        short_e: dict[str, list] = {}
        short_t: dict[str, list] = {}
        for e in self.left_entries:
            t = norm_title(e.title)
            if t and not title_key(e.title) and t not in GENERIC_TITLES:
                short_e.setdefault(t, []).append(e)
        for r in self.left_texts:
            t = norm_title(r.title)
            if t in short_e:
                short_t.setdefault(t, []).append(r)
        for t, found in short_t.items():
            if len(found) == 1 and len(short_e[t]) == 1:
                self.join(found[0], short_e[t][0])

    def file_names(self) -> None:
        """5 before 4 is not an order of strength: both are tried, the file name first (no
        reading)."""
        for entry in self.left_entries:
            found = [r for r in self.left_texts if not self.joined(r) and _name_matches(entry.title, r.source)]
            if len(found) == 1:
                self.join(found[0], entry)

    def first_pages(self, heads: Heads) -> None:
        """4: each entry goes to the text where its title comes first on the first page; a text
        to its first claimant."""
        head_of = heads([r.id for r in self.left_texts])
        claims = _claims(self.left_entries, head_of)
        by_id = {r.id: r for r in self.left_texts}
        entry_by_id = {e.id: e for e in self.left_entries}
        best_for_entry: dict[str, tuple[int, str]] = {}
        for rid, cl in claims.items():
            for pos, eid in cl:
                if eid not in best_for_entry or pos < best_for_entry[eid][0]:
                    best_for_entry[eid] = (pos, rid)
        for eid, (pos, rid) in sorted(best_for_entry.items(), key=lambda kv: kv[1][0]):
            text = by_id[rid]
            if not self.joined(text) and eid not in self.taken:
                self.join(text, entry_by_id[eid])


def _claims(entries: list, head_of: dict[str, str]) -> dict[str, list[tuple[int, str]]]:
    """text id -> [(where the entry's title starts in its head, entry id)], through an index of
    the heads' words (an entry is looked for only in heads holding most of its title's words)."""
    index: dict[str, set[str]] = {}
    for rid, head in head_of.items():
        for w in set(norm_words(head).split()):
            if len(w) >= 4:
                index.setdefault(w, set()).add(rid)
    claims: dict[str, list[tuple[int, str]]] = {}
    for entry in entries:
        words = [w for w in set(norm_words(entry.title).split()) if len(w) >= 4]
        counts: dict[str, int] = {}
        for w in words:
            for rid in index.get(w, ()):
                counts[rid] = counts.get(rid, 0) + 1
        need = max(1, int(0.6 * len(words)))
        for rid, n in counts.items():
            if n >= need and (pos := _in_head(entry.title, head_of[rid])) >= 0:
                claims.setdefault(rid, []).append((pos, entry.id))
    return claims


HEAD_CHARS = 1500


def head_of_pages(pages: list[str], top_lines: Iterable[str] = ()) -> str:
    """What a join reads of a text: the lines at the top of its first page (or the start of its
    first pages, without layout), and the running headers that name the paper on later pages."""
    top = [" ".join(t.split()) for t in top_lines if t and t.strip()]
    parts = top if top else [p[:HEAD_CHARS] for p in pages[:2]]
    return "\n".join(parts)[: 2 * HEAD_CHARS]
