"""Plain data records shared by every layer. Pure Python, no protocol types."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Optional


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
    # the paper's own reference list (dicts given here become Reference records)
    references: list["Reference"] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.references and any(type(r) is not Reference for r in self.references):
            self.references = [Reference.coerce(r) for r in self.references]

    def to_dict(self) -> dict[str, Any]:
        """The fields in their order, as ``dataclasses.asdict`` gives them (the authors a new
        list), without deep-copying the references that are replaced here."""
        data = {name: getattr(self, name) for name in _PAPER_FIELDS}
        data["authors"] = list(self.authors)
        # every stored field of every reference (the span stays out); dicts assigned later too
        data["references"] = [{k: getattr(r, k) for k in Reference.STORED}
                              for r in map(Reference.coerce, self.references)]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def surnames(self) -> list[str]:
        return [author_surname(a) for a in self.authors if a.strip()]


_PAPER_FIELDS = tuple(f.name for f in fields(Paper))


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
    """One entry of a paper's own reference list, typed from the parser to the features.

    ``label`` as printed (``12``, ``Smith2019``) or its position; ``text`` the whole entry (may be
    empty once stored: the citation graph keeps only what it needs); ``line`` 0-based line of the
    entry in the parsed text; ``title``/``doi``/``arxiv``/``year`` what was found in it (empty
    when not found). Stored as JSON objects with these names (:meth:`to_dict`). ``span``, from
    the parser only (never stored, not compared), covers the entry in the parsed text from its
    label to its last character."""

    STORED: ClassVar[tuple[str, ...]] = ("label", "text", "line", "title", "doi", "arxiv", "year")

    label: str
    text: str = ""
    line: int = 0
    title: str = ""
    doi: str = ""
    arxiv: str = ""
    year: str = ""
    span: Optional[Span] = field(default=None, compare=False, repr=False)
    # What the citation graph keeps of ``text`` as the matcher's evidence (the index keeps no
    # text): ``authors`` the text before the title (its author list as printed; ``None`` when
    # not known: an index written before it was kept), ``after`` the text after the title,
    # ``years`` the years the text names besides ``year``, space-separated. Not in STORED (the
    # full record has the text).
    authors: Optional[str] = field(default=None, repr=False)
    after: str = field(default="", repr=False)
    years: str = field(default="", repr=False)

    def to_dict(self, fields: Optional[tuple[str, ...]] = None) -> dict[str, Any]:
        """The stored fields (only ``fields`` when given), empty values left out."""
        return {k: v for k in fields or self.STORED if (v := getattr(self, k))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reference":
        """A Reference from stored JSON; unknown names are ignored, wrong types become empty."""
        out = {}
        for name in cls.STORED:
            v = data.get(name)
            want = int if name == "line" else str
            if type(v) is want:
                out[name] = v
        out.setdefault("label", "")
        return cls(**out)

    @classmethod
    def coerce(cls, value: Any) -> "Reference":
        if isinstance(value, Reference):
            return value
        if isinstance(value, dict):
            return cls.from_dict(value)
        raise TypeError(f"not a reference: {type(value).__name__}")


def references_of_columns(columns: tuple) -> list[Reference]:
    """The References of a reference list kept as the lists of its fields (label, title, doi,
    arxiv, year, authors, after, years: the index's columns, without the entries' text)."""
    return [Reference(label, "", 0, title, doi, arxiv, year, None, authors, after, years)
            for label, title, doi, arxiv, year, authors, after, years in zip(*columns)]


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
