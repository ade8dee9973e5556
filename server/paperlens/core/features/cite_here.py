"""Cite a paper for this sentence: on a sentence of a draft that cites nothing, the five library
papers that fit it best (core/recommend.py, as completion ranks them), each with why and the
passage that matched, and the citation to insert for it at the end of the sentence in the
document's own syntax (``~\\cite{key}``, `` [@key]``, `` @key``, `` [cite:@key]``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from paperlens.core import citations, recommend
from paperlens.core.features.completion import detail, suggestions
from paperlens.core.features.document import Snapshot
from paperlens.core.features.view import LibraryView
from paperlens.core.models import Span

LIMIT = 5
MIN_WORDS = 3             # a sentence with fewer content words is not enough to rank by
MAX_SENTENCE = 2_000      # characters: longer is no sentence (a table, a code block)

_TRAILING = re.compile(r"[\s.!?:;,\"')\]}]*$")


@dataclass(frozen=True)
class Candidate:
    """One paper to cite: its key, title and ``detail`` line, ``why`` it fits, the ``passage``
    that matched (and its ``page``), and the ``insertion`` (text to write over a span)."""
    key: str
    title: str
    detail: str
    why: str
    passage: str
    page: Optional[int]
    insertion: citations.Insertion

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "detail": self.detail, "why": self.why,
                "passage": self.passage, "page": self.page}


@dataclass(frozen=True)
class CiteHere:
    sentence: Span
    candidates: list[Candidate]


def sentence_at(doc: Snapshot, offset: int) -> Optional[tuple[recommend.Context, Span]]:
    """The context and span of the sentence at ``offset`` when it is one to cite for: in a
    draft, of some words, citing nothing yet; else None."""
    if doc.language is None or not (0 <= offset <= len(doc.text)):
        return None
    ctx = recommend.context(doc.text, offset, doc.language, doc.macros)
    start, end = ctx.span
    if end <= start or end - start > MAX_SENTENCE or len(recommend.terms(ctx.sentence)) < MIN_WORDS:
        return None
    if citations.find_citations(doc.text[start:end], doc.language, doc.macros):
        return None
    if citations.completion_context(doc.text, offset, doc.language, doc.macros) is not None:
        return None                          # in a citation being typed: completion's place
    return ctx, Span(start, end)


def insertion_point(text: str, span: Span) -> int:
    """Where a citation of a sentence goes: after its last word, before its closing punctuation."""
    body = text[span.start:span.end]
    return span.start + _TRAILING.search(body).start()


def cite_here(doc: Snapshot, offset: int, view: LibraryView, limit: int = LIMIT,
              embeddings: bool = False) -> Optional[CiteHere]:
    """The papers to cite for the sentence at ``offset`` (at most ``limit``), or None when the
    sentence already cites something or is none to cite for (see :func:`sentence_at`);
    ``embeddings``: as completion ranks (see completion.complete)."""
    found = sentence_at(doc, offset)
    if found is None:
        return None
    ctx, span = found
    at = insertion_point(doc.text, span)
    out = []
    for s in suggestions(doc, offset, view, ctx, keep=limit + 5, embeddings=embeddings):
        if s.row.key in (c.key for c in out):
            continue
        ins = citations.insertion(doc.text, at, doc.language, s.row.key, doc.macros)
        if ins is None:
            continue
        before = doc.text[at - 1:at] if at > 0 else ""
        if before and not before.isspace() and not ins.text[:1].isspace():
            ins = citations.Insertion(ins.span, ("~" if doc.language == "latex" else " ") + ins.text)
        out.append(Candidate(s.row.key, s.row.title, detail(s.row), s.reason(),
                             " ".join(s.passage.split())[:400], s.page, ins))
        if len(out) >= limit:
            break
    return CiteHere(span, out)
