"""The PostgreSQL implementation of :class:`~paperlens.core.index.base.SearchIndex` (issue 19):
a team's library in one database, searched by every member's editor.

- ``store.py``: ``PostgresIndex`` (updates under an advisory lock, one transaction per change
  set, NOTIFY on commit; reads; search with ``websearch_to_tsquery``/``ts_rank``/``ts_headline``);
- ``schema.py``: the tables, their weighted ``tsvector`` and GIN index;
- ``text.py``: Chinese segmented with jieba on both sides, queries, snippets.

psycopg (the optional extra ``postgres``) is imported only when a database is used.
"""
from __future__ import annotations


def open_index(folder, url, index_dir=None, schema="paperlens", workers=None):
    """The index of ``folder`` kept in the database at ``url`` (a ``postgresql://`` URL; its
    password, if any, is never logged)."""
    from paperlens.core.index.postgres.store import PostgresIndex

    return PostgresIndex(folder, url, index_dir=index_dir, schema=schema, workers=workers)
