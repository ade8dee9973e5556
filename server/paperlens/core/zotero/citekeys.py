"""Citation keys of Zotero items: Zotero 7's ``citationKey`` field, else Better BibTeX's
database, else the key paperlens generates for a paper without one (:mod:`paperlens.core.keys`).

Generated keys are unique in the library and stable: items are given their keys in the order
they were added to Zotero (``dateAdded``, then library and item key), after every explicit key
is taken, so a new item (added last) never changes the key of an older one, and a restart
gives the same keys. Trashed items keep their key reserved (the trash can be undone)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from paperlens.core.keys import unique_key
from paperlens.core.zotero.snapshot import Snapshot


@dataclass(frozen=True)
class KeyRecord:
    item_id: int
    library_id: int
    item_key: str
    date_added: str
    base: str                  # the generated key's stem (keys.base_key)
    explicit: str = ""         # the item's citationKey field
    bbt: str = ""              # Better BibTeX's key

    def source(self, key: str) -> str:
        if self.explicit and key == self.explicit:
            return "zotero"
        if self.bbt and key == self.bbt:
            return "better-bibtex"
        return "generated"


def assign_keys(records) -> dict[int, str]:
    """itemID -> citation key for every record (see the module's docstring)."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    pending = []
    for r in records:
        key = r.explicit or r.bbt
        if key:
            out[r.item_id] = key
            taken.add(key)
        else:
            pending.append(r)
    pending.sort(key=lambda r: (r.date_added or "", r.library_id, r.item_key))
    for r in pending:
        key = unique_key(r.base, taken)
        out[r.item_id] = key
        taken.add(key)
    return out


def read_bbt_keys(path: Path) -> dict[tuple[int, str], str]:
    """``(libraryID, itemKey) -> citationKey`` from Better BibTeX's ``better-bibtex.sqlite``
    (its ``citationkey`` table), read from a private copy as Zotero holds that file too."""
    snap = Snapshot(Path(path), "better-bibtex.sqlite")
    try:
        conn = snap.connect()
        try:
            rows = conn.execute("SELECT libraryID, itemKey, citationKey FROM citationkey").fetchall()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{Path(path).name} has no citationkey table ({exc})") from exc
        finally:
            conn.close()
    finally:
        snap.close()
    return {(int(lib), str(key)): str(cite).strip() for lib, key, cite in rows
            if key and cite and str(cite).strip()}
