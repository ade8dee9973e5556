"""The Whoosh schema: one index per paper folder holding paper records and their passages.

The format version lives in version.py: bump it whenever fields or analyzers change.
"""
from __future__ import annotations

from whoosh import fields

from paperlens.core.index.analysis import mixed_analyzer


# Ranking is BM25F over these fields: title > abstract > authors > body
FIELD_BOOSTS = {"title": 3.0, "abstract": 2.0, "authors": 1.5, "body": 1.0}


def make_schema() -> fields.Schema:
    text = mixed_analyzer()   # English stemming + jieba for Chinese, phrase-safe positions
    return fields.Schema(
        doc=fields.ID(stored=True, unique=True),       # "p:<paper id>" or "s:<paper id>:<n>"
        kind=fields.ID(stored=True),                    # "paper" | "passage"
        path=fields.ID(stored=True),                    # source file, relative to the folder
        paper_id=fields.ID(stored=True),
        key=fields.ID(stored=True),
        # a Chinese run (one query "word", several tokens) must match all of its words
        title=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["title"], phrase=True,
                          multitoken_query="and"),
        authors=fields.TEXT(analyzer=mixed_analyzer(subwords=False), field_boost=FIELD_BOOSTS["authors"],
                            phrase=True),
        abstract=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["abstract"], multitoken_query="and"),
        body=fields.TEXT(analyzer=text, field_boost=FIELD_BOOSTS["body"], multitoken_query="and"),
        text=fields.STORED(),                           # the passage text, for snippets
        section=fields.STORED(),
        line_start=fields.STORED(),
        line_end=fields.STORED(),
        page=fields.STORED(),
        data=fields.STORED(),                           # paper docs: the full Paper as a dict
    )
