"""What the index holds, counted the way a person counts papers.

The paper table has one record per bibliography entry (``.bib``, CSL-JSON, a Markdown table row)
and one per paper text (a PDF, ``.txt``, ``.md``). A text merged into its entry (same DOI, arXiv
id or title, or named by the entry's ``file`` field) is the same paper: it is one paper, two
records. Completion, ``paperlens cite`` and the editor's status count papers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from paperlens.core.index.table import Row


@dataclass
class PaperCounts:
    papers: int = 0        # what completion and `cite` list: entries + texts without an entry
    records: int = 0       # rows of the paper table (IndexReport.papers_total)
    entries: int = 0       # bibliography entries (.bib, CSL-JSON, table rows)
    full_texts: int = 0    # paper texts (PDF, .txt, .md)
    joined: int = 0        # paper texts merged into their bibliography entry

    @classmethod
    def of(cls, rows: Iterable[Row]) -> "PaperCounts":
        c = cls()
        for r in rows:
            c.records += 1
            if r.is_entry:
                c.entries += 1
            else:
                c.full_texts += 1
                if r.alias_of:
                    c.joined += 1
        c.papers = c.records - c.joined
        return c

    def __add__(self, other: "PaperCounts") -> "PaperCounts":
        return PaperCounts(self.papers + other.papers, self.records + other.records,
                           self.entries + other.entries, self.full_texts + other.full_texts,
                           self.joined + other.joined)

    def to_dict(self) -> dict:
        return {"papers": self.papers, "records": self.records, "entries": self.entries,
                "full_texts": self.full_texts, "joined": self.joined}

    def describe(self) -> str:
        """``25 papers (31 records: 25 bibliography entries, 6 full texts, all 6 joined to their
        entry)``"""
        texts = _n(self.full_texts, "full text")
        if self.full_texts == 1:
            texts += ", joined to its entry" if self.joined else ", not joined to an entry"
        elif self.full_texts:
            texts += (", none joined to an entry" if not self.joined else
                      f", all {self.joined} joined to their entry" if self.joined == self.full_texts else
                      f", {self.joined} of them joined to their entry")
        return (f"{_n(self.papers, 'paper')} ({_n(self.records, 'record')}: "
                f"{_n(self.entries, 'bibliography entry', 'bibliography entries')}, {texts})")


def _n(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
