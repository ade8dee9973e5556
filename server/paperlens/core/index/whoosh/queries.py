"""Ranked passage search in one folder's Whoosh index (BM25F, field boosts in schema.py).

``search(reading, ...)`` answers :meth:`IndexStore.search` from a ``Reading``: the store's
searcher of its latest commit, its paper table and its search cache. A plain query goes
through fast.py (bounded work); a query with syntax through Whoosh's parser, within limits
(patterns expanded to at most MAX_EXPANSION words, common words checked on candidates).
Merging the hits of several folders is :mod:`paperlens.core.index.search`'s.
"""
from __future__ import annotations

import copy
import heapq
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from paperlens.core.index.whoosh import require

require()

from whoosh import highlight as highlight_  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.qparser import MultifieldParser, OrGroup  # noqa: E402
from whoosh.searching import Results, Searcher  # noqa: E402

from paperlens.core.index.base import SearchHit  # noqa: E402
from paperlens.core.index.segmentation import segment_query  # noqa: E402
from paperlens.core.index.table import PaperTable  # noqa: E402
from paperlens.core.index.whoosh import fast  # noqa: E402
from paperlens.core.index.whoosh.schema import FIELD_BOOSTS  # noqa: E402

log = logging.getLogger(__name__)


@dataclass
class Reading:
    """What one search of a store reads (made by ``IndexStore.reading``)."""

    searcher: Searcher          # of the store's latest commit
    table: PaperTable
    folder: Path
    cache: fast.SearchCache

    @property
    def schema(self):
        return self.searcher.schema


class _MarkdownFormatter(highlight_.Formatter):
    between = " … "

    def format_token(self, text, token, replace=False):
        return "**" + highlight_.get_text(text, token, replace) + "**"


_FIELDS = ["title", "abstract", "body", "authors", "meta"]


def _parser(schema):
    return MultifieldParser(_FIELDS, schema, fieldboosts=None, group=OrGroup.factory(0.9))


MAX_QUERY_WORDS = 10      # a long plain query keeps its most informative words (_prune)

# Beyond the limits of every query (core/index/search.py): how many index words a pattern
# (``a*``, ``word~2``, ``[a TO z]``) expands to, how far a fuzzy word reaches (and, below, how
# many postings are scored one by one). The results carry a note when a limit applied.
MAX_EXPANSION = 64        # index words a pattern brings in; the whole query: MAX_EXPANDED
MAX_EXPANDED = 256
MAX_FUZZY = 2
# Whoosh syntax: a "?" ending a word is a question mark, and "word:" is a field only when the
# word names one ("BERT: Pre-training of ..." is a pasted title, "title:bert" a field query)
_SYNTAX = re.compile(r'["()*^~\[\]{}]|\?(?![\s,.;:!]|$)|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b')
_FIELD = re.compile(r"(?<![\w.])(\w+):(?=[^\s:])")


def has_syntax(query: str, schema) -> bool:
    """Whether ``query`` needs Whoosh's parser (else fast.py ranks it)."""
    if _SYNTAX.search(query):
        return True
    names = set(schema.names())
    return any(m.group(1) in names for m in _FIELD.finditer(query))


_OR_ONLY = re.compile(r"(?<!\S)OR(?!\S)|[()]")


def _plain_words(query: str, schema) -> Optional[str]:
    """The query as plain words, or None when it needs Whoosh's parser. Words joined by OR and
    grouped by parentheses, nothing else, are plain words: the parser joins words with OR
    anyway, and fast.py ranks a plain query with bounded work."""
    if not has_syntax(query, schema):
        return query
    bare = " ".join(_OR_ONLY.sub(" ", query).split())
    return bare if not has_syntax(bare, schema) else None


def _prune(r: Reading, query: str) -> str:
    """A long plain query (pasted title, sentence) keeps its most informative words: every word
    is a union over fields to score, and the rare words decide the ranking anyway."""
    words = query.split()
    if len(words) <= MAX_QUERY_WORDS:
        return query
    searcher, analyzer = r.searcher, r.schema["body"].analyzer
    segs = r.cache.segments(searcher)
    scored = []
    for i, w in enumerate(words):
        terms = fast.word_terms(analyzer, w)       # (kept: the same words come back)
        if not terms:
            continue                                   # a stop word
        df = min(r.cache.doc_frequency(searcher, "body", t, segs) for t in terms)
        scored.append((df == 0, df, i, w))     # a word in no passage cannot decide: last
    keep = sorted(sorted(scored)[:MAX_QUERY_WORDS], key=lambda x: x[2])
    return " ".join(w for _, _, _, w in keep) or query


