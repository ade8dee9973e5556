"""The index of each paper folder.

- ``base.py``: ``SearchIndex``, what an index offers (everything else uses only this), and the
  shapes it answers with (``IndexReport``, ``SearchHit``);
- ``search.py``: search across folders (query limits, merging);
- ``table.py``: the paper table (completion, key lookup); ``workers.py``: parser processes;
  ``segmentation.py``: Chinese word segmentation; ``version.py``: the index format;
- ``whoosh/``: the implementation of ``SearchIndex`` in Whoosh, the only code that imports it;
- ``postgres/``: the implementation in a PostgreSQL database (a library shared by a team).

``open_index`` makes the index of a folder.
"""


def open_index(folder, index_dir, workers=None, backend=None, schema=None):
    """The index of ``folder`` (a ``base.SearchIndex``): kept in ``index_dir`` by Whoosh, or,
    when ``backend`` is a ``postgresql://`` URL (the setting ``paperlens.index.backend``), in
    that database, in the tables of ``schema`` (``index_dir`` then holds only the local text
    views of PDFs)."""
    if backend and backend != "whoosh":
        from paperlens.core.index.postgres import open_index as open_postgres

        return open_postgres(folder, backend, index_dir=index_dir, workers=workers,
                             **({"schema": schema} if schema else {}))
    from paperlens.core.index.whoosh import open_index as open_whoosh

    return open_whoosh(folder, index_dir, workers=workers)
