"""Plain data records shared by every layer. Pure Python, no protocol types."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Span:
    """Half-open range of code-point offsets into a Python ``str``."""

    start: int
    end: int

    def contains(self, offset: int) -> bool:
        """True when ``offset`` is inside the span or just after its last character."""
        return self.start <= offset <= self.end


@dataclass(frozen=True)
class CitationKey:
    """One citation key found in a buffer.

    ``span`` covers the key text only (no ``@``, braces or brackets); ``syntax`` is one of
    ``latex``, ``pandoc``, ``typst``, ``org``; ``command`` is the citing command as written
    (``\\citep*``, ``[@``, ``@``, ``#cite``, ``[cite:``).
    """

    key: str
    span: Span
    syntax: str
    command: str = ""


@dataclass
class Paper:
    """One paper of the library: bibliographic metadata plus where it came from."""

    id: str
    key: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: str = ""
    venue: str = ""
    abstract: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    entry_type: str = ""
    source: str = ""          # absolute path of the file this record was parsed from
    source_line: int = 0      # 0-based line of the record in ``source`` (bib entry start)
    source_kind: str = ""     # "bib" | "text"
    file: str = ""            # absolute path of the paper's full text, when there is one
    key_generated: bool = False
    # the paper's own reference list: {label, text, line, title, doi, arxiv, year} each
    references: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def surnames(self) -> list[str]:
        return [author_surname(a) for a in self.authors if a.strip()]


@dataclass
class Passage:
    """A paragraph-sized chunk of a paper's text with its location."""

    paper_id: str
    text: str
    path: str
    line_start: int           # 0-based, inclusive
    line_end: int             # 0-based, inclusive
    section: str = ""         # "abstract", "body", heading text ...
    page: Optional[int] = None


@dataclass
class Reference:
    """One entry of a paper's own reference list (filled in by later work)."""

    label: str
    text: str
    line: int = 0


def author_surname(name: str) -> str:
    """Surname of a BibTeX-style name: ``Last, First`` or ``First von Last``."""
    name = " ".join(name.replace("{", "").replace("}", "").split())
    if not name:
        return ""
    if "," in name:
        return name.split(",", 1)[0].strip()
    parts = name.split(" ")
    # keep lowercase particles with the surname: "Ludwig van Beethoven" -> "van Beethoven"
    i = len(parts) - 1
    while i > 0 and parts[i - 1][:1].islower():
        i -= 1
    return " ".join(parts[i:]) if i > 0 else parts[-1]
