"""Numeric citations in a paper's running text: ``[12]``, ``[3, 15]``, ``[3-7]``."""
from __future__ import annotations

import re
from dataclasses import dataclass

from paperlens.core.models import Span
from paperlens.core.references.section import find_reference_section

__all__ = ["NumericCite", "find_numeric_citations", "numeric_citation_at"]


@dataclass
class NumericCite:
    """A numeric citation such as ``[3, 15]``: ``span`` covers the brackets, ``labels`` are
    every label it cites (ranges expanded), as strings, in order, without duplicates."""

    span: Span
    labels: list[str]


_DASHES = ("-", "–", "—", "‐", "‑", "‒", "−", "‚Äì", "‚Äî")
_DASH_RE = "(?:" + "|".join(re.escape(d) for d in sorted(_DASHES, key=len, reverse=True)) + ")"
_ITEM = r"\d{1,4}(?:\s*" + _DASH_RE + r"\s*\d{1,4})?"
_NUMERIC_CITE = re.compile(r"\[\s*(" + _ITEM + r"(?:\s*[,;]\s*" + _ITEM + r")*)\s*\]")
_ITEM_SPLIT = re.compile(r"\s*[,;]\s*")
_RANGE = re.compile(r"^(\d{1,4})\s*" + _DASH_RE + r"\s*(\d{1,4})$")
MAX_RANGE = 100
DEFAULT_MAX_LABEL = 999


def _expand(body: str, max_label: int) -> list[str] | None:
    labels: list[str] = []
    seen = set()
    for item in _ITEM_SPLIT.split(body.strip()):
        m = _RANGE.match(item)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a < 1 or b <= a or b - a > MAX_RANGE or b > max_label:
                return None
            numbers = range(a, b + 1)
        else:
            try:
                n = int(item)
            except ValueError:
                return None
            if n < 1 or n > max_label:
                return None
            numbers = range(n, n + 1)
        for n in numbers:
            if n not in seen:
                seen.add(n)
                labels.append(str(n))
    return labels or None


def find_numeric_citations(text: str, max_label: int | None = None) -> list[NumericCite]:
    """Numeric citations in ``text``: ``[12]``, ``[3, 15]``, ``[3,15,22]``, ``[3-7]``, ``[3–7]``,
    ``[3—7]``, ``[1, 4-6]`` (ranges expanded; the span covers the brackets).

    Not inside the paper's own reference list, not Markdown links ``[1](url)`` / ``[1]: url``,
    not brackets holding a zero, a decreasing range or (with ``max_label``, e.g. the number of
    reference entries) a number above ``max_label`` — so ``[0, 1]`` intervals and ``[2020]``
    years are left alone. Without ``max_label`` numbers above 999 are not labels.
    """
    if not isinstance(text, str) or "[" not in text:
        return []
    limit = DEFAULT_MAX_LABEL if max_label is None else max_label
    section = find_reference_section(text)
    out: list[NumericCite] = []
    for m in _NUMERIC_CITE.finditer(text):
        s, e = m.start(), m.end()
        if section is not None and section[0] <= s < section[1]:
            continue
        nxt = text[e:e + 1]
        if nxt == "(":
            continue                                    # [1](http://...)
        if nxt == ":":
            ls = text.rfind("\n", 0, s) + 1
            if not text[ls:s].strip():
                continue                                # [1]: http://... link definition
        if s > 0 and text[s - 1] in "!\\":
            continue
        labels = _expand(m.group(1), limit)
        if labels:
            out.append(NumericCite(Span(s, e), labels))
    return out


def numeric_citation_at(text: str, offset: int, max_label: int | None = None) -> NumericCite | None:
    """The numeric citation whose brackets hold ``offset``: from the ``[`` (``span.start``) to
    just after the ``]`` (``span.end``, where a cursor stands after typing it). When two
    citations touch (``[1][2]``), the one starting at ``offset`` wins."""
    if not isinstance(text, str) or not isinstance(offset, int) or offset < 0 or offset > len(text):
        return None
    if text.rfind("[", 0, offset + 1) < 0:
        return None
    hits = [c for c in find_numeric_citations(text, max_label) if c.span.start <= offset <= c.span.end]
    if not hits:
        return None
    for c in hits:
        if c.span.start <= offset < c.span.end:
            return c
    return hits[0]
