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


_FIELDS = ["title", "abstract", "body", "authors"]


def _parser(schema):
    return MultifieldParser(_FIELDS, schema, fieldboosts=None, group=OrGroup.factory(0.9))


MAX_QUERY_WORDS = 10
_SYNTAX = re.compile(r'["():*?^~\[\]{}]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b')


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
            if not _SYNTAX.search(query):      # plain words: bounded work (fast.py)
                plain = _prune(searcher, schema, query)
                ranked.extend((0, h) for h in _fast(store, searcher, schema, plain, limit, per_paper, len(ranked)))
                continue
            for tier, q in enumerate(_queries(schema, query)):
                found = 0
                # only passages have searchable fields: no filter needed (building one for
                # every query cost more than the search at 1k papers)
                results = searcher.search(q, limit=limit * (per_paper + 3))
                results.fragmenter = highlight.ContextFragmenter(maxchars=220, surround=60)
                results.formatter = _MarkdownFormatter()
                for hit in results:
                    if hit.docnum in seen_docs:
                        continue
                    seen_docs.add(hit.docnum)
                    pid = hit["paper_id"]
                    seen[pid] = seen.get(pid, 0) + 1
                    if seen[pid] > per_paper:
                        continue
                    found += 1
                    # highlighting costs ~1 ms a hit: the first ones get it, the rest a plain start
                    ranked.append((tier, _hit(store, hit, highlight=len(ranked) < HIGHLIGHT_TOP)))
                if found >= limit:
                    break
        except Exception:
            log.exception("search failed in %s", store.folder)
    ranked.sort(key=lambda th: (th[0], -th[1].score))
    return [h for _, h in ranked[:limit]]


HIGHLIGHT_TOP = 12


FAST_CANDIDATES = 120      # passages re-scored with their paper's title and authors
FAST_PAPERS = 50           # best title/author matches brought in with their first passage


def _fast(store: IndexStore, searcher, schema, query: str, limit: int, per_paper: int,
          already: int) -> list[SearchHit]:
    """A plain query through the bounded-work ranking of fast.py: passage words from bounded
    posting lists, title and author words once per paper (see fast.py)."""
    import heapq

    from paperlens.core.index import fast
    from paperlens.core.index.schema import FIELD_BOOSTS

    words = fast.query_words(schema, query.split())
    if not words:
        return []
    total = len(words)
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

    paper_of = fast.paper_of(searcher, store.whoosh_dir)
    cands: dict[int, float] = {}
    papers_in: set[str] = set()
    for d in heapq.nlargest(max(FAST_CANDIDATES, 4 * limit), pscore, key=pscore.get):
        s = pscore[d]
        if reader.is_deleted(d):
            continue
        pid = paper_of(d)
        if pid in papers.text_of:       # an entry whose full text is indexed: the text speaks
            continue
        papers_in.add(pid)
        cands[d] = (s + tscore.get(pid, 0.0)) * fast.coordination(pmask[d] | tmask.get(pid, 0), total)
    for pid in heapq.nlargest(FAST_PAPERS, tscore, key=tscore.get):
        ts = tscore[pid]
        if pid in papers_in:
            continue
        try:
            d = reader.first_id("doc", f"s:{pid}:0")
        except Exception:         # not in the index (a paper without passages)
            continue
        if d is None or reader.is_deleted(d):
            continue
        cands[d] = (pscore.get(d, 0.0) + ts) * fast.coordination(pmask.get(d, 0) | tmask[pid], total)
    snippets = fast.Snippets((text for pairs in words for _, text in pairs), schema["body"].analyzer)
    out: list[SearchHit] = []
    seen: dict[str, int] = {}
    written = fast.runs(schema, query.split())
    if written:       # a Chinese run or hyphenated word as typed beats its words scattered
        for d in heapq.nlargest(fast.RUN_CHECKED, cands, key=cands.get):
            f = fields_of(d)
            row = store.table.get(f.get("paper_id", ""))
            hay = ((f.get("text") or "") + " " + (row.title if row else "")).lower()
            found = sum(1 for w in written if w in hay)
            if found:
                cands[d] *= 1 + fast.RUN_BONUS * found / len(written)
    for d, score in sorted(cands.items(), key=lambda kv: -kv[1]):
        fields = fields_of(d)
        pid = fields.get("paper_id", "")
        seen[pid] = seen.get(pid, 0) + 1
        if seen[pid] > per_paper:
            continue
        text = fields.get("text") or ""
        snippet = ""
        if already + len(out) < HIGHLIGHT_TOP and text:
            snippet = snippets(text)
        out.append(_make_hit(store, fields, score, snippet or text[:200], text))
        if len(out) >= limit:
            break
    return out


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


def _hit(store: IndexStore, hit, highlight: bool = True) -> SearchHit:
    text = hit.get("text") or ""
    field = "abstract" if str(hit.get("section", "")).startswith("abstract") else "body"
    snippet = (hit.highlights(field, text=text, top=2) if highlight else "") or text[:200]
    return _make_hit(store, hit, hit.score, snippet, text)


def _make_hit(store: IndexStore, fields, score: float, snippet: str, text: str) -> SearchHit:
    pid = fields["paper_id"]
    row = store.table.get(pid)
    return SearchHit(
        paper_id=pid, key=row.key if row else fields.get("key", ""), title=row.title if row else "",
        path=str(store.folder / fields["path"]), line_start=fields.get("line_start") or 0,
        line_end=fields.get("line_end") or 0, page=fields.get("page"), section=fields.get("section") or "",
        score=score, snippet=" ".join(snippet.split()), text=text)
