"""What the features read of the library: :class:`LibraryView`, and :class:`LocalView`, the view
of a :class:`~paperlens.core.library.Library` in this process (the language server's view adds
its state to it: the indexing flag, the PDF text views, the citation graph's build lane).

Rows are the library's table rows (``core.index.table.Row``: id, key, title, surnames, year,
venue, source, source_line, source_kind, file, doi, arxiv, alias_of, fulltext)."""
from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Sequence

from paperlens.core.cards import CardSummary, card_summary
from paperlens.core.lru import LRU
from paperlens.core.models import CitationKey, Paper, Reference
from paperlens.core.project import Project

if TYPE_CHECKING:
    from paperlens.core.drafts import DraftIndex
    from paperlens.core.index.base import SearchHit
    from paperlens.core.index.table import Row
    from paperlens.core.graph import CitationGraph
    from paperlens.core.library import Library

log = logging.getLogger(__name__)


class LibraryView(Protocol):
    """Exactly what the features read of the library and of the user's drafts."""

    # -- state -----------------------------------------------------------------------------
    def indexing(self) -> bool:
        """An index update is running (what is known may be incomplete)."""

    def ready(self) -> bool:
        """The library was indexed at least once and holds papers: a key it does not know
        is unknown (before that, no false alarms)."""

    # -- keys and rows -----------------------------------------------------------------------
    def resolve(self, key: str, bib_files: Sequence[str] = ()) -> Optional["Row"]:
        """The paper a key names (the entry of the first of ``bib_files`` defining it first)."""

    def closest_keys(self, key: str) -> list[str]:
        """Keys that look like a mistyped ``key``, best first."""

    def keys(self) -> frozenset[str]:
        ...

    def complete(self, query: str, limit: int) -> tuple[list["Row"], int]:
        """Rows matching what was typed, best first, and how many matched."""

    def rows(self) -> list["Row"]:
        ...

    def row(self, paper_id: str) -> Optional["Row"]:
        ...

    def entry(self, source: str, paper_id: str) -> Optional["Row"]:
        """The row ``paper_id`` of the index holding the file ``source``."""

    def canonical(self, row: "Row") -> "Row":
        """A paper text merged into a bibliography entry stands for that entry."""

    def row_for_file(self, path: str) -> Optional["Row"]:
        """The library paper whose full text is the file ``path``."""

    # -- cards -------------------------------------------------------------------------------
    def paper(self, row: "Row") -> Paper:
        """The paper's record, with its abstract."""

    def summary(self, row: "Row") -> Optional[CardSummary]:
        """The paper's summary as its card shows it (at once: cached or extractive), or None."""

    def summary_inputs(self, row: "Row") -> Optional[tuple]:
        """(text paper, its passages, content hash) of the paper's text, or None without one
        (what its summary and the evidence beneath its card read)."""

    def graph(self, wait: bool = False) -> Optional["CitationGraph"]:
        """The library's citation graph; without ``wait`` None while it is being built (its
        build is started)."""

    def item_link(self, row: "Row") -> str:
        """Where a paper without a file of its own opens (``zotero://select/...`` for a Zotero
        item without a PDF), "" for any other."""

    # -- reading inside papers ---------------------------------------------------------------
    def paper_file(self, path: str) -> str:
        """The paper file a document is the text of (a PDF's text view -> the PDF)."""

    def view_line(self, path: str, line: int) -> int:
        """A line of a paper's text -> that line in the document at ``path`` (a PDF's text
        view adds page markers)."""

    def references_of(self, row: "Row") -> list[Reference]:
        """The reference list of a paper text."""

    def reference_lists(self, rows: Sequence["Row"]) -> list[list[Reference]]:
        """The reference lists of several paper texts, in order."""

    def match_reference(self, ref: Reference, citing: Optional["Row"] = None) -> Optional["Row"]:
        """The library paper a reference entry cites (never ``citing`` itself)."""

    def text_view_dir(self, path: str) -> Optional[Path]:
        """Where the text views of the PDF ``path`` are written (None: not in the library)."""

    # -- search and drafts -------------------------------------------------------------------
    def search(self, query: str, limit: int, per_paper: int = 2) -> list["SearchHit"]:
        ...

    def draft_citations(self) -> dict[str, tuple[str, list[CitationKey]]]:
        """{path: (text, keys)} of the user's drafts that cite something (open ones as the
        editor has them)."""

    def bibliographies(self) -> dict[str, list[str]]:
        """{document: its .bib files in order} of the user's drafts."""


class PaperCache:
    """The papers and summary inputs cards were made of, for one library as it is now (a
    change of any of its indexes empties it): a hover on the same key again reads nothing."""

    SIZE = 256      # two entries a paper (its record, its text): a draft's ~100 cited papers stay

    def __init__(self) -> None:
        self._lock = threading.Lock()          # the library and stamp, with the items they hold
        self._library: Optional[weakref.ref] = None
        self._stamp: Any = None
        self._items: LRU[tuple, Any] = LRU(self.SIZE)

    def get(self, library: "Library", key: tuple, make: Callable[[], Any]) -> Any:
        stamp = tuple(getattr(s, "stamp", None) for s in library.stores)
        with self._lock:
            if self._library is None or self._library() is not library or self._stamp != stamp:
                self._items.clear()
                self._library, self._stamp = weakref.ref(library), stamp
            held = self._items.get(key, _NONE)          # (None is kept: a paper without a full text)
            if held is not _NONE:
                return held
        value = make()
        with self._lock:
            if self._stamp == stamp and self._library() is library:
                self._items.put(key, value)
        return value


