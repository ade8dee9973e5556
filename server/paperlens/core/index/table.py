"""The compact paper table: what completion and key lookup need, loaded in milliseconds.

One row per paper (no abstracts or full text). Completion matches typed words as prefixes of
the key, author surnames, title words and the year through a sorted vocabulary, so a query costs
a few bisections and set intersections even for 10k papers.
"""
from __future__ import annotations

import bisect
import heapq
import json
import os
import re
import threading
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core.corpus import read_regular
from paperlens.core.models import Paper

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = {"a", "an", "the", "of", "for", "in", "on", "to", "and", "with", "from", "via", "by", "at", "is"}

# weights of a typed word matching each kind of token
W_KEY, W_SURNAME, W_YEAR, W_TITLE = 8.0, 4.0, 3.0, 2.0


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def year_int(year: object) -> Optional[int]:
    """A year as a number (for ordering), or None when it is not one: ASCII digits only.
    ``str.isdigit()`` also accepts digits that ``int()`` refuses (superscripts: ``²⁰²⁰``), and
    ``int()`` refuses strings of more than 4300 digits: a .bib's year is any text."""
    if isinstance(year, str) and 0 < len(year) <= 9 and year.isascii() and year.isdigit():
        return int(year)
    return None


RECORD_NAMES = 8     # surnames a record's text lists before "et al."


def record_text(title: str, surnames: list[str], venue: str, year: str, key: str) -> str:
    """The text of a paper's searchable record, as a search hit shows it:
    ``Title — Lamport, Shostak · Venue · 1978 · lamport1978time``."""
    names = ", ".join(surnames[:RECORD_NAMES]) + (" et al." if len(surnames) > RECORD_NAMES else "")
    rest = " · ".join(v for v in (names, venue, year, key) if v)
    return (title or "") + (" — " + rest if rest else "")


@dataclass(slots=True)        # no __dict__: 20k rows at 10k papers
class Row:
    id: str
    key: str
    title: str
    surnames: list[str]
    year: str
    venue: str
    source: str
    source_line: int
    source_kind: str
    file: str
    doi: str = ""
    arxiv: str = ""
    alias_of: str = ""        # a paper text merged into a bibliography entry: that entry's id
    fulltext: str = ""        # an entry whose paper text is in the library: that text's path

    @classmethod
    def from_paper(cls, p: Paper) -> "Row":
        return cls(p.id, p.key, p.title, p.surnames(), p.year, p.venue, p.source,
                   p.source_line, p.source_kind, p.file, p.doi.lower(), p.arxiv)

    def record_text(self) -> str:
        return record_text(self.title, self.surnames, self.venue, self.year, self.key)

    @property
    def is_entry(self) -> bool:
        """A bibliography record (bib, CSL-JSON, table row) rather than a paper's full text."""
        return self.source_kind in ("bib", "csl", "table")


def copy_bytes(src, out, start: int, end: int, chunk: int = 1 << 20) -> int:
    """Copy the bytes ``start:end`` of the file ``src`` to ``out`` as they are (not decoded and
    encoded again); how many were copied (fewer when ``src`` ends first)."""
    src.seek(start)
    done = 0
    while done < end - start:
        data = src.read(min(chunk, end - start - done))
        if not data:
            break
        out.write(data)
        done += len(data)
    return done


