"""Read a Zotero library (``zotero.sqlite`` of a data folder) into paperlens records.

:func:`read_library` reads it whole; :func:`changes` re-reads only the items whose stamps
(``version``, ``dateModified``, ``clientDateModified``, of the item and of its child notes and
attachments, its trash flag and its collections) changed since a previous read, and reports
the items added, changed and removed (erased, trashed or out of the chosen collections).

Item types, fields and creator types are looked up by name (``itemTypesCombined``,
``fieldsCombined``, ``creatorTypes``): their ids differ between databases (Zotero gives them
in order of appearance, and old databases keep their historic ids). A type-specific field
counts as its base field too (``proceedingsTitle`` is a ``publicationTitle``,
``baseFieldMappingsCombined``). Zotero's own files are only copied (:mod:`.snapshot`).
Pure Python, standard library only.
"""
from __future__ import annotations

import html
import json
import logging
import os
import re
import sqlite3
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core.identity import norm_arxiv
from paperlens.core.keys import STOP_WORDS, base_key, unique_key
from paperlens.core.models import Paper
from paperlens.core.parse.common import paper_id
from paperlens.core.zotero.citekeys import KeyRecord, assign_keys, read_bbt_keys
from paperlens.core.zotero.snapshot import Snapshot, SnapshotError

log = logging.getLogger(__name__)

__all__ = ["ZoteroError", "Attachment", "ZoteroItem", "ZoteroLibrary", "ZoteroChanges",
           "read_library", "changes", "default_data_dir"]

SKIPPED_TYPES = {"note", "attachment", "annotation"}
USER_LIBRARY_TYPE = "user"
PDF = "application/pdf"
HTML = "text/html"
MAX_NOTE_CHARS = 200_000

ENTRY_TYPES = {"journalArticle": "article", "magazineArticle": "article", "newspaperArticle": "article",
               "conferencePaper": "inproceedings", "book": "book", "bookSection": "incollection",
               "thesis": "phdthesis", "report": "techreport", "manuscript": "unpublished",
               "preprint": "misc", "webpage": "online", "dataset": "dataset", "computerProgram": "software"}
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?(?:[?#]|$)", re.I)
_ARXIV_TEXT = re.compile(r"arxiv:\s*([a-z\-]+/\d{7}|\d{4}\.\d{4,5})(v\d+)?", re.I)
_DOI_TEXT = re.compile(r"^\s*DOI:\s*(10\.\S+)", re.I | re.M)


class ZoteroError(Exception):
    """The Zotero library cannot be read; the message says why, for the user."""


@dataclass
class Attachment:
    """A child file of an item. ``path`` is absolute ("" when Zotero's path cannot be used);
    ``stored`` when it is Zotero's own copy under ``storage/<key>/``."""

    key: str
    content_type: str
    link_mode: int
    path: str
    stored: bool

    @property
    def usable(self) -> bool:
        """A regular file paperlens may read: Zotero's own copy, present on disk."""
        if not (self.stored and self.path):
            return False
        try:
            return Path(self.path).is_file()
        except OSError:
            return False


@dataclass
class ZoteroItem:
    """One regular Zotero item: its :class:`Paper` plus what only Zotero has."""

    paper: Paper
    item_id: int
    item_key: str
    library_id: int
    item_type: str
    key_source: str                  # "zotero" (citationKey field) | "better-bibtex" | "generated"
    select_url: str                  # zotero://select/... : opens the item in Zotero
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)     # collection keys
    notes: list[str] = field(default_factory=list)           # child notes as plain text
    attachments: list[Attachment] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)     # every field, by name (and base name)
    date_added: str = ""
    date_modified: str = ""
    version: int = 0

    @property
    def key(self) -> str:
        return self.paper.key

    def full_text(self) -> Optional[Attachment]:
        """The attachment that is the item's full text: its first readable PDF, else HTML."""
        for wanted in (PDF, HTML):
            for att in self.attachments:
                if att.content_type == wanted and att.usable:
                    return att
        return None


@dataclass
class _Entry:
    """What :func:`changes` keeps of every top-level item between reads."""

    stamp: tuple
    record: KeyRecord
    trashed: bool


