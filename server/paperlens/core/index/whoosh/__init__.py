"""The Whoosh implementation of :class:`~paperlens.core.index.base.SearchIndex`.

Only this package imports ``whoosh``. Its modules:

- ``store.py``: ``IndexStore``, the index of one paper folder (the files it owns, updates,
  reads);
- ``schema.py`` and ``analysis.py``: the documents and fields, the Chinese/English analyzer;
- ``storage.py``, ``writing.py``: Whoosh extended for paperlens, never patched: a storage that
  reads segments with ``os.pread``, only the bytes asked for (never mapped, never copied whole), a writer and codec that write the same
  segments with less work per posting. They are passed to Whoosh explicitly;
- ``fast.py``: bounded-work ranking of plain queries (with a side file per large segment);
- ``queries.py``: queries with syntax, through Whoosh's parser, within limits.

Whoosh's internals change between releases and paperlens extends some of them, so the exact
release is required (``require``): another one makes the index unavailable with a message that
says what to do, instead of failing somewhere deep inside a search.
"""
from __future__ import annotations

REQUIRED_VERSION = "2.7.5"      # whoosh-reloaded; pinned in pyproject.toml
_checked = ""                   # the version found, once it was checked and is the right one


def require() -> None:
    """Raise IndexUnavailable unless the installed whoosh-reloaded is ``REQUIRED_VERSION``
    (checked once per process)."""
    global _checked
    if _checked:
        return
    from importlib import metadata

    from paperlens.core.index.base import IndexUnavailable

    try:
        found = metadata.version("whoosh-reloaded")
    except metadata.PackageNotFoundError:
        found = "none"
    if found != REQUIRED_VERSION:
        raise IndexUnavailable(f"paperlens needs whoosh-reloaded {REQUIRED_VERSION}, found {found}: "
                               "reinstall paperlens")
    _checked = found


def open_index(folder, index_dir, workers=None):
    """The Whoosh index of ``folder``, kept in ``index_dir`` (nothing is read from Whoosh's
    files until they are needed: the paper table answers first)."""
    from paperlens.core.index.whoosh.store import IndexStore

    return IndexStore(folder, index_dir, workers=workers)
