"""The records of a summary: ``Summary`` (its sentences, each with its line and page, and the
passages it comes from) and ``SummaryError``."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional


@dataclass
class SummarySentence:
    text: str
    line: int                     # 0-based line of the paper file where the sentence starts
    page: Optional[int] = None


class SummarySource(NamedTuple):
    """A passage a summary was drawn from: its index in the passages list given, line, page."""

    index: int
    line: int
    page: Optional[int] = None


@dataclass
class Summary:
    text: str
    sentences: list[SummarySentence]
    kind: str                     # "abstract" | "extractive" | "llm"
    model: str = ""
    # extractive: the passages the sentences come from; llm: the passages given to the model,
    # in prompt order, so that ``[Pn]`` in ``text`` is ``sources[n - 1]``
    sources: list[SummarySource] = field(default_factory=list)

    def cited_sources(self) -> list[SummarySource]:
        """The sources an LLM summary cites as ``[Pn]`` (all of them for extractive ones)."""
        if self.kind != "llm":
            return list(self.sources)
        out: list[SummarySource] = []
        for n in cited_numbers(self.text):
            if 1 <= n <= len(self.sources) and self.sources[n - 1] not in out:
                out.append(self.sources[n - 1])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "model": self.model,
                "sentences": [{"text": s.text, "line": s.line, "page": s.page}
                              for s in self.sentences],
                "sources": [list(s) for s in self.sources]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Summary":
        return cls(text=str(data["text"]), kind=str(data["kind"]), model=str(data.get("model", "")),
                   sentences=[SummarySentence(str(s["text"]), int(s["line"]),
                                              None if s.get("page") is None else int(s["page"]))
                              for s in data.get("sentences", [])],
                   sources=[SummarySource(int(s[0]), int(s[1]), None if s[2] is None else int(s[2]))
                            for s in data.get("sources", [])])


class SummaryError(Exception):
    """A summary could not be made; ``str(exc)`` tells the user what to do.

    ``kind`` groups errors for reporting once: ``config``, ``auth``, ``rate_limit``,
    ``timeout``, ``connection``, ``invalid``, ``context``, ``http``, ``empty``, ``stopped``
    (the summarizer was closed).
    """

    def __init__(self, message: str, kind: str = "error", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status

    def __repr__(self) -> str:
        return f"SummaryError({self.message!r}, kind={self.kind!r})"


_CITE = re.compile(r"\[P(\d+)\]|\bP(\d+)\b")


def cited_numbers(text: str) -> list[int]:
    """The passage numbers ``text`` cites as ``[Pn]`` (or a bare ``Pn``), in order."""
    return [int(m.group(1) or m.group(2)) for m in _CITE.finditer(text)]