def _bounded(q, reader, state: dict):
    """``q`` with each pattern (prefix, wildcard, fuzzy word, range) replaced by the index words
    it matches, at most MAX_EXPANSION of them (MAX_EXPANDED in all), and a fuzzy word's reach at
    most MAX_FUZZY edits: Whoosh expands a pattern to every matching word of the index, for the
    search and again for highlighting."""
    if isinstance(q, wq.MultiTerm):
        if isinstance(q, wq.FuzzyTerm) and q.maxdist > MAX_FUZZY:
            q = copy.copy(q)
            q.maxdist = MAX_FUZZY
            state["notes"].add(f"a fuzzy word reaches at most {MAX_FUZZY} edits")
        room = min(MAX_EXPANSION, state["left"])
        words = []
        for _, w in q.expanded_terms(reader):
            if not w:
                continue
            if len(words) >= room:
                state["notes"].add(f"a pattern brought in at most {MAX_EXPANSION} words of the index "
                                   f"({MAX_EXPANDED} for the whole query)")
                break
            words.append(w)
        state["left"] -= len(words)
        if not words:
            return wq.NullQuery
        field = q.field()
        return wq.Or([wq.Term(field, w) for w in words], boost=q.boost)
    if isinstance(q, wq.Every) and q.fieldname:     # reads every list of the field: all documents
        return wq.Every(boost=q.boost)
    return q.apply(lambda child: _bounded(child, reader, state))


def _queries(schema, query: str, reader=None, notes: Optional[set] = None) -> list:
    """A query with syntax, Whoosh's way. Precise first: a Chinese run must match all its words.
    Then, for Chinese queries, a looser query in which every word counts on its own (recall when
    the precise one is short). With a ``reader``, patterns are expanded (bounded, see
    ``_bounded``)."""
    parser = _parser(schema)
    queries = [parser.parse(query)]
    loose = segment_query(query)
    if loose != query:
        queries.append(parser.parse(loose))
    if reader is not None:
        state = {"left": MAX_EXPANDED, "notes": notes if notes is not None else set()}
        queries = [_bounded(q, reader, state) for q in queries]
    return queries


# A query with syntax whose words have more postings than this in all (a word as common as
# "model" has ~100k at 10k papers) is not run by Whoosh, which scores every matching posting in
# Python ("model OR learning" took 9 s at 10k papers, a 64-word AND query more). Its candidates
# are the passages and records that rank best for its words in the bounded lists of fast.py
# (bounded work, whatever the library size); the query is checked on each candidate's own
# words (``_Doc``) and the candidates that satisfy it are ranked by their fast.py score.
EXACT_POSTINGS = 5000
SYNTAX_CANDIDATES = 500         # passages taken from the bounded lists
SYNTAX_PAPERS = 100             # records of the papers whose title, authors, key... match best
# the paper-level fields of fast.py that a Whoosh field's term stands for
_FAST_FIELDS = {"title": ("title",), "abstract": ("abstract",), "body": ("body",),
                "authors": ("authors", "first"), "meta": ("key", "year", "venue")}
_ID_FIELDS = ("doc", "kind", "path", "paper_id", "key")


def _positive_terms(q):
    """(field, text) of the terms a document matching ``q`` may contain (not those under NOT)."""
    if isinstance(q, wq.Not):
        return
    if isinstance(q, wq.AndNot):
        yield from _positive_terms(q.a)
        return
    if q.is_leaf():
        yield from q.terms(phrases=True)
        return
    for child in q.children():
        yield from _positive_terms(child)


def _nodes(q):
    yield q
    for child in q.children():
        yield from _nodes(child)