@dataclass
class ZoteroLibrary:
    """The items of a Zotero library (by item key) and what the next :func:`changes` needs."""

    data_dir: Path
    items: dict[str, ZoteroItem]
    collections: dict[str, "Collection"]
    selected: Optional[frozenset[str]]        # collection keys chosen (with subcollections)
    wanted: Optional[tuple[str, ...]] = None  # the ``collections`` argument as given
    warnings: list[str] = field(default_factory=list)
    _entries: dict[int, _Entry] = field(default_factory=dict, repr=False)
    _keys: dict[int, str] = field(default_factory=dict, repr=False)
    _bbt_stamp: Optional[tuple] = field(default=None, repr=False)
    _bbt: dict = field(default_factory=dict, repr=False)
    _stamps: Optional[dict] = field(default=None, repr=False)
    _marks: Optional[tuple] = field(default=None, repr=False)
    _key_last: Optional[tuple] = field(default=None, repr=False)
    _snapshot: Optional[Snapshot] = field(default=None, repr=False)

    def by_citation_key(self) -> dict[str, ZoteroItem]:
        return {item.key: item for item in self.items.values()}

    def close(self) -> None:
        """Delete the private copy of the database."""
        if self._snapshot is not None:
            self._snapshot.close()


@dataclass
class ZoteroChanges:
    added: list[ZoteroItem]
    changed: list[ZoteroItem]
    removed: list[ZoteroItem]                 # as they were before (their keys, ids, files)
    library: ZoteroLibrary

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass(frozen=True)
class Collection:
    key: str
    name: str
    parent: str                               # parent collection key, "" at the top
    path: str                                 # "Retrieval/Classics"


_PREF = re.compile(r'user_pref\("extensions\.zotero\.(dataDir|useDataDir)",\s*("(?:[^"\\]|\\.)*"|true|false)\);')


