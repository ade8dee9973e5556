"""A paper's own reference list, its numeric citations, and matching entries to the library.

Pure Python (plus ``rapidfuzz`` for the title similarity). Everything works on the text of one
paper as a ``str``; offsets are code-point offsets into that string and lines are 0-based
indices into ``text.split("\\n")``, the same conventions as :mod:`paperlens.core.parse.text`.

One module per job:

* :mod:`.section`: where the reference list is (:func:`find_reference_section`);
* :mod:`.entries`: splitting it into entries, each a :class:`~paperlens.core.models.Reference`
  (:func:`parse_references`);
* :mod:`.fields`: what one entry says (:func:`extract_title`, :func:`extract_ids`,
  :func:`extract_years`);
* :mod:`.numeric`: numeric citations in the running text (:func:`find_numeric_citations`,
  :func:`numeric_citation_at`);
* :mod:`.matcher`: which library paper an entry cites (:class:`ReferenceMatcher`).

Titles, DOIs and arXiv ids are normalised by :mod:`paperlens.core.identity`.
"""
from __future__ import annotations

from paperlens.core.identity import norm_title as normalize_title
from paperlens.core.models import Reference
from paperlens.core.references.entries import parse_references
from paperlens.core.references.fields import extract_ids, extract_title, extract_years
from paperlens.core.references.matcher import LibraryEntry, ReferenceMatcher
from paperlens.core.references.numeric import NumericCite, find_numeric_citations, numeric_citation_at
from paperlens.core.references.section import find_reference_section

__all__ = [
    "Reference", "NumericCite", "LibraryEntry", "ReferenceMatcher",
    "find_reference_section", "parse_references", "extract_title", "extract_ids",
    "extract_years", "normalize_title", "find_numeric_citations", "numeric_citation_at",
]