def _str(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


class _Doc:
    """One candidate document's fields as the index analysed them (term -> positions), built
    from its stored fields and its paper's row, to check a query on it without the index."""

    def __init__(self, schema, stored: dict, row):
        self.schema = schema
        self.values: dict[str, str] = {}
        for name in _ID_FIELDS:
            if stored.get(name) is not None:
                self.values[name] = str(stored[name])
        if row is not None:
            self.values["title"] = row.title
        if stored.get("kind") == "record":
            if row is not None:    # the record's authors, key, year and venue (surnames: the row's)
                self.values["authors"] = "; ".join(row.surnames)
                self.values["meta"] = " ".join(v for v in (row.key, row.year, row.venue) if v)
        else:
            section = str(stored.get("section") or "")
            self.values["abstract" if section.startswith("abstract") else "body"] = stored.get("text") or ""
        self._terms: dict[str, dict[str, list[int]]] = {}

    def terms(self, field: str) -> dict[str, list[int]]:
        got = self._terms.get(field)
        if got is None:
            got = self._terms[field] = {}
            value = self.values.get(field)
            if value:
                if field in _ID_FIELDS:
                    got[value] = [0]
                elif field in self.schema:
                    for tok in self.schema[field].analyzer(value, positions=True, mode="index"):
                        got.setdefault(tok.text, []).append(tok.pos)
        return got

    def has(self, field: str, text) -> bool:
        return _str(text) in self.terms(field)

    def phrase(self, field: str, words, slop: int) -> bool:
        """Whoosh's phrase: each word 1 to ``slop`` positions after the one before."""
        terms = self.terms(field)
        lists = [terms.get(_str(w)) for w in words]
        if not lists or not all(lists):
            return False
        reach = max(1, int(slop))

        def follow(i: int, pos: int) -> bool:
            if i == len(lists):
                return True
            return any(follow(i + 1, p) for p in lists[i] if 1 <= p - pos <= reach)

        return any(follow(1, p) for p in lists[0])


def _satisfies(q, doc: _Doc) -> bool:
    """Whether ``doc`` matches ``q`` (a parsed query after ``_bounded``: terms, groups,
    NOT, phrases). A construct not known here counts as matching."""
    if isinstance(q, wq.Term):
        return doc.has(q.fieldname, q.text)
    if isinstance(q, wq.Phrase):
        return doc.phrase(q.fieldname, q.words, q.slop)
    if isinstance(q, wq.Not):
        return not _satisfies(q.query, doc)
    if isinstance(q, wq.AndNot):
        return _satisfies(q.a, doc) and not _satisfies(q.b, doc)
    if isinstance(q, (wq.AndMaybe, wq.Otherwise)):
        return _satisfies(q.a, doc) or (isinstance(q, wq.Otherwise) and _satisfies(q.b, doc))
    if isinstance(q, wq.Require):
        return _satisfies(q.a, doc) and _satisfies(q.b, doc)
    if isinstance(q, wq.And):
        return all(_satisfies(c, doc) for c in q.subqueries)
    if isinstance(q, (wq.Or, wq.DisjunctionMax)):
        return any(_satisfies(c, doc) for c in q.subqueries)
    if q is wq.NullQuery:
        return False
    if isinstance(q, wq.WrappingQuery):
        return _satisfies(q.child, doc)
    return True           # Every, and what the parser here does not make


def _by_candidates(r: Reading, q, terms, limit: int) -> list[tuple[float, int]]:
    """(score, docnum) of the best candidates (see EXACT_POSTINGS) that satisfy ``q``."""
    by_text: dict[str, list[tuple[str, str]]] = {}
    for field, text in terms:
        text = _str(text)
        pairs = by_text.setdefault(text, [])
        for f in _FAST_FIELDS.get(field, ()):
            if (f, text) not in pairs:
                pairs.append((f, text))
    words = [pairs for pairs in by_text.values() if pairs][:fast.MAX_WORDS]
    if not words:
        return []
    searcher, schema = r.searcher, r.schema
    pscore, _ = r.cache.passage_scores(searcher, words, FIELD_BOOSTS)
    tscore, _ = r.cache.paper_fields(r.table, schema).scores(words, FIELD_BOOSTS)
    paper_of = r.cache.paper_of(searcher)
    docs = r.cache.paper_docs(searcher)
    reader = searcher.reader()
    scores: dict[int, float] = {}
    for d in heapq.nlargest(SYNTAX_CANDIDATES, pscore, key=pscore.get):
        if not reader.is_deleted(d):
            scores[d] = pscore[d] + tscore.get(paper_of(d), 0.0)
    for pid in heapq.nlargest(SYNTAX_PAPERS, tscore, key=tscore.get):
        d = docs.record(pid)
        if d is not None:
            scores[d] = max(scores.get(d, 0.0), tscore[pid])
    out = []
    for d in sorted(scores, key=lambda d: (-scores[d], d)):
        stored = searcher.stored_fields(d)
        if _satisfies(q, _Doc(schema, stored, r.table.get(stored.get("paper_id", "")))):
            out.append((scores[d], d))
            if len(out) >= limit:
                break
    return out


# A phrase in a field indexed without positions (abstract, body: schema.py) is searched as
# all of its words, and the documents found are checked for the phrase on their own text
# (``_Doc``), best first, at most this many (the same documents, in the same order, as a
# phrase search on positions: Whoosh scores a phrase as the sum of its words).
PHRASE_CHECKED = 2000


def _without_positions(q, schema):
    """``q`` with each phrase on a field without positions replaced by the And of its words
    (same boost), or None when ``q`` has no such phrase."""
    replaced = False

    def walk(node):
        nonlocal replaced
        if isinstance(node, wq.Phrase):
            field = schema[node.fieldname] if node.fieldname in schema else None
            if field is not None and field.format is not None and not field.format.supports("positions"):
                replaced = True
                return wq.And([wq.Term(node.fieldname, w) for w in node.words], boost=node.boost)
            return node
        if node.is_leaf():
            return node
        return node.apply(walk)

    out = walk(q)
    return out if replaced else None


def _phrases_checked(r: Reading, q, loose, limit: int, notes: set):
    """Results for ``q`` (with phrases in fields without positions): the best ``limit`` of
    ``loose``'s hits (its phrases as all of their words) whose own text has the phrases (see
    PHRASE_CHECKED)."""
    searcher = r.searcher
    found = searcher.search(loose, limit=PHRASE_CHECKED)
    kept = []
    for hit in found:
        stored = hit.fields()
        if _satisfies(q, _Doc(r.schema, stored, r.table.get(stored.get("paper_id", "")))):
            kept.append((hit.score, hit.docnum))
            if len(kept) >= limit:
                break
    else:
        if found.scored_length() >= PHRASE_CHECKED:
            notes.add(f"the phrase's words are in more than {PHRASE_CHECKED} passages: it was "
                      "checked on those that rank best for them")
    return Results(searcher, q, kept)


def _whoosh_search(r: Reading, q, limit: int, notes: set):
    """Results for ``q``: Whoosh's own when its words have at most EXACT_POSTINGS postings,
    else its best candidates (see EXACT_POSTINGS)."""
    searcher = r.searcher
    reader = searcher.reader()
    terms = set(_positive_terms(q))
    postings = 0
    for field, text in terms:
        try:
            postings += reader.doc_frequency(field, text)
        except Exception:      # a field the schema does not have, a term its field cannot hold
            continue
        if postings > EXACT_POSTINGS:
            break
    if not terms:
        if any(isinstance(n, (wq.Not, wq.Every)) for n in _nodes(q)):
            # a NOT alone, "*": every document would match, nothing ranks them
            notes.add("the query names no word to look for")
        return Results(searcher, q, [])
    if postings <= EXACT_POSTINGS:
        loose = _without_positions(q, r.schema)
        if loose is not None:
            return _phrases_checked(r, q, loose, limit, notes)
        return searcher.search(q, limit=limit)
    notes.add(f"the query's words are in more than {EXACT_POSTINGS} passages: it was checked on "
              "the passages that rank best for them (a phrase, a rarer word or a field narrows it)")
    return Results(searcher, q, _by_candidates(r, q, terms, limit))


def search(r: Reading, query: str, limit: int, per_paper: int, highlight: int,
           notes: set[str]) -> list[tuple[int, SearchHit]]:
    """The best passages of one store for ``query`` (within core/index/search.py's limits)
    as (tier, hit), at most ``per_paper`` from one paper; the first ``highlight`` hits get
    highlighted snippets (see ``SearchIndex.search``)."""
    searcher, schema = r.searcher, r.schema
    words = _plain_words(query, schema)
    if words is not None:                  # plain words: bounded work (fast.py)
        plain = _prune(r, words)
        return [(0, h) for h in _fast(r, plain, limit, per_paper, highlight)]
    ranked: list[tuple[int, SearchHit]] = []
    seen_docs: set[int] = set()
    seen: dict[str, int] = {}
    text_of = r.table.text_of()
    docs = r.cache.paper_docs(searcher)
    try:
        parsed = _queries(schema, query, searcher.reader(), notes)
    except RecursionError:      # nesting bounded above: a construct Whoosh still recurses on
        log.info("search: query not understood (nested too deeply): %.80r", query)
        notes.add("the query was not understood")
        return ranked
    for tier, q in enumerate(parsed):
        found = 0
        # only passages and records have searchable fields: no filter needed (building
        # one for every query cost more than the search at 1k papers)
        results = _whoosh_search(r, q, limit * (per_paper + 3), notes)
        results.fragmenter = highlight_.ContextFragmenter(maxchars=220, surround=60)
        results.formatter = _MarkdownFormatter()
        for hit in results:
            if hit.docnum in seen_docs:
                continue
            seen_docs.add(hit.docnum)
            pid = hit["paper_id"]
            sid = text_of.get(pid)     # an entry merged with its text: one paper
            where = None
            if sid is None:
                sid = pid
            elif docs.has_passages(sid):       # ... for which the text speaks
                if hit.get("kind") != "record":
                    continue           # the entry's abstract: the text has it too
                d = docs.record(sid)
                if d is None or d in seen_docs:
                    continue
                seen_docs.add(d)
                where = searcher.stored_fields(d)
            seen[sid] = seen.get(sid, 0) + 1
            if seen[sid] > per_paper:
                continue
            found += 1
            # highlighting costs ~1 ms a hit: the first ones get it, the rest a plain start
            ranked.append((tier, _hit(r, hit, highlight=len(ranked) < highlight, fields=where)))
        if found >= limit:
            break
    return ranked


_UNMADE = object()

FAST_CANDIDATES = 120      # passages re-scored with their paper's record
FAST_PAPERS = 50           # best record matches brought in through their record document


def _largest(scores: dict, n: int) -> list:
    """``heapq.nlargest(n, scores, key=scores.get)``, same order (equal scores: the first
    inserted first), without a Python-level key call per entry (fast.top_places)."""
    keys = list(scores)
    return [keys[i] for i in fast.top_places(list(scores.values()), n)]


def _fast(r: Reading, query: str, limit: int, per_paper: int, highlight: int) -> list[SearchHit]:
    """A plain query through the bounded-work ranking of fast.py: passage words from bounded
    posting lists; title, author, key, year and venue words once per paper from the paper
    table (its record). A paper whose passages do not match comes in through its record
    document, so a paper without abstract or text is found like any other."""
    searcher, schema = r.searcher, r.schema
    words = fast.query_words(schema, query.split())
    if not words:
        return []
    total = len(words)
    every = (1 << total) - 1
    pscore, pmask = r.cache.passage_scores(searcher, words, FIELD_BOOSTS)
    papers = r.cache.paper_fields(r.table, schema)
    tscore, tmask = papers.scores(words, FIELD_BOOSTS)
    stored: dict[int, dict] = {}
    records: dict[int, str] = {}       # record candidates -> their paper
    # paper -> (row, path in the folder, text) of its record made from its row (None: read
    # from the index; see _row_record), for the store's table
    made = r.cache.made_records(r.table)
    stored_of = r.cache.stored_of(searcher)

    def fields_of(d: int) -> dict:
        f = stored.get(d)
        if f is None:
            f = stored[d] = stored_of(d)
        return f

    def made_of(d: int) -> Optional[tuple]:
        """A record candidate's record made from its row (None: a passage, or read from the
        index)."""
        pid = records.get(d)
        if pid is None:
            return None
        got = made.get(pid, _UNMADE)
        if got is _UNMADE:
            got = _row_record(r, pid)
            if got is None or len(got[2]) <= fast.RECORD_TEXT_MOST:     # (a first line may be long)
                if len(made) >= fast.RECORDS:
                    made.clear()
                made[pid] = got
        return got

    named = 1 + fast.META_BONUS * total
    both = tscore.pair
    known: dict[str, tuple[float, int]] = {}

    def record(pid: str) -> tuple[float, int]:
        """The paper's record score, times 1 + the number of query words when the record has
        every one of them: the query names the paper (its title, its author and year, its key),
        and the more words it has, the surer that is; and the record's word mask. (Once a
        paper: a paper has several passages among the candidates.)"""
        got = known.get(pid)
        if got is None:
            ts, tm = both(tmask, pid)
            got = known[pid] = (ts * named if ts and tm == every else ts, tm)
        return got

    paper_of = r.cache.paper_of(searcher, live=True)
    docs = r.cache.paper_docs(searcher)
    text_of = papers.text_of
    cands: dict[int, float] = {}
    owner: dict[int, str] = {}         # candidate -> the paper it counts for
    papers_in: set[str] = set()
    speaks: dict[str, Optional[str]] = {}      # paper -> the paper its passages count for (None: none)
    top = pmask.best(pscore, max(FAST_CANDIDATES, 4 * limit))      # (_largest, with their masks)
    scale = 1 + total
    for d in top:
        pid = paper_of(d)
        if pid is None:               # deleted
            continue
        if pid in speaks:
            sid = speaks[pid]
        else:
            sid = text_of.get(pid)
            if sid is None:
                sid = pid
            elif docs.has_passages(sid):    # an entry whose full text is indexed: the text speaks
                sid = None
            speaks[pid] = sid
        if sid is None:
            continue
        papers_in.add(sid)
        owner[d] = sid
        rs, rm = record(sid)
        # fast.coordination, inline
        cands[d] = (pscore[d] + rs) * ((1 + (pmask[d] | rm).bit_count()) / scale)
    # the papers the rarer words found are tscore's own entries (no lazy lookup)
    for pid in _largest(tscore, FAST_PAPERS):
        if pid in papers_in:
            continue
        d = docs.record(pid)
        if d is None:
            continue
        owner[d] = pid
        records[d] = pid
        rs, rm = record(pid)
        cands[d] = rs * fast.coordination(rm, total)
    snippets = fast.Snippets((text for pairs in words for _, text in pairs), schema["body"].analyzer)
    out: list[SearchHit] = []
    seen: dict[str, int] = {}
    written = fast.runs(schema, query.split())
    if written:       # a Chinese run or hyphenated word as typed beats its words scattered
        every_run = sum(n for _, n in written)
        # each record is a hit of its own paper: the hits' last score is at least the limit-th
        # best record's, which bonuses only raise; a candidate below it even with every run
        # as written cannot be a hit (its text, a stored document, is not read)
        floor = sorted([cands[d] for d in records], reverse=True)[limit - 1] if len(records) >= limit else 0.0
        most = 1 + fast.RUN_BONUS * every_run
        row_of = r.table.get
        for d in _largest(cands, fast.RUN_CHECKED):
            c = cands[d]
            if c * most < floor:
                continue
            # the paper's title first: when it has every run, the text (stored fields) cannot add
            # any (a run has no space: none spans the title and the text)
            pid = records.get(d)          # (a record's paper is its own)
            row = row_of(pid if pid is not None else paper_of(d))
            title = row.title.lower() if row else ""
            found, missing = 0, None
            for w, n in written:
                if w in title:
                    found += n
                else:
                    missing = [(w, n)] if missing is None else missing + [(w, n)]
            if missing is not None:
                m = made_of(d)
                text = (m[2] if m is not None else fields_of(d).get("text") or "").lower()
                for w, n in missing:
                    if w in text:
                        found += n
            if found:
                cands[d] = c * (1 + fast.RUN_BONUS * found)
    root = _root(r)
    for d in sorted(cands, key=cands.__getitem__, reverse=True):     # (stable: ties in their order)
        score = cands[d]
        sid = owner[d]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > per_paper:
            continue
        m = made_of(d)
        if m is not None:        # (as _make_hit makes it from a record's stored fields)
            row, rel, text, plain, page = m
            if len(out) < highlight:
                plain = " ".join((snippets.whole(text) or text[:200]).split())
            line = row.source_line or 0
            out.append(SearchHit(sid, row.key, row.title, root + rel, line, line, page, "record", score, plain,
                                 text))
            if len(out) >= limit:
                break
            continue
        fields = fields_of(d)
        text = _text(r, fields)
        snippet = ""
        if fields.get("kind") == "record":
            # the query words in bold for the first ``highlight`` hits, as passages (~10 us a
            # record: a fifth of a title query's 50 hits); the others' text as it is
            snippet = snippets.whole(text) if len(out) < highlight else text
        elif len(out) < highlight and text:
            snippet = snippets(text)
        out.append(_make_hit(r, fields, score, snippet or text[:200], text))
        if len(out) >= limit:
            break
    return out


def _row_record(r: Reading, pid: str) -> Optional[tuple]:
    """(row, path in the folder, text, the text as a snippet without highlights, page) of a
    paper's record document made from its paper table row (a stored document is read and
    decompressed: ~20 us a hit, and most hits of a title or topic query are records), or None
    when the row cannot say: a bibliography entry's record ends where its abstract does, which
    only the index knows. The text is the hit's (``_text``); the rest is what store.add_docs
    stored for the record (test_search_hit_sources compares them)."""
    row = r.table.get(pid)
    if row is None or row.is_entry:
        return None
    root, src = _root(r), row.source
    rel = src[len(root):] if src.startswith(root) else ""
    if not _plain_rel(rel):
        return None
    shown = r.table.get(row.alias_of) or row if row.alias_of else row      # as _text says
    text = shown.record_text()
    plain = " ".join(text.split()) if text else ""         # (as _make_hit writes a snippet)
    return row, rel, text, text if plain == text else plain, 1 if rel.lower().endswith(".pdf") else None


def _text(r: Reading, fields) -> str:
    """A hit's text: a record's is made from the paper table (final key; a merged paper text
    is described by its bibliography entry)."""
    text = fields.get("text") or ""
    if fields.get("kind") != "record":
        return text
    row = r.table.get(fields.get("paper_id", ""))
    if row is None:
        return text
    if row.alias_of:
        row = r.table.get(row.alias_of) or row
    return row.record_text()


def warm(r: Reading) -> None:
    """Prepare the first plain query's once-per-index work."""
    r.cache.warm(r.searcher, r.table, r.schema)


def _hit(r: Reading, hit, highlight: bool = True, fields=None) -> SearchHit:
    """A Whoosh hit; ``fields``: the document to show instead (a merged paper text's record
    for its entry's)."""
    fields = hit if fields is None else fields
    text = _text(r, fields)
    if fields.get("kind") == "record":      # short: all of it, the query's words in bold
        return _make_hit(r, fields, hit.score, _record_snippet(hit, text) or text, text)
    field = "abstract" if str(fields.get("section", "")).startswith("abstract") else "body"
    snippet = (hit.highlights(field, text=text, top=2) if highlight else "") or text[:200]
    return _make_hit(r, fields, hit.score, snippet, text)


def _record_snippet(hit, text: str) -> str:
    try:
        terms = {t.decode("utf-8") if isinstance(t, bytes) else str(t) for _, t in hit.results.q.all_terms()}
        return fast.Snippets(terms, hit.searcher.schema["body"].analyzer).whole(text)
    except Exception:        # highlighting is a nicety
        return ""


def _root(r: Reading) -> str:
    """The folder's path with a separator at its end."""
    root = r.__dict__.get("_root")
    if root is None:
        root = str(r.folder)
        root = r.__dict__["_root"] = root if root.endswith(os.sep) else root + os.sep
    return root


def _plain_rel(rel: str) -> bool:
    """Whether ``root + rel`` is ``str(folder / rel)`` (a plain relative POSIX path)."""
    return not (os.sep != "/" or not rel or rel.startswith("/") or "//" in rel or "./" in rel
                or rel.endswith("/"))


def _path(r: Reading, rel: str) -> str:
    """``str(r.folder / rel)`` for a stored (relative, POSIX) path, without pathlib's ~10 us."""
    if not _plain_rel(rel):
        return str(r.folder / rel)
    return _root(r) + rel


def _make_hit(r: Reading, fields, score: float, snippet: str, text: str) -> SearchHit:
    pid = fields["paper_id"]
    row = r.table.get(pid)
    return SearchHit(
        paper_id=pid, key=row.key if row else fields.get("key", ""), title=row.title if row else "",
        path=_path(r, fields["path"]), line_start=fields.get("line_start") or 0,
        line_end=fields.get("line_end") or 0, page=fields.get("page"), section=fields.get("section") or "",
        score=score, snippet=" ".join(snippet.split()), text=text)
