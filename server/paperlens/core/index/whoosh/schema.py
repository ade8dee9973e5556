"""The Whoosh schema: one index per paper folder holding paper records and their passages.

Three kinds of documents (``kind``): ``paper`` (``p:<id>``, the full Paper as stored data, never
searched), ``passage`` (``s:<id>:<n>``, a chunk of the paper's text) and ``record``
(``r:<id>``, every paper has one: its title, authors, key, year and venue, located at the
bibliography entry's line or the first line of the paper text). A paper without abstract or
text is found through its record.

The format version lives in version.py: bump it whenever fields or analyzers change.
"""
from __future__ import annotations

from paperlens.core.index.whoosh import require

require()

from whoosh import fields  # noqa: E402

from paperlens.core.index.whoosh.analysis import mixed_analyzer  # noqa: E402


# Ranking is BM25F over these fields: title > abstract > authors > body. The fast path
# (fast.py) scores a paper's title, authors, key, year and venue once per paper from the paper
# table; Whoosh (queries with syntax) sees key, year and venue as one field, ``meta``.
FIELD_BOOSTS = {"title": 3.0, "abstract": 2.0, "authors": 1.5, "body": 1.0,
                "first": 1.5, "key": 3.0, "year": 1.0, "venue": 0.5, "meta": 1.0}   # first: first author


def make_schema() -> fields.Schema:
    text = mixed_analyzer()   # English stemming + jieba for Chinese, phrase-safe positions
    return fields.Schema(
        # "p:<id>" (looked up), "s:<id>:<n>" or "r:<id>" (stored only, see store.add_docs)
        doc=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),                    # "paper" | "passage" | "record"
        path=fields.ID(stored=True),                    # source file, relative to the folder
        paper_id=fields.ID(stored=True),
        key=fields.ID(stored=True),
        # a Chinese run (one query "word", several tokens) must match all of its words
        title=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["title"], phrase=True,
                          multitoken_query="and"),
        authors=fields.TEXT(analyzer=mixed_analyzer(subwords=False), field_boost=FIELD_BOOSTS["authors"],
                            phrase=True),
        # without positions (a third of the index's writing): a quoted phrase in these is
        # found as all of its words and checked on the passage's stored text (queries.py)
        abstract=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["abstract"], multitoken_query="and",
                             phrase=False),
        body=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["body"], multitoken_query="and",
                         phrase=False),
        # records only: key (as written, or the generated key's base), year and venue
        meta=fields.TEXT(analyzer=mixed_analyzer(subwords=False), field_boost=FIELD_BOOSTS["meta"]),
        text=fields.STORED(),                           # the passage text, for snippets
        section=fields.STORED(),
        line_start=fields.STORED(),
        line_end=fields.STORED(),
        page=fields.STORED(),
        data=fields.STORED(),                           # paper docs: the full Paper as a dict
    )
