"""Ranked passage search over one or more folder indexes (BM25F, field boosts in schema.py)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from whoosh import highlight
from whoosh.qparser import MultifieldParser, OrGroup

from paperlens.core.index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass
class SearchHit:
    paper_id: str
    key: str
    title: str
    path: str            # absolute path of the file the passage is in
    line_start: int      # 0-based
    line_end: int
    page: Optional[int]
    section: str
    score: float
    snippet: str         # with **bold** around matched terms
    text: str

    def to_dict(self) -> dict:
        return {"paper_id": self.paper_id, "key": self.key, "title": self.title,
                "file": self.path, "line": self.line_start + 1, "line_end": self.line_end + 1,
                "page": self.page, "section": self.section, "score": round(self.score, 4),
                "snippet": self.snippet}


class _MarkdownFormatter(highlight.Formatter):
    between = " … "

    def format_token(self, text, token, replace=False):
        return "**" + highlight.get_text(text, token, replace) + "**"


_FIELDS = ["title", "abstract", "body", "authors", "meta"]


def _parser(schema):
    return MultifieldParser(_FIELDS, schema, fieldboosts=None, group=OrGroup.factory(0.9))


MAX_QUERY_WORDS = 10
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


def _prune(searcher, schema, query: str) -> str:
    """A long plain query (pasted title, sentence) keeps its most informative words: every word
    is a union over fields to score, and the rare words decide the ranking anyway."""
    words = query.split()
    if len(words) <= MAX_QUERY_WORDS:
        return query
    analyzer = schema["body"].analyzer
    scored = []
    for i, w in enumerate(words):
        terms = [t.text for t in analyzer(w, mode="query")]
        if not terms:
            continue                                   # a stop word
        df = min(searcher.doc_frequency("body", t) for t in terms)
        scored.append((df, i, w))
    keep = sorted(sorted(scored)[:MAX_QUERY_WORDS], key=lambda x: x[1])
    return " ".join(w for _, _, w in keep) or query


def _queries(schema, query: str) -> list:
    """A query with syntax, Whoosh's way. Precise first: a Chinese run must match all its words.
    Then, for Chinese queries, a looser query in which every word counts on its own (recall when
    the precise one is short)."""
    from paperlens.core.index.analysis import segment_query

    parser = _parser(schema)
    queries = [parser.parse(query)]
    loose = segment_query(query)
    if loose != query:
        queries.append(parser.parse(loose))
    return queries


def search(stores: Iterable[IndexStore], query: str, limit: int = 10,
           per_paper: int = 2) -> list[SearchHit]:
    """Best passages for ``query`` across the stores, at most ``per_paper`` from one paper."""
    query = (query or "").strip()
    if not query:
        return []
    ranked: list[tuple[int, SearchHit]] = []
    for store in stores:
        if not store.is_ready():
            continue
        try:
            searcher = store.searcher()
            seen_docs: set[int] = set()
            seen: dict[str, int] = {}
            schema = store.ix().schema
            if not has_syntax(query, schema):      # plain words: bounded work (fast.py)
                plain = _prune(searcher, schema, query)
                ranked.extend((0, h) for h in _fast(store, searcher, schema, plain, limit, per_paper, len(ranked)))
                continue
            from paperlens.core.index import fast

            text_of = store.table.text_of()
            docs = fast.PaperDocs(searcher, store.whoosh_dir)
            for tier, q in enumerate(_queries(schema, query)):
                found = 0
                # only passages and records have searchable fields: no filter needed (building
                # one for every query cost more than the search at 1k papers)
                results = searcher.search(q, limit=limit * (per_paper + 3))
                results.fragmenter = highlight.ContextFragmenter(maxchars=220, surround=60)
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
                    ranked.append((tier, _hit(store, hit, highlight=len(ranked) < HIGHLIGHT_TOP,
                                              fields=where)))
                if found >= limit:
                    break
        except Exception:
            log.exception("search failed in %s", store.folder)
    ranked.sort(key=lambda th: (th[0], -th[1].score))
    return [h for _, h in ranked[:limit]]


HIGHLIGHT_TOP = 12


FAST_CANDIDATES = 120      # passages re-scored with their paper's record
FAST_PAPERS = 50           # best record matches brought in through their record document


def _fast(store: IndexStore, searcher, schema, query: str, limit: int, per_paper: int,
          already: int) -> list[SearchHit]:
    """A plain query through the bounded-work ranking of fast.py: passage words from bounded
    posting lists; title, author, key, year and venue words once per paper from the paper
    table (its record). A paper whose passages do not match comes in through its record
    document, so a paper without abstract or text is found like any other."""
    import heapq

    from paperlens.core.index import fast
    from paperlens.core.index.schema import FIELD_BOOSTS

    words = fast.query_words(schema, query.split())
    if not words:
        return []
    total = len(words)
    every = (1 << total) - 1
    pscore, pmask = fast.passage_scores(searcher, store.whoosh_dir, words, FIELD_BOOSTS)
    papers = fast.paper_fields(store.whoosh_dir, store.table, schema)
    tscore, tmask = papers.scores(words, FIELD_BOOSTS)
    reader = searcher.reader()
    stored: dict[int, dict] = {}

    def fields_of(d: int) -> dict:
        f = stored.get(d)
        if f is None:
            f = stored[d] = searcher.stored_fields(d)
        return f

    named = 1 + fast.META_BONUS * total

    def record(pid: str) -> float:
        """The paper's record score, times 1 + the number of query words when the record has
        every one of them: the query names the paper (its title, its author and year, its key),
        and the more words it has, the surer that is."""
        ts = tscore.get(pid, 0.0)
        return ts * named if ts and tmask[pid] == every else ts

    paper_of = fast.paper_of(searcher, store.whoosh_dir)
    docs = fast.PaperDocs(searcher, store.whoosh_dir)
    cands: dict[int, float] = {}
    owner: dict[int, str] = {}         # candidate -> the paper it counts for
    papers_in: set[str] = set()
    for d in heapq.nlargest(max(FAST_CANDIDATES, 4 * limit), pscore, key=pscore.get):
        s = pscore[d]
        if reader.is_deleted(d):
            continue
        pid = paper_of(d)
        sid = papers.text_of.get(pid)
        if sid is None:
            sid = pid
        elif docs.has_passages(sid):    # an entry whose full text is indexed: the text speaks
            continue
        papers_in.add(sid)
        owner[d] = sid
        cands[d] = (s + record(sid)) * fast.coordination(pmask[d] | tmask.get(sid, 0), total)
    for pid in heapq.nlargest(FAST_PAPERS, tscore, key=tscore.get):
        if pid in papers_in:
            continue
        d = docs.record(pid)
        if d is None:
            continue
        owner[d] = pid
        cands[d] = record(pid) * fast.coordination(tmask[pid], total)
    snippets = fast.Snippets((text for pairs in words for _, text in pairs), schema["body"].analyzer)
    out: list[SearchHit] = []
    seen: dict[str, int] = {}
    written = fast.runs(schema, query.split())
    if written:       # a Chinese run or hyphenated word as typed beats its words scattered
        for d in heapq.nlargest(fast.RUN_CHECKED, cands, key=cands.get):
            f = fields_of(d)
            row = store.table.get(f.get("paper_id", ""))
            hay = ((f.get("text") or "") + " " + (row.title if row else "")).lower()
            found = sum(n for w, n in written if w in hay)
            if found:
                cands[d] *= 1 + fast.RUN_BONUS * found
    for d, score in sorted(cands.items(), key=lambda kv: -kv[1]):
        fields = fields_of(d)
        sid = owner[d]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > per_paper:
            continue
        text = _text(store, fields)
        snippet = ""
        if fields.get("kind") == "record":
            snippet = snippets.whole(text)
        elif already + len(out) < HIGHLIGHT_TOP and text:
            snippet = snippets(text)
        out.append(_make_hit(store, fields, score, snippet or text[:200], text))
        if len(out) >= limit:
            break
    return out


def _text(store: IndexStore, fields) -> str:
    """A hit's text: a record's is made from the paper table (final key; a merged paper text
    is described by its bibliography entry)."""
    text = fields.get("text") or ""
    if fields.get("kind") != "record":
        return text
    row = store.table.get(fields.get("paper_id", ""))
    if row is None:
        return text
    if row.alias_of:
        row = store.table.get(row.alias_of) or row
    return row.record_text()


def warm(stores: Iterable[IndexStore]) -> None:
    """Prepare the first plain query's once-per-index work (run in the background)."""
    from paperlens.core.index import fast

    for store in stores:
        if not store.is_ready():
            continue
        try:
            fast.warm(store.searcher(), store.whoosh_dir, store.table, store.ix().schema)
        except Exception:
            log.exception("preparing search failed in %s", store.folder)