_NONE = object()


class LocalView:
    """The :class:`LibraryView` of a library in this process.

    ``summaries``: a SummaryService (cards show the abstract without one); ``drafts``: the
    user's drafts (find references and duplicate keys read them); ``open_documents``: {path:
    text} of the editor's documents (they win over the files); ``text_views``: {text view
    file: (the PDF, line of each of its text lines)}; ``cache``: keeps cards' papers between
    requests."""

    def __init__(self, library: "Library", *, summaries=None, drafts: Optional["DraftIndex"] = None,
                 open_documents: Optional[dict[str, str]] = None, indexing: bool = False,
                 indexed: bool = True, text_views: Optional[dict[str, tuple[str, list[int]]]] = None,
                 cache: Optional[PaperCache] = None) -> None:
        self.library = library
        self._summaries, self._drafts = summaries, drafts
        self._documents = open_documents if open_documents is not None else {}
        self._indexing, self._indexed = indexing, indexed
        self.text_views = text_views if text_views is not None else {}
        self.cache = cache

    def summary_service(self):
        return self._summaries

    def draft_index(self) -> Optional["DraftIndex"]:
        return self._drafts

    def documents(self) -> dict[str, str]:
        return self._documents

    # -- state -----------------------------------------------------------------------------
    def indexing(self) -> bool:
        return self._indexing

    def indexed(self) -> bool:
        """The library was indexed at least once (what its tables hold is what there is)."""
        return self._indexed

    def ready(self) -> bool:
        return self.indexed() and any(s.table.rows for s in self.library.stores)

    # -- keys and rows -----------------------------------------------------------------------
    def resolve(self, key: str, bib_files: Sequence[str] = ()):
        return self.library.resolve(key, bib_files)

    def closest_keys(self, key: str) -> list[str]:
        return self.library.closest_keys(key)

    def keys(self) -> frozenset[str]:
        return self.library.keys()

    def complete(self, query: str, limit: int):
        return self.library.complete(query, limit)

    def rows(self):
        return self.library.rows()

    def row(self, paper_id: str):
        return self.library.row(paper_id)

    def entry(self, source: str, paper_id: str):
        try:
            return self.library.row(paper_id, source)
        except (OSError, ValueError, RuntimeError):   # a NUL in it, a symlink loop
            return None

    def canonical(self, row):
        return self.library.canonical(row)

    def row_for_file(self, path: str):
        try:
            return self.library.row_for_file(path)
        except (OSError, ValueError, RuntimeError):
            return None

    # -- cards -------------------------------------------------------------------------------
    def _cached(self, what: str, row, make: Callable[[], Any]) -> Any:
        if self.cache is None:
            return make()
        return self.cache.get(self.library, (what, row.id, row.source), make)

    def paper(self, row) -> Paper:
        return self._cached("paper", row, lambda: self.library.paper(row))

    def summary_inputs(self, row):
        """(text paper, its passages, content hash) of ``row`` (None without a full text), read
        once per library state: the card's summary and the evidence beneath it share them."""
        return self._cached("inputs", row, lambda: self.library.summary_inputs(row))

    def summary(self, row) -> Optional[CardSummary]:
        try:
            service = self.summary_service()
            if service is None:
                return None
            inputs = self.summary_inputs(row)
            if inputs is None:
                return None
            return card_summary(service.card_summary(*inputs), inputs[0].source, self.paper(row))
        except Exception:
            log.exception("summary of %s", row.key)
            return None

    def graph(self, wait: bool = False):
        return self.library.graph() if wait else self.library.graph_if_ready()

    def item_link(self, row) -> str:
        if row.source_kind != "zotero" or row.file:
            return ""
        return self.library.zotero_link(row)

    # -- reading inside papers ---------------------------------------------------------------
    def paper_file(self, path: str) -> str:
        view = self.text_views.get(path)
        return view[0] if view is not None else path

    def view_line(self, path: str, line: int) -> int:
        view = self.text_views.get(path)
        mapping = view[1] if view is not None else None
        return mapping[line] if mapping and 0 <= line < len(mapping) else line

    def references_of(self, row) -> list[Reference]:
        return list(self.library.references_of(row))

    def reference_lists(self, rows) -> list[list[Reference]]:
        return [self.references_of(r) for r in rows]

    def match_reference(self, ref: Reference, citing=None):
        return self.library.match_reference(ref, citing=citing)

    def text_view_dir(self, path: str) -> Optional[Path]:
        try:
            return self.library.text_view_dir(path)
        except (OSError, ValueError, RuntimeError):
            return None

    # -- search and drafts -------------------------------------------------------------------
    def search(self, query: str, limit: int, per_paper: int = 2):
        return self.library.search(query, limit=limit, per_paper=per_paper)

    def draft_citations(self):
        drafts = self.draft_index()
        return drafts.citations(self.documents()) if drafts is not None else {}

    def bibliographies(self) -> dict[str, list[str]]:
        drafts = self.draft_index()
        return drafts.bibliographies(self.documents()) if drafts is not None else {}

    # -- for the adapters: a LaTeX document's project --------------------------------------------
    def project_of(self, path: Path, text: str) -> Optional[Project]:
        """The LaTeX project of the document at ``path`` with ``text`` (None on trouble)."""
        try:
            drafts = self.draft_index()
            if drafts is None:
                return None
            return drafts.projects.project(str(path), text, self.documents())
        except Exception:                     # never let a strange project break a request
            log.exception("could not resolve the LaTeX project of %s", path)
            return None