def _profile_data_dirs(home: Path) -> list[Path]:
    """Data folders chosen in Zotero's preferences (``extensions.zotero.dataDir`` with
    ``useDataDir`` in a profile's ``prefs.js``), newest profile first."""
    roots = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero" / "Profiles"]
    if os.environ.get("APPDATA"):
        roots.append(Path(os.environ["APPDATA"]) / "Zotero" / "Zotero" / "Profiles")
    found = []
    for root in roots:
        try:
            prefs = sorted(root.glob("*/prefs.js"), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            continue
        for pref in prefs:
            try:
                text = pref.read_text(encoding="utf-8", errors="replace")[:2_000_000]
            except OSError:
                continue
            values = {m.group(1): m.group(2) for m in _PREF.finditer(text)}
            if values.get("useDataDir") == "true" and values.get("dataDir", "").startswith('"'):
                found.append(Path(json.loads(values["dataDir"])))
    return found


def default_data_dir(home: Optional[Path] = None) -> Optional[Path]:
    """Where Zotero keeps its library when no folder is configured: the data folder chosen in
    Zotero's preferences, else ``~/Zotero`` -- the first that holds a ``zotero.sqlite``."""
    home = Path(home) if home is not None else Path(os.path.expanduser("~"))
    for candidate in _profile_data_dirs(home) + [home / "Zotero"]:
        if (candidate / "zotero.sqlite").is_file():
            return candidate
    return None


# --- text helpers ---------------------------------------------------------------------------

class _Text(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
              "ul", "ol", "table", "section", "article", "header", "footer", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of a note or snapshot: paragraphs on their own lines, scripts dropped."""
    parser = _Text()
    try:
        parser.feed(markup or "")
        parser.close()
    except Exception:                         # HTMLParser is lenient; never fail on a note
        return html.unescape(re.sub(r"<[^>]+>", " ", markup or ""))
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _year(date: str) -> str:
    m = re.match(r"(\d{4})-\d\d-\d\d", date or "")
    if m and m.group(1) != "0000":
        return m.group(1)
    m = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", date or "")
    return m.group(1) if m else ""


def _creator_name(first: str, last: str, mode: int) -> str:
    first, last = (first or "").strip(), (last or "").strip()
    if mode == 1 or not first:
        return last
    return f"{last}, {first}" if last else first


# --- reading ----------------------------------------------------------------------------------

class _Reader:
    """Queries on one open (read-only) connection to the copy."""

    def __init__(self, conn: sqlite3.Connection, data_dir: Path):
        self.conn = conn
        self.data_dir = data_dir
        q = conn.execute
        try:
            self.type_names = dict(q("SELECT itemTypeID, typeName FROM itemTypesCombined"))
            self.field_names = dict(q("SELECT fieldID, fieldName FROM fieldsCombined"))
            self.creator_types = dict(q("SELECT creatorTypeID, creatorType FROM creatorTypes"))
            self.base = {(t, f): self.field_names.get(b, "") for t, b, f in
                         q("SELECT itemTypeID, baseFieldID, fieldID FROM baseFieldMappingsCombined")}
            self.primary = {(t, c) for t, c in
                            q("SELECT itemTypeID, creatorTypeID FROM itemTypeCreatorTypes WHERE primaryField=1")}
            self.libraries = {lib: (typ, gid) for lib, typ, gid in q(
                "SELECT l.libraryID, l.type, g.groupID FROM libraries l "
                "LEFT JOIN groups g ON g.libraryID = l.libraryID")}
        except sqlite3.DatabaseError as exc:
            raise ZoteroError(f"not a Zotero database ({exc})") from exc

    def collections(self) -> dict[str, Collection]:
        rows = list(self.conn.execute("SELECT collectionID, key, collectionName, parentCollectionID "
                                      "FROM collections WHERE collectionID NOT IN "
                                      "(SELECT collectionID FROM deletedCollections)"))
        by_id = {cid: (key, name, parent) for cid, key, name, parent in rows}

        def path(cid: int, depth: int = 0) -> str:
            key, name, parent = by_id[cid]
            if parent in by_id and depth < 64:
                return path(parent, depth + 1) + "/" + name
            return name

        return {key: Collection(key, name, by_id[parent][0] if parent in by_id else "", path(cid))
                for cid, (key, name, parent) in by_id.items()}

    _STAMP_SQL = ("SELECT i.itemID, i.key, i.libraryID, i.itemTypeID, i.version, i.dateModified, "
                  "i.clientDateModified, i.dateAdded, COALESCE(n.parentItemID, a.parentItemID), "
                  "d.itemID IS NOT NULL FROM items i JOIN libraries l ON l.libraryID = i.libraryID "
                  "LEFT JOIN itemNotes n ON n.itemID = i.itemID "
                  "LEFT JOIN itemAttachments a ON a.itemID = i.itemID "
                  "LEFT JOIN deletedItems d ON d.itemID = i.itemID WHERE l.type != 'feed'")

    def marks(self) -> tuple:
        """What tells, cheaply, whether and where items changed: (count, max itemID, max
        dateModified, max clientDateModified) of items, the trash, and a checksum of the
        collection memberships."""
        q = self.conn.execute
        return (q("SELECT COUNT(*), MAX(itemID), MAX(dateModified), MAX(clientDateModified) FROM items").fetchone(),
                frozenset(r[0] for r in q("SELECT itemID FROM deletedItems")),
                q("SELECT COUNT(*), TOTAL(itemID * 1000003 + collectionID) FROM collectionItems").fetchone())

    def _assemble(self, rows, colls: dict[int, list[int]], only: Optional[set] = None) -> dict[int, tuple]:
        top: dict[int, list] = {}
        kids: dict[int, list] = {}
        for iid, key, lib, tid, ver, mod, cmod, added, parent, trashed in rows:
            tname = self.type_names.get(tid, "")
            if parent is not None:
                kids.setdefault(parent, []).append((iid, ver, mod, cmod, trashed))
            elif tname not in SKIPPED_TYPES and (only is None or iid in only):
                top[iid] = [key, lib, tname, added, bool(trashed), (ver, mod, cmod)]
        out = {}
        for iid, (key, lib, tname, added, trashed, own) in top.items():
            stamp = (own, trashed, tuple(sorted(kids.get(iid, ()))), tuple(sorted(colls.get(iid, ()))))
            out[iid] = (stamp, key, lib, tname, added, trashed)
        return out

    def _memberships(self, ids: Optional[list[int]] = None) -> dict[int, list[int]]:
        where, args = self._ids_clause(ids, "itemID")
        colls: dict[int, list[int]] = {}
        for cid, iid in self.conn.execute(f"SELECT collectionID, itemID FROM collectionItems{where}", args):
            colls.setdefault(iid, []).append(cid)
        return colls

    def stamps(self) -> dict[int, tuple]:
        """Top-level items of user and group libraries (not feeds): itemID -> (stamp, key,
        libraryID, type, dateAdded, trashed), the stamp being (version and dates, trashed,
        the children's stamps, collections): a child's change is its parent's."""
        return self._assemble(self.conn.execute(self._STAMP_SQL), self._memberships())

    def stamps_since(self, previous: dict[int, tuple], old_marks: tuple, marks: tuple) -> Optional[dict]:
        """:meth:`stamps` from ``previous`` (read at ``old_marks``), reading only the rows
        written since: items added (a larger itemID), modified (dates at or after the latest
        seen: Zotero stamps every save), trashed or restored, and their parents; None when an
        item was erased (the caller reads them all)."""
        (count0, max_id0, dm0, cdm0), trash0, coll0 = old_marks
        (count, _max_id, _dm, _cdm), trash, coll = marks
        flipped = sorted(trash ^ trash0)
        rows = list(self.conn.execute(
            self._STAMP_SQL + " AND (i.itemID > ? OR i.dateModified >= ? OR i.clientDateModified >= ? "
            "OR i.itemID IN (SELECT value FROM json_each(?)))",
            (max_id0 or 0, dm0 or "", cdm0 or "", json.dumps(flipped))))
        if count != count0 + sum(1 for r in rows if r[0] > (max_id0 or 0)):
            return None
        parent_of = {kid[0]: parent for parent, st in previous.items() for kid in st[0][2]}
        targets: set[int] = set()
        for row in rows:
            iid, parent = row[0], row[8]
            if parent is not None:
                targets.add(parent)
                if iid in parent_of:
                    targets.add(parent_of[iid])      # moved to another parent: the old one too
            else:
                targets.add(iid)
        colls_all = None
        if coll != coll0:
            colls_all = self._memberships()
            targets.update(iid for iid, st in previous.items()
                           if st[0][3] != tuple(sorted(colls_all.get(iid, ()))))
        if not targets:
            return dict(previous)
        ids = sorted(targets)
        kid_ids = [r[0] for r in self.conn.execute(
            "SELECT itemID FROM itemNotes WHERE parentItemID IN (SELECT value FROM json_each(?)) UNION "
            "SELECT itemID FROM itemAttachments WHERE parentItemID IN (SELECT value FROM json_each(?))",
            (json.dumps(ids), json.dumps(ids)))]
        fresh_rows = self.conn.execute(self._STAMP_SQL + " AND i.itemID IN (SELECT value FROM json_each(?))",
                                       (json.dumps(ids + kid_ids),))
        colls = colls_all if colls_all is not None else self._memberships(ids)
        out = dict(previous)
        for iid in ids:
            out.pop(iid, None)
        out.update(self._assemble(fresh_rows, colls, only=targets))
        return out

    def _ids_clause(self, ids: Optional[list[int]], column: str) -> tuple[str, tuple]:
        if ids is None:
            return "", ()
        return f" WHERE {column} IN (SELECT value FROM json_each(?))", (json.dumps(ids),)

    def load(self, ids: Optional[list[int]]) -> dict[int, dict]:
        """Fields, creators, tags, collections, notes and attachments of items ``ids`` (all
        top-level items when None)."""
        raw: dict[int, dict] = {}

        def rec(iid: int) -> dict:
            r = raw.get(iid)
            if r is None:
                r = raw[iid] = {"fields": {}, "creators": [], "tags": [], "collections": [],
                                "notes": [], "attachments": []}
            return r

        where, args = self._ids_clause(ids, "i.itemID")
        types = {iid: tid for iid, tid in self.conn.execute(f"SELECT i.itemID, i.itemTypeID FROM items i{where}", args)}
        where, args = self._ids_clause(ids, "d.itemID")
        for iid, fid, value in self.conn.execute(
                f"SELECT d.itemID, d.fieldID, v.value FROM itemData d JOIN itemDataValues v "
                f"ON v.valueID = d.valueID{where}", args):
            name = self.field_names.get(fid)
            if name is None or iid not in types:
                continue
            fields = rec(iid)["fields"]
            value = "" if value is None else str(value)
            fields[name] = value
            base = self.base.get((types[iid], fid))
            if base:
                fields.setdefault(base, value)
        where, args = self._ids_clause(ids, "ic.itemID")
        for iid, first, last, mode, ctype, _order in self.conn.execute(
                f"SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ic.creatorTypeID, ic.orderIndex "
                f"FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID{where} "
                f"ORDER BY ic.itemID, ic.orderIndex", args):
            rec(iid)["creators"].append((_creator_name(first, last, mode), ctype))
        where, args = self._ids_clause(ids, "it.itemID")
        for iid, name in self.conn.execute(f"SELECT it.itemID, t.name FROM itemTags it JOIN tags t "
                                           f"ON t.tagID = it.tagID{where} ORDER BY t.name", args):
            rec(iid)["tags"].append(name)
        where, args = self._ids_clause(ids, "n.parentItemID")
        clause = (where + " AND" if where else " WHERE") + " n.itemID NOT IN (SELECT itemID FROM deletedItems)"
        for parent, note in self.conn.execute(f"SELECT n.parentItemID, n.note FROM itemNotes n{clause} "
                                              f"AND n.parentItemID IS NOT NULL ORDER BY n.itemID", args):
            text = html_to_text((note or "")[:MAX_NOTE_CHARS])
            if text:
                rec(parent)["notes"].append(text)
        where, args = self._ids_clause(ids, "a.parentItemID")
        clause = (where + " AND" if where else " WHERE") + " a.itemID NOT IN (SELECT itemID FROM deletedItems)"
        for parent, key, mode, ctype, path in self.conn.execute(
                f"SELECT a.parentItemID, i.key, a.linkMode, a.contentType, a.path FROM itemAttachments a "
                f"JOIN items i ON i.itemID = a.itemID{clause} AND a.parentItemID IS NOT NULL "
                f"ORDER BY a.itemID", args):
            rec(parent)["attachments"].append(self._attachment(key, mode, ctype or "", path or ""))
        return raw

    def _attachment(self, key: str, mode: int, ctype: str, path: str) -> Attachment:
        """Link modes: 0 imported file, 1 imported URL (snapshot), 2 linked file, 3 linked URL;
        stored files are ``storage:<name>`` under ``storage/<attachment key>/``."""
        if path.startswith("storage:") and re.fullmatch(r"[A-Z0-9]{8}", key or ""):
            name = path[len("storage:"):]
            root = (self.data_dir / "storage").resolve()
            full = (self.data_dir / "storage" / key / name).resolve()    # symlinks followed
            if name and full.parent == root / key:
                return Attachment(key, ctype, mode, str(full), True)
            return Attachment(key, ctype, mode, "", True)
        if mode == 2 and os.path.isabs(path):
            return Attachment(key, ctype, mode, path, False)
        return Attachment(key, ctype, mode, "", False)

    def select_url(self, library_id: int, item_key: str) -> str:
        typ, group = self.libraries.get(library_id, (USER_LIBRARY_TYPE, None))
        if typ == "group" and group is not None:
            return f"zotero://select/groups/{group}/items/{item_key}"
        return f"zotero://select/library/items/{item_key}"


def _paper(raw: dict, reader: _Reader, source: str, item_key: str, library_id: int, type_id_name: str,
           citation_key: str, generated: bool) -> Paper:
    f = raw["fields"]
    creators = raw["creators"]
    named = reader.creator_types
    authors = [n for n, c in creators if named.get(c) == "author"]
    if not authors:
        type_ids = {v: k for k, v in reader.type_names.items()}
        tid = type_ids.get(type_id_name)
        authors = [n for n, c in creators if (tid, c) in reader.primary]
    if not authors:
        authors = [n for n, c in creators if named.get(c) == "editor"]
    venue = (f.get("publicationTitle") or f.get("conferenceName") or f.get("bookTitle")
             or (f.get("publisher") if type_id_name in ("book", "thesis", "report") else "") or "")
    doi = f.get("DOI", "")
    extra = f.get("extra", "")
    if not doi and (m := _DOI_TEXT.search(extra)):
        doi = m.group(1)
    arxiv = ""
    for text in (f.get("archiveID", ""), extra):
        if m := _ARXIV_TEXT.search(text):
            arxiv = norm_arxiv(m.group(1))
            break
    if not arxiv and (m := _ARXIV_URL.search(f.get("url", ""))):
        arxiv = norm_arxiv(m.group(1))
    return Paper(id=paper_id(source, f"{library_id}/{item_key}"), key=citation_key,
                 title=f.get("title", ""), authors=authors, year=_year(f.get("date", "")),
                 venue=venue, abstract=f.get("abstractNote", ""), doi=doi, arxiv=arxiv,
                 url=f.get("url", ""), entry_type=ENTRY_TYPES.get(type_id_name, "misc"),
                 source=source, source_kind="zotero", key_generated=generated)


_KEY_WORD = re.compile(r"[A-Za-z\u00C0-\u024F0-9]+")     # keys.base_key's title words


def _base_key(paper: Paper) -> str:
    """keys.base_key, on the first words of the title only when they hold the two words it
    can use (it slugs every word of the title: most of a 25k-item first read)."""
    words = _KEY_WORD.findall(paper.title)
    if len(words) > 6:
        head = words[:6]
        plain = [w for w in head if w.isascii() and w.lower() not in STOP_WORDS]
        if len(plain) >= 2:
            return base_key(replace(paper, title=" ".join(head), references=[]))
    return base_key(paper)


def _selected(collections: dict[str, Collection], wanted: Optional[Iterable[str]]) -> Optional[frozenset[str]]:
    """Keys of the collections named in ``wanted`` (by key, name or path) and of all their
    subcollections; None for the whole library."""
    if wanted is None:
        return None
    wanted = [w.strip().strip("/") for w in wanted if w and w.strip()]
    chosen = {c.key for c in collections.values()
              if c.key in wanted or c.name in wanted or c.path in wanted}
    children: dict[str, list[str]] = {}
    for c in collections.values():
        children.setdefault(c.parent, []).append(c.key)
    todo, out = list(chosen), set()
    while todo:
        key = todo.pop()
        if key not in out:
            out.add(key)
            todo.extend(children.get(key, ()))
    return frozenset(out)


def _open(data_dir: Path, snapshot: Optional[Snapshot],
          workdir: Optional[Path] = None) -> tuple[Snapshot, sqlite3.Connection]:
    db = data_dir / "zotero.sqlite"
    if not db.is_file():
        raise ZoteroError(f"no Zotero database in {data_dir} (zotero.sqlite not found)")
    snap = snapshot if snapshot is not None else Snapshot(db, "zotero.sqlite", workdir)
    try:
        return snap, snap.connect()
    except SnapshotError as exc:
        raise ZoteroError(str(exc)) from exc


def read_library(data_dir, collections: Optional[Iterable[str]] = None,
                 workdir: Optional[Path] = None) -> ZoteroLibrary:
    """Every regular item of the Zotero library in ``data_dir`` (trash excluded; only the
    items of ``collections`` -- keys, names or paths like ``Retrieval/Classics`` -- and their
    subcollections when given), from a private copy made in ``workdir`` (default: a temporary
    folder). The copy is kept for :func:`changes` until :meth:`ZoteroLibrary.close`."""
    data_dir = Path(data_dir).expanduser().resolve()
    snap, conn = _open(data_dir, None, workdir)
    try:
        lib = ZoteroLibrary(data_dir=data_dir, items={}, collections={}, selected=None,
                            wanted=tuple(collections) if collections is not None else None,
                            _snapshot=snap)
        _refresh(lib, conn, full=True)
        return lib
    finally:
        conn.close()


def changes(previous: ZoteroLibrary, data_dir=None) -> ZoteroChanges:
    """What changed in the library since ``previous`` was read: items added, changed and
    removed (erased, trashed, or moved out of the chosen collections). Only the items whose
    stamps changed are read again; ``.library`` is the new state. ``previous`` is left as is
    but shares its private copy with the new state: close only the newest."""
    data_dir = Path(data_dir).expanduser().resolve() if data_dir is not None else previous.data_dir
    same = data_dir == previous.data_dir and previous._snapshot is not None
    if same and previous._snapshot.unchanged() and _bbt_stamp(data_dir) == previous._bbt_stamp:
        return ZoteroChanges([], [], [], previous)          # nothing written since: a few stats
    snap, conn = _open(data_dir, previous._snapshot if same else None)
    try:
        lib = replace(previous, data_dir=data_dir, items=dict(previous.items), warnings=[],
                      _entries=dict(previous._entries), _keys=dict(previous._keys), _snapshot=snap)
        return _refresh(lib, conn, full=False, before=previous.items)
    finally:
        conn.close()


def _bbt_stamp(data_dir: Path) -> tuple:
    out = []
    for p in (data_dir / "better-bibtex.sqlite", data_dir / "better-bibtex.sqlite-wal"):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def _bbt_keys(data_dir: Path, lib: ZoteroLibrary) -> tuple[Optional[tuple], Optional[dict]]:
    """Better BibTeX's keys when its database changed since ``lib`` read it (else None)."""
    path = data_dir / "better-bibtex.sqlite"
    stamp = _bbt_stamp(data_dir)
    if stamp == lib._bbt_stamp:
        return stamp, None
    if stamp[0] is None:
        return stamp, {}
    try:
        return stamp, read_bbt_keys(path)
    except Exception as exc:
        lib.warnings.append(f"Better BibTeX keys not read: {exc}")
        return stamp, {}


def _refresh(lib: ZoteroLibrary, conn: sqlite3.Connection, full: bool,
             before: Optional[dict[str, ZoteroItem]] = None) -> ZoteroChanges:
    reader = _Reader(conn, lib.data_dir)
    source = str(lib.data_dir / "zotero.sqlite")
    prev_selected, prev_stamps, prev_keys = lib.selected, lib._stamps or {}, lib._keys
    lib.collections = reader.collections()
    lib.selected = _selected(lib.collections, lib.wanted)
    coll_keys = {}
    for cid, key in conn.execute("SELECT collectionID, key FROM collections"):
        coll_keys[cid] = key
    marks = reader.marks()
    stamps = None
    if not full and lib._stamps is not None and lib._marks is not None:
        stamps = reader.stamps_since(lib._stamps, lib._marks, marks)
    if stamps is None:
        stamps = reader.stamps()
    lib._stamps, lib._marks = stamps, marks
    bbt_stamp, bbt_by_item = _bbt_keys(lib.data_dir, lib)     # None: unchanged since last read
    lib._bbt_stamp = bbt_stamp
    bbt_changed = bbt_by_item is not None and bbt_by_item != lib._bbt
    if bbt_by_item is not None:
        lib._bbt = bbt_by_item

    gone = [iid for iid in lib._entries if iid not in stamps]
    dirty = [iid for iid, s in stamps.items() if full or iid not in lib._entries
             or lib._entries[iid].stamp != s[0]]
    raw = reader.load(None if full else dirty) if dirty else {}
    old_records = {}
    for iid in gone:
        del lib._entries[iid]
    fresh: dict[int, tuple[dict, Paper]] = {}
    for iid in dirty:
        stamp, key, libid, tname, added, trashed = stamps[iid]
        r = raw.get(iid) or {"fields": {}, "creators": [], "tags": [], "collections": [],
                             "notes": [], "attachments": []}
        draft = _paper(r, reader, source, key, libid, tname, "", False)
        record = KeyRecord(item_id=iid, library_id=libid, item_key=key, date_added=added,
                           base=_base_key(draft), explicit=r["fields"].get("citationKey", "").strip(),
                           bbt=lib._bbt.get((libid, key), ""))
        if iid in lib._entries:
            old_records[iid] = lib._entries[iid].record
        lib._entries[iid] = _Entry(stamp, record, trashed)
        fresh[iid] = (r, draft)

    keys = None
    if not full and not gone and not bbt_changed and prev_keys:
        keys = _keys_incremental(lib, dirty, old_records)
    if keys is None:
        records = []
        for iid, entry in lib._entries.items():
            rec = entry.record
            bbt = lib._bbt.get((rec.library_id, rec.item_key), "")
            if bbt != rec.bbt:
                rec = replace(rec, bbt=bbt)
                lib._entries[iid] = _Entry(entry.stamp, rec, entry.trashed)   # previous keeps its own
            records.append(rec)
        keys = assign_keys(records)
        lib._key_last = max((_order(r) for r in records if not (r.explicit or r.bbt)), default=None)
    lib._keys = keys

    if full or lib.selected != prev_selected or before is None:
        new_items: dict[str, ZoteroItem] = {}
        by_id = {item.item_id: item for item in lib.items.values()}
        affected: Iterable[int] = list(lib._entries)
    else:
        new_items = dict(lib.items)
        affected = set(dirty) | {iid for iid, k in keys.items() if prev_keys.get(iid) != k}
        by_id = {}
        for iid in list(affected) + gone:
            st = prev_stamps.get(iid)
            old = new_items.get(st[1]) if st else None
            if old is not None and old.item_id == iid:
                by_id[iid] = old
                del new_items[st[1]]
    for iid in affected:
        entry = lib._entries[iid]
        if entry.trashed:
            continue
        stamp, key, libid, tname, added, trashed = stamps[iid]
        if lib.selected is not None and not {coll_keys.get(c) for c in stamp[3]} & lib.selected:
            continue
        old = by_id.get(iid)
        if iid in fresh or old is None:
            r, draft = fresh.get(iid) or (None, None)
            if r is None:                       # newly selected by a collection change: read it
                r = reader.load([iid]).get(iid) or {"fields": {}, "creators": [], "tags": [],
                                                    "collections": [], "notes": [], "attachments": []}
                draft = _paper(r, reader, source, key, libid, tname, "", False)
            item = _item(r, draft, reader, iid, key, libid, tname, stamp, coll_keys, added)
        else:
            item = old
        citekey, how = keys[iid], entry.record.source(keys[iid])
        if item.paper.key != citekey or item.key_source != how:
            if item is old:
                item = replace(old, paper=replace(old.paper))
            item.paper.key = citekey
            item.key_source = how
            item.paper.key_generated = how == "generated"
        new_items[key] = item
    old_items = before if before is not None else {}
    added_items = [it for k, it in new_items.items() if k not in old_items]
    changed = [it for k, it in new_items.items() if k in old_items and old_items[k] is not it]
    removed = [it for k, it in old_items.items() if k not in new_items]
    lib.items = new_items
    return ZoteroChanges(added_items, changed, removed, lib)


def _order(r: KeyRecord) -> tuple:
    return (r.date_added or "", r.library_id, r.item_key)


def _keys_incremental(lib: ZoteroLibrary, dirty: list[int], old_records: dict) -> Optional[dict[int, str]]:
    """The keys :func:`assign_keys` would give, from the previous ones, when the only change
    is items added after every item with a generated key (the usual new item) and edits that
    leave every key's inputs as they were; None otherwise (the caller assigns them all)."""
    news = []
    for iid in dirty:
        rec = lib._entries[iid].record
        old = old_records.get(iid)
        if old is None:
            news.append(rec)
        elif old != rec:
            return None
    if not news:
        return lib._keys
    keys = dict(lib._keys)
    taken = set(keys.values())
    last = lib._key_last
    for rec in news:                         # explicit keys first, as assign_keys takes them
        key = rec.explicit or rec.bbt
        if key:
            if key in taken:
                return None
            keys[rec.item_id] = key
            taken.add(key)
    for rec in sorted((r for r in news if not (r.explicit or r.bbt)), key=_order):
        if last is not None and _order(rec) <= last:
            return None
        keys[rec.item_id] = unique_key(rec.base, taken)
        taken.add(keys[rec.item_id])
        last = _order(rec)
    lib._key_last = last
    return keys


def _item(r: dict, draft: Paper, reader: _Reader, iid: int, key: str, libid: int, tname: str,
          stamp: tuple, coll_keys: dict, added: str) -> ZoteroItem:
    item = ZoteroItem(paper=draft, item_id=iid, item_key=key, library_id=libid, item_type=tname,
                      key_source="", select_url=reader.select_url(libid, key), tags=list(r["tags"]),
                      collections=[coll_keys[c] for c in stamp[3] if c in coll_keys],
                      notes=list(r["notes"]), attachments=list(r["attachments"]), fields=dict(r["fields"]),
                      date_added=added, date_modified=stamp[0][1] or "", version=stamp[0][0] or 0)
    text = item.full_text()
    if text is not None:
        draft.file = text.path
    return item
