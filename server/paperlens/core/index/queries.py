"""Ranked passage search over one or more folder indexes (BM25F, field boosts in schema.py)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Optional

from whoosh import highlight
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import Term

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


def _queries(schema, query: str) -> list:
    """Precise first: a Chinese run must match all its words. Then, for Chinese queries, a
    looser query in which every word counts on its own (recall when the precise one is short)."""
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
            for tier, q in enumerate(_queries(store.ix().schema, query)):
                found = 0
                results = searcher.search(q, limit=limit * (per_paper + 3),
                                          filter=Term("kind", "passage"), terms=True)
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
                    ranked.append((tier, _hit(store, hit)))
                if found >= limit:
                    break
        except Exception:
            log.exception("search failed in %s", store.folder)
    ranked.sort(key=lambda th: (th[0], -th[1].score))
    return [h for _, h in ranked[:limit]]


def _hit(store: IndexStore, hit) -> SearchHit:
    pid = hit["paper_id"]
    text = hit.get("text") or ""
    field = "abstract" if str(hit.get("section", "")).startswith("abstract") else "body"
    snippet = hit.highlights(field, text=text, top=2) or text[:200]
    row = store.table.get(pid)
    return SearchHit(
        paper_id=pid, key=row.key if row else hit.get("key", ""), title=row.title if row else "",
        path=str(store.folder / hit["path"]), line_start=hit.get("line_start") or 0,
        line_end=hit.get("line_end") or 0, page=hit.get("page"), section=hit.get("section") or "",
        score=hit.score, snippet=" ".join(snippet.split()), text=text)