def _row_encoder():
    """A row's JSON text (compact, non-ASCII as is): one C encoder for every row of a write."""
    from json import encoder as _json

    if _json.c_make_encoder is not None:
        def default(o):
            raise TypeError(f"{o.__class__.__name__} is not a row's value")

        made = _json.c_make_encoder(None, default, _json.encode_basestring, None, ":", ",", False, False, True)
        return lambda value: "".join(made(value, 0))
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class PaperTable:
    def __init__(self, rows: Iterable[Row] = ()):
        self.rows: list[Row] = list(rows)
        self._built = False
        self.by_id: Optional[dict[str, int]] = None
        # key -> its first row; a key of several rows (a paper text and its entry may share
        # one, two .bib files may define it) -> its other rows in ``_more_keys``: no list per key
        self.by_key: dict[str, int] = {}
        self._more_keys: dict[str, list[int]] = {}
        self.by_text: dict[str, int] = {}
        self._build_lock = threading.Lock()
        self._newest: Optional[array] = None
        self._few: tuple[int, list[tuple[float, Row]], int] = (0, [], 0)   # _newest_few's last answer
        self._rank: Optional[array] = None        # row -> its place newest first (ties: by key)
        self._short: dict[str, dict[int, float]] = {}   # the last few 1-2 letter prefixes' matches
        self._text_of: Optional[dict[str, str]] = None
        # (path, base, the file's stat, each row's end in it) of the file ``write`` wrote last
        self._file: Optional[tuple] = None
        # completion's word index (see _build): the sorted vocabulary, and per kind of token
        # (key, surname, year, title word) the rows of each token in vocabulary order, one flat
        # array with the offsets of each token's run
        self._vocab: list[str] = []
        self._runs: tuple = ()

        self.damaged = ""         # why the file this table was loaded from could not be used

    # -- persistence -------------------------------------------------------------------
    # Paths under the indexed folder are stored relative to it, marked with REL: the file is
    # half the size, and reading it is what the first completion waits for.
    REL = "\u0001"
    # each row is a JSON list of exactly these types (what ``write`` writes); anything else
    # means the file is damaged
    ROW_TYPES = (str, str, str, list, str, str, str, int, str, str, str, str, str, str)
    MAX_BYTES = 1 << 30

    def save(self, path: Path, base: str = "") -> None:
        tmp = path.with_suffix(".tmp")
        self.write(tmp, base)
        tmp.replace(path)
        self.written(path)

    def write(self, path: Path, base: str = "", previous: Optional["PaperTable"] = None,
              changed: Iterable[Row] = ()) -> None:
        """Write the table to ``path`` (``save`` writes it aside and renames it).

        With ``previous``, the table whose file is where it wrote it (an update's table before
        the update), the text of each of its rows still here, and not in ``changed`` (rows
        whose fields changed since), is copied from that file as bytes: a changed file's update
        encodes its own rows, not the library's 20k again (the file holds the same bytes)."""
        prefix = base.rstrip("/") + "/" if base else None
        mark = self.REL

        def rel(p: str) -> str:
            return mark + p[len(prefix):] if prefix and p.startswith(prefix) else p

        encode = _row_encoder()
        rows = self.rows
        ends = array("q")             # where each row's text ends in the file
        old = previous._written_file(base) if previous is not None else None
        try:
            with open(path, "wb") as f:
                f.write(b"[")
                pos, i, n = 1, 0, len(rows)
                if old is not None:
                    src, old_rows, old_ends, old_ids = old
                    skip = {id(r) for r in changed}
                while i < n:
                    j = -1
                    if old is not None:
                        r = rows[i]
                        j = old_ids.get(r.id, -1)
                        if j < 0 or old_rows[j] is not r or id(r) in skip:
                            j = -1
                    if j < 0:             # encoded: a new or changed row
                        r = rows[i]
                        data = encode([r.id, r.key, r.title, r.surnames, r.year, r.venue, rel(r.source),
                                       r.source_line, r.source_kind, rel(r.file), r.doi, r.arxiv,
                                       r.alias_of, rel(r.fulltext)]).encode("utf-8")
                        if i:
                            f.write(b",")
                            pos += 1
                        f.write(data)
                        pos += len(data)
                        ends.append(pos)
                        i += 1
                        continue
                    # copied: the longest run of the previous table's rows in the same order
                    k = 1
                    while i + k < n and j + k < len(old_rows) and old_rows[j + k] is rows[i + k] \
                            and id(rows[i + k]) not in skip:
                        k += 1
                    start = old_ends[j - 1] + 1 if j else 1
                    end = old_ends[j + k - 1]
                    if i:
                        f.write(b",")
                        pos += 1
                    if copy_bytes(src, f, start, end) != end - start:
                        raise OSError(f"{path}: the previous table's file ended early")
                    for m in range(j, j + k):
                        ends.append(old_ends[m] - start + pos)
                    pos += end - start
                    i += k
                f.write(b"]")
        finally:
            if old is not None:
                old[0].close()
        st = os.stat(path)
        self._file = (str(path), base, (st.st_ino, st.st_size, st.st_mtime_ns), ends)

    def find_row_ends(self) -> None:
        """Where each row's text ends in the file this table was loaded from (background work:
        the file read and decoded again, ~0.1 s at 10k papers), so that the next ``write``
        copies the rows an update leaves as they were rather than encoding them all."""
        kept = self._file
        if kept is None or kept[3] is not None or not self.rows:
            return
        path, base, stamp, _ = kept
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                if (st.st_ino, st.st_size, st.st_mtime_ns) != stamp:
                    return
                text = f.read().decode("utf-8")
        except (OSError, ValueError):
            return
        decode = json.JSONDecoder().raw_decode
        plain = text.isascii()
        rows, ends = self.rows, array("q")
        at, pos = 1, 1
        try:
            for r in rows:            # exactly what ``write`` writes: no spaces, the same ids
                value, end = decode(text, at)
                if value[0] != r.id:
                    return
                pos += end - at if plain else len(text[at:end].encode("utf-8"))
                ends.append(pos)
                if text[end] == "]":
                    break
                if text[end] != ",":
                    return
                at, pos = end + 1, pos + 1
        except (ValueError, IndexError, TypeError, KeyError):
            return
        if len(ends) == len(rows) and text[0] == "[" and text[end:] == "]":
            self._file = (path, base, stamp, ends)

    def written(self, path: Path) -> None:
        """The file ``write`` wrote was renamed to ``path`` (where the next write finds it)."""
        if self._file is not None:
            self._file = (str(path),) + self._file[1:]

    def _written_file(self, base: str):
        """(the file this table wrote, open; its rows; their ends; id -> row) when it is still
        as written, else None."""
        kept = self._file
        if kept is None or kept[1] != base or kept[3] is None:
            return None
        try:
            src = open(kept[0], "rb")
        except OSError:
            return None
        st = os.fstat(src.fileno())
        if (st.st_ino, st.st_size, st.st_mtime_ns) != kept[2] or len(kept[3]) != len(self.rows):
            src.close()
            return None
        self._ensure_ids()
        return src, self.rows, kept[3], self.by_id

    @classmethod
    def load(cls, path: Path, base: str = "") -> "PaperTable":
        """The table written at ``path``. A missing file gives an empty table; a file that
        cannot be read or is not exactly what ``write`` writes (any row with a field of another
        type) gives an empty table whose ``damaged`` says why: no row of a damaged table is
        served, and the store rebuilds the index (store.needs_rebuild)."""
        try:
            before = os.stat(path)
            raw = read_regular(path, cls.MAX_BYTES)
            after = os.stat(path)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            return cls.broken(f"cannot be read: {exc}")
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:            # "[[[[...": the C decoder recurses once a level
            return cls.broken("nested too deeply")
        except (ValueError, MemoryError) as exc:   # UnicodeDecodeError is a ValueError
            return cls.broken(f"not JSON ({exc.__class__.__name__})")
        if type(data) is not list:
            return cls.broken("not a list of rows")
        prefix, mark, types = base.rstrip("/") + "/", cls.REL, cls.ROW_TYPES
        rows = []
        # one string for each value that repeats (the .bib of 10k entries, years, venues,
        # surnames, a text's source and file): JSON gives a new one each time (~5 MB at 10k)
        same: dict[str, str] = {}
        one = same.setdefault
        for n, row in enumerate(data):
            if type(row) is not list or tuple(map(type, row)) != types \
                    or not all(type(s) is str for s in row[3]) or row[7] < 0:
                return cls.broken(f"row {n + 1} is not a paper's row")
            for i in (6, 9, 13):          # source, file, fulltext
                v = row[i]
                if v and v[0] == mark:
                    v = prefix + v[1:]
                row[i] = one(v, v)
            row[4], row[5], row[8] = one(row[4], row[4]), one(row[5], row[5]), one(row[8], row[8])
            row[3] = list(map(one, row[3], row[3]))      # surnames
            rows.append(Row(*row))
        table = cls(rows)
        stamp = (after.st_ino, after.st_size, after.st_mtime_ns)
        if (before.st_ino, before.st_size, before.st_mtime_ns) == stamp:     # the bytes read
            table._file = (str(path), base, stamp, None)      # row ends: find_row_ends
        return table

    @classmethod
    def broken(cls, why: str) -> "PaperTable":
        table = cls()
        table.damaged = why
        return table

    # -- lookups -------------------------------------------------------------------------
    def _build_ids(self) -> None:
        by_key: dict[str, int] = {}
        more: dict[str, list[int]] = {}
        by_id: dict[str, int] = {}
        by_text: dict[str, int] = {}
        rows = self.rows
        for i, r in enumerate(rows):
            key = r.key
            if by_key.setdefault(key, i) != i:
                more.setdefault(key, []).append(i)
            by_id[r.id] = i
            if not r.is_entry:
                by_text.setdefault(r.source, i)
        self.by_key, self._more_keys, self.by_text, self.by_id = by_key, more, by_text, by_id

    def _share_with_entries(self) -> None:
        """A paper text joined to its entry holds the entry's id (``alias_of``), and mostly the
        entry's title, DOI and authors: the entry's strings (list) rather than equal copies
        (~2.5 MB at 10k papers; done with the word index, in the background, not at load)."""
        rows, by_id = self.rows, self.by_id
        for r in rows:
            if not r.alias_of:
                continue
            j = by_id.get(r.alias_of)
            if j is None:
                continue
            e = rows[j]
            r.alias_of = e.id
            if r.title == e.title:
                r.title = e.title
            if r.surnames == e.surnames:
                r.surnames = e.surnames
            if r.doi == e.doi:
                r.doi = e.doi

    def _ensure_ids(self) -> None:
        """Key and id lookups (cheap; completion's word index is built separately)."""
        if self.by_id is None:
            with self._build_lock:
                self._ensure_ids_locked()

    KINDS = (W_KEY, W_SURNAME, W_YEAR, W_TITLE)

    def _build(self) -> None:
        """Completion's word index: each token's rows per kind of token, as runs of flat
        arrays in vocabulary order (a prefix's rows of one kind are one slice of an array: no
        dictionary per token, ~1 MB at 10k papers instead of ~12)."""
        self._ensure_ids_locked()
        self._share_with_entries()
        kinds: tuple[dict[str, list[int]], ...] = ({}, {}, {}, {})
        key_rows, name_rows, year_rows, title_rows = kinds

        def add(rows_of: dict[str, list[int]], token: str, i: int) -> None:
            got = rows_of.get(token)
            if got is None:
                rows_of[token] = [i]
            elif got[-1] != i:            # rows come in order: a repeat is the last one
                got.append(i)

        words = _WORD.findall
        for i, r in enumerate(self.rows):
            if r.alias_of:
                continue          # merged into its bibliography entry: complete that one
            key = fold(r.key)
            add(key_rows, r.key if key == r.key else key, i)     # (lower() copies even a lower-case key)
            for s in r.surnames:
                for w in words(fold(s)):
                    add(name_rows, w, i)
            if r.year:
                add(year_rows, r.year, i)
            for w in words(fold(r.title)):
                if w not in _STOP:
                    add(title_rows, w, i)
        vocab = sorted(set().union(*kinds))
        runs = []
        for rows_of in kinds:
            flat, starts = array("i"), array("i", [0])
            get = rows_of.get
            for token in vocab:
                got = get(token)
                if got:
                    flat.extend(got)
                starts.append(len(flat))
            runs.append((flat, starts))
        self._vocab = vocab
        self._runs = tuple(runs)
        self._order()             # ranks equal scores, lists an empty query
        self._built = True

    def ensure_built(self) -> None:
        """Build the lookup structures once (thread-safe: the server pre-builds them in the
        background at start, a request that comes first waits for the same build)."""
        if not self._built:
            with self._build_lock:
                if not self._built:
                    self._build()

    def _ensure_ids_locked(self) -> None:
        if self.by_id is None:
            self._build_ids()

    def find(self, key: str) -> list[Row]:
        self._ensure_ids()
        i = self.by_key.get(key)
        if i is None:
            return []
        more = self._more_keys.get(key)
        rows = self.rows
        return [rows[i]] + [rows[j] for j in more] if more else [rows[i]]

    def text_row(self, path: str) -> Optional[Row]:
        """The paper whose full text is the file at ``path`` (absolute)."""
        self._ensure_ids()
        i = self.by_text.get(path)
        return None if i is None else self.rows[i]

    def get(self, paper_id: str) -> Optional[Row]:
        self._ensure_ids()
        i = self.by_id.get(paper_id)
        return None if i is None else self.rows[i]

    def text_of(self) -> dict[str, str]:
        """Bibliography entry id -> id of the paper text merged into it (computed once)."""
        got = self._text_of
        if got is None:
            got = self._text_of = {r.alias_of: r.id for r in self.rows if r.alias_of}
        return got

    def keys(self) -> set[str]:
        return {r.key for r in self.rows}

    SHORT_PREFIXES = 8        # 1-2 letter prefixes whose matches are kept (each ~1 MB at 10k papers)

    def _matches(self, word: str) -> dict[int, float]:
        """Rows with a token starting with ``word``: best weight per row. A prefix of one or two
        letters names most of a large library (``a``: 126k postings at 10k papers, 6 ms): its
        matches are kept for the next completions (callers do not change them)."""
        if len(word) <= 2:
            got = self._short.get(word)
            if got is None:
                got = self._prefix_matches(word)
                if len(self._short) >= self.SHORT_PREFIXES:
                    try:            # another request's thread may have dropped it meanwhile
                        self._short.pop(next(iter(self._short)))
                    except (StopIteration, KeyError, RuntimeError):
                        pass
                self._short[word] = got
            return got
        return self._prefix_matches(word)

    def _years_newest_first(self) -> dict[str, int]:
        """Each year string of the rows -> its sort key, newest first (no year: last)."""
        years: dict[str, int] = {}
        for r in self.rows:
            if r.year not in years:
                years[r.year] = -(year_int(r.year) or 0)
        return years

    def _sorted(self) -> list[int]:
        """Every row, newest first, then by key: the order of an empty query's list."""
        rows = self.rows
        years = self._years_newest_first()
        # two stable sorts on plain keys (by key, then by year) instead of a tuple per row
        keys = [r.key for r in rows]
        order = sorted(range(len(rows)), key=keys.__getitem__)
        newest = [years[r.year] for r in rows]
        order.sort(key=newest.__getitem__)
        return order

    def _order(self) -> array:
        """Each row's place in :meth:`_sorted` (ranks matches of equal score); the rows an
        empty query lists are computed with it (``_newest``)."""
        rank = self._rank
        if rank is None:
            order = self._sorted()
            rank = array("i", bytes(4 * len(order)))
            rows = self.rows
            for place, i in enumerate(order):
                rank[i] = place
            self._newest = array("i", (i for i in order if not rows[i].alias_of))
            self._rank = rank
        return rank

    def _newest_few(self, limit: int) -> tuple[list[tuple[float, Row]], int]:
        """An empty query's first ``limit`` rows without sorting the library (the first
        completion, before the background build of :meth:`_order`): the same rows in the same
        order, a selection instead of a sort; kept, so the completions until that build take
        it again, ~7 ms at 10k papers)."""
        most, few, total = self._few
        if most >= limit or (total and most >= total):
            return few[:limit], total
        rows = self.rows
        listed = [i for i, r in enumerate(rows) if not r.alias_of]
        years = self._years_newest_first()
        chosen = heapq.nsmallest(limit, listed, key=lambda i: (years[rows[i].year], rows[i].key, i))
        few = [(0.0, rows[i]) for i in chosen]
        self._few = (limit, few, len(listed))
        return list(few), len(listed)

    def _prefix_matches(self, word: str) -> dict[int, float]:
        """Rows with a token starting with ``word``: the best score per row (a kind's weight,
        plus one when the token is the word). Each kind's rows of the prefix's tokens are one
        slice of its array; scores are laid in ascending order, a higher one replacing a lower
        (C loops only: ``a`` matches most of a large library)."""
        vocab = self._vocab
        lo = bisect.bisect_left(vocab, word)
        hi = bisect.bisect_left(vocab, word + "\U0010ffff")
        if lo >= hi:
            return {}
        exact = vocab[lo] == word
        levels = []
        for weight, (flat, starts) in zip(self.KINDS, self._runs):
            a, b = starts[lo], starts[hi]
            if exact:
                e = starts[lo + 1]
                if e > a:
                    levels.append((weight + 1.0, flat[a:e]))
                a = e
            if b > a:
                levels.append((weight, flat[a:b]))
        levels.sort(key=lambda level: level[0])
        out: dict[int, float] = {}
        for score, rows in levels:
            out.update(dict.fromkeys(rows, score))
        return out

    def complete(self, query: str, limit: int = 50) -> tuple[list[tuple[float, Row]], int]:
        """(score, row) for rows matching every typed word, best first, and how many matched.

        ``vaswani`` finds by surname, ``attention 2017`` by title word and year, ``vas2017``
        by key prefix. An empty query lists the library, newest first.
        """
        q = fold(query).strip()
        if not q:                 # needs no word index: the first completion does not wait for it
            order = self._newest
            if order is None:     # the order is made with the word index: the newest few meanwhile
                return self._newest_few(limit)
            return [(0.0, self.rows[i]) for i in order[:limit]], len(order)
        self.ensure_built()
        scores: Optional[dict[int, float]] = None
        words = _WORD.findall(q)
        # a key typed with punctuation ("he2016-deep") matches whole; a plain word is its own whole
        whole = self._matches(q) if " " not in q and words != [q] else {}
        for word in words:
            m = self._matches(word)
            if scores is None:
                scores = m
            else:
                scores = {i: s + m[i] for i, s in scores.items() if i in m}
            if not scores:
                break
        scores = scores or {}
        if whole:                   # a kept prefix's matches stay as they are
            scores = dict(scores)
        for i, s in whole.items():  # a key typed with punctuation: "he2016-deep"
            scores[i] = max(scores.get(i, 0.0), s)
        # best score first, then newest (then by key): two sorts on precomputed keys, stable,
        # instead of a Python key tuple per row (5k rows matching "li": 13 ms)
        ranked = sorted(scores, key=self._order().__getitem__)
        ranked.sort(key=scores.__getitem__, reverse=True)
        return [(scores[i], self.rows[i]) for i in ranked[:limit]], len(ranked)
