"""The Zotero library, read live from Zotero's data folder (issue 18). Pure Python.

:func:`read_library` reads ``zotero.sqlite`` (from a private copy, with its WAL: Zotero holds
the file with an exclusive lock) into :class:`ZoteroItem` records carrying paperlens
:class:`~paperlens.core.models.Paper` records; :func:`changes` brings a read up to date,
reading only the items that changed."""
from paperlens.core.zotero.reader import (Attachment, Collection, ZoteroChanges, ZoteroError,
                                          ZoteroItem, ZoteroLibrary, changes, default_data_dir,
                                          html_to_text, read_library)

__all__ = ["Attachment", "Collection", "ZoteroChanges", "ZoteroError", "ZoteroItem",
           "ZoteroLibrary", "changes", "default_data_dir", "html_to_text", "read_library"]
