"""What an index of one paper folder offers the rest of paperlens: the ``SearchIndex`` interface.

The library (:mod:`paperlens.core.library`) and everything above it reach a folder's index only
through these methods, whatever keeps it: today Whoosh files in a directory
(:mod:`paperlens.core.index.whoosh`), later perhaps a server shared by a team. Nothing here
names a Whoosh object.

An index answers from two places:

- the **paper table** (:class:`~paperlens.core.index.table.PaperTable`, ``table``): one compact
  row per paper, loaded in milliseconds, for key lookups and completion;
- the **index proper**: each paper's full record, its passages (ranked search with snippets),
  its reference list, and the reference lines the citation graph is built from.

``update`` brings it in line with the folder (incrementally, or rebuilt aside), ``close`` lets
go of every open file.
"""
from __future__ import annotations

import abc
import errno
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from paperlens.core.index.table import PaperTable
from paperlens.core.models import Paper, Passage, Reference

Progress = Callable[[int, int, str], None]   # (done, total, current relative path)


class IndexUnavailable(Exception):
    """The folder's index cannot be used now (its files are missing or damaged, or the
    software that reads them is not the one paperlens needs): searches find nothing until the
    next update rebuilds it, and the message says why."""


def write_error(exc: OSError, index_dir: Path) -> str:
    """What a user is told when the index cannot be written."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"disk full while writing the index at {index_dir}"
    return f"cannot write the index at {index_dir}: {exc.strerror or exc}"


@dataclass
class IndexReport:
    folder: str
    files_seen: int = 0
    papers_indexed: int = 0          # papers (re)written by this run
    papers_total: int = 0            # papers in the index after this run
    files_parsed: int = 0
    files_removed: int = 0
    drafts: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (relative path, reason)
    warnings: list[str] = field(default_factory=list)
    rebuilt: str = ""                # why the index was rebuilt, if it was
    unusable: int = 0                # files in the folder that could not be used (now or before)
    busy: bool = False               # another process was updating this index: nothing done here
    error: str = ""                  # why this run could not update the index (it is kept as it was)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"folder": self.folder, "files_seen": self.files_seen,
                "papers_indexed": self.papers_indexed, "papers_total": self.papers_total,
                "files_parsed": self.files_parsed, "files_removed": self.files_removed,
                "drafts": self.drafts,
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
                "warnings": self.warnings, "rebuilt": self.rebuilt, "unusable": self.unusable,
                "busy": self.busy, "error": self.error,
                "seconds": round(self.seconds, 3)}


@dataclass
class SearchHit:
    paper_id: str
    key: str
    title: str
    path: str            # absolute path of the file the passage is in
    line_start: int      # 0-based
    line_end: int
    page: Optional[int]
    section: str
    score: float
    snippet: str         # with **bold** around matched terms
    text: str

    def to_dict(self) -> dict:
        return {"paper_id": self.paper_id, "key": self.key, "title": self.title,
                "file": self.path, "line": self.line_start + 1, "line_end": self.line_end + 1,
                "page": self.page, "section": self.section, "score": round(self.score, 4),
                "snippet": self.snippet}


class SearchIndex(abc.ABC):
    """The index of one paper folder (see the module docstring).

    Attributes every implementation has: ``folder`` (the paper folder, resolved), ``index_dir``
    (where its files are: the index owns every file in it, see ``owns``), ``table`` (the paper
    table as of the last update or reload), ``unavailable`` (why the index could not be opened
    last time, "" when it could)."""

    folder: Path
    index_dir: Path
    table: PaperTable
    unavailable: str = ""

    # -- the index's state ------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def stamp(self):
        """Changes whenever this index's papers change (for caches built on top of it)."""

    @property
    @abc.abstractmethod
    def damaged(self) -> str:
        """Why a part of the index that was read is damaged ("" when none is known to be): the
        next update rebuilds it."""

    @abc.abstractmethod
    def is_ready(self) -> bool:
        """Whether the index proper can be read (else only the paper table answers)."""

    @abc.abstractmethod
    def reload_if_changed(self) -> bool:
        """Pick up what another process committed (a second editor window on the same
        library); True when the table changed. Cheap enough to call before every request."""

    @abc.abstractmethod
    def owns(self, name: str) -> bool:
        """Whether ``name`` (an entry of ``index_dir``) is one of this index's files: nothing
        else writes there."""

    def views_dir(self) -> Path:
        """A folder of ``index_dir`` where derived views of papers may be written (the text
        of a PDF opened read-only in the editor); the index lists it as its own."""
        return self.index_dir / "texts"

    # -- updating -----------------------------------------------------------------------------
    @abc.abstractmethod
    def update(self, only: Optional[list[str]] = None, progress: Optional[Progress] = None,
               force_rebuild: bool = False) -> IndexReport:
        """Bring the index in line with the folder (or with the files in ``only``, paths
        relative to the folder)."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Stop a running update now (from any thread) and any later one."""

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of every open file and cache (the index opens again when next read)."""

    # -- reading ------------------------------------------------------------------------------
    @abc.abstractmethod
    def prepare(self) -> None:
        """Open what the first reads need, ahead of them (background work)."""

    @abc.abstractmethod
    def paper(self, paper_id: str) -> Optional[Paper]:
        """The full paper record (abstract, reference list...), or None."""

    def references(self, paper_id: str) -> list[Reference]:
        """A paper's reference list."""
        paper = self.paper(paper_id)
        return list(paper.references) if paper else []

    @abc.abstractmethod
    def passages(self, paper_id: str) -> list[Passage]:
        """A paper's passages in document order (for summaries)."""

    @abc.abstractmethod
    def content_hash(self, path: str) -> str:
        """The indexed content hash of one of the folder's files ("" when unknown)."""

    @abc.abstractmethod
    def reference_lines(self) -> Iterator[tuple[str, list[Reference]]]:
        """(paper id, its references with label, title, DOI, arXiv id, year and the matcher's
        evidence: the text before and after the title, the other years) of every paper with a
        reference list: what the citation graph is built from, streamed."""

    def reference_lines_lazily(self) -> Iterator[tuple[str, bytes, Callable[[], Optional[list[Reference]]]]]:
        """(paper id, a digest equal for equal lists and the same in every process, the list
        read when called, or None when it cannot be read) of every paper with a reference list:
        the graph's update reads only the lists that changed, and a graph saved for the next
        session keeps the digests. This default reads every list; a store that can tell equal
        lists apart more cheaply overrides it. The callable may also have a ``columns()``
        method giving the list as the lists of its fields (the Whoosh store's, see
        ``store.reference_columns``): the graph then makes a Reference only of the entries
        that may name a library paper."""
        return read_lazily(self.reference_lines())

    @abc.abstractmethod
    def search(self, query: str, limit: int, per_paper: int, highlight: int,
               notes: set[str]) -> list[tuple[int, SearchHit]]:
        """The best passages for ``query`` (already within :mod:`paperlens.core.index.search`'s
        limits) as (tier, hit), at most ``per_paper`` of one paper: tier 0 ranks above tier 1
        whatever the scores. The first ``highlight`` hits get highlighted snippets. What limited
        the search is added to ``notes``."""

    @abc.abstractmethod
    def warm(self) -> None:
        """Do the once-per-index work of the first search ahead of it (background work)."""


def read_lazily(lines: Iterable[tuple[str, list[Reference]]]) -> Iterator[tuple[str, bytes, Callable[[], Optional[list[Reference]]]]]:
    """:meth:`SearchIndex.reference_lines_lazily` of lists read already: (paper id, a digest
    of the list's fields, the same in every process, a function returning the list)."""
    for pid, refs in lines:
        fields = [(r.label, r.text, r.title, r.doi, r.arxiv, r.year, r.authors, r.after, r.years)
                  for r in refs]
        digest = hashlib.sha1(json.dumps(fields).encode("utf-8", "surrogatepass"),
                              usedforsecurity=False).digest()
        yield pid, digest, (lambda refs=refs: refs)