def _hit(store: IndexStore, hit, highlight: bool = True, fields=None) -> SearchHit:
    """A Whoosh hit; ``fields``: the document to show instead (a merged paper text's record
    for its entry's)."""
    fields = hit if fields is None else fields
    text = _text(store, fields)
    if fields.get("kind") == "record":      # short: all of it, the query's words in bold
        return _make_hit(store, fields, hit.score, _record_snippet(store, hit, text) or text, text)
    field = "abstract" if str(fields.get("section", "")).startswith("abstract") else "body"
    snippet = (hit.highlights(field, text=text, top=2) if highlight else "") or text[:200]
    return _make_hit(store, fields, hit.score, snippet, text)


def _record_snippet(store: IndexStore, hit, text: str) -> str:
    from paperlens.core.index import fast

    try:
        terms = {t.decode("utf-8") if isinstance(t, bytes) else str(t) for _, t in hit.results.q.all_terms()}
        return fast.Snippets(terms, store.ix().schema["body"].analyzer).whole(text)
    except Exception:        # highlighting is a nicety
        return ""


def _make_hit(store: IndexStore, fields, score: float, snippet: str, text: str) -> SearchHit:
    pid = fields["paper_id"]
    row = store.table.get(pid)
    return SearchHit(
        paper_id=pid, key=row.key if row else fields.get("key", ""), title=row.title if row else "",
        path=str(store.folder / fields["path"]), line_start=fields.get("line_start") or 0,
        line_end=fields.get("line_end") or 0, page=fields.get("page"), section=fields.get("section") or "",
        score=score, snippet=" ".join(snippet.split()), text=text)
