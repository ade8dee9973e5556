"""The index of each paper folder.

- ``base.py``: ``SearchIndex``, what an index offers (everything else uses only this), and the
  shapes it answers with (``IndexReport``, ``SearchHit``);
- ``search.py``: search across folders (query limits, merging);
- ``table.py``: the paper table (completion, key lookup); ``workers.py``: parser processes;
  ``segmentation.py``: Chinese word segmentation; ``version.py``: the index format;
- ``whoosh/``: the implementation of ``SearchIndex`` in Whoosh, the only code that imports it.

``open_index`` makes the index of a folder.
"""


def open_index(folder, index_dir, workers=None):
    """The index of ``folder`` kept in ``index_dir`` (a ``base.SearchIndex``)."""
    from paperlens.core.index.whoosh import open_index as open_whoosh

    return open_whoosh(folder, index_dir, workers=workers)
