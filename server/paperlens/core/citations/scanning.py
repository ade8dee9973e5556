"""Scanning: the citation keys of a whole text, or of a window of it.

A key is found in two steps: the text is masked (:mod:`.masking`), then the module of its
language (:data:`SYNTAXES`) finds the keys in the masked copy, slicing each key from the
original text.  Whether a key is a key depends only on the text around it, so the keys that
start in ``[lo, hi)`` can be read from a window reaching :data:`~.common.REACH` characters
beyond (:func:`find_in_window`); :mod:`.cursor` and :mod:`.incremental` read such windows.
"""
from __future__ import annotations

from paperlens.core.models import CitationKey, Span

from . import latex, markdown, masking, org, typst
from .common import REACH
from .languages import normalize_language

# The module that reads each language's citations.  Each has ``find_keys(text, masked)``,
# ``completion(text, masked, offset)`` and ``insertion(masked, offset, key, context)``;
# LaTeX's also take the document's citation commands (``latex.commands_for(macros)``).
SYNTAXES = {"latex": latex, "markdown": markdown, "typst": typst, "org": org}

# Cheap pre-check: a buffer without these characters cannot hold a citation.
_TRIGGER = {
    "latex": ("\\",),
    "markdown": ("@",),
    "typst": ("@", "cite("),
    "org": ("[cite",),
}

# What the key finders have read in this process (for the status command and the tests):
# characters, and scans of a whole document.
_WORK = {"chars": 0, "whole": 0}


def work_done() -> dict[str, int]:
    """``{"chars": characters the key finders read, "whole": scans of a whole document}``
    since the process started (windows count their characters only)."""
    return dict(_WORK)


def may_cite(text: str, lang: str) -> bool:
    """False when ``text`` cannot hold a citation of language ``lang`` (no scan needed)."""
    return any(trigger in text for trigger in _TRIGGER[lang])


def find(text: str, masked: str, lang: str, macros) -> list[CitationKey]:
    """Keys of ``text`` (masked as ``masked``) in document order."""
    _WORK["chars"] += len(text)
    if lang == "latex":
        found = latex.find_keys(text, masked, latex.commands_for(macros))
    else:
        found = SYNTAXES[lang].find_keys(text, masked)
    found.sort(key=lambda c: (c.span.start, c.span.end))
    return found


def find_whole(text: str, masked: str, lang: str, macros) -> list[CitationKey]:
    """:func:`find` for a whole document (counted in :func:`work_done`)."""
    _WORK["whole"] += 1
    return find(text, masked, lang, macros)


def shifted(cite: CitationKey, delta: int) -> CitationKey:
    """``cite`` moved ``delta`` characters on."""
    return CitationKey(cite.key, Span(cite.span.start + delta, cite.span.end + delta), cite.syntax, cite.command)


def find_in_window(text: str, masked: str, lang: str, macros, lo: int, hi: int) -> list[CitationKey]:
    """The keys of ``text`` that start in ``[lo, hi)``, read from a window reaching
    :data:`REACH` characters beyond (``masked``: the mask of the whole text)."""
    w0, w1 = max(0, lo - REACH), min(len(text), hi + REACH)
    return [shifted(c, w0) for c in find(text[w0:w1], masked[w0:w1], lang, macros)
            if lo <= c.span.start + w0 < hi]


def find_citations(text: str, language: str, macros=None, part: bool = False) -> list[CitationKey]:
    """All citation keys of ``text``, ordered by position.

    ``language`` is one of :data:`~.languages.LANGUAGES` (an LSP language id or a file name
    is accepted too).  Keys in comments and code are skipped; each key of a multi-key
    citation gets its own :class:`CitationKey` whose span covers the key text only.
    ``macros`` (LaTeX only) are the user-defined citation commands of the document's
    project (:func:`~.latex_macros.citation_macros`), read besides the built-in ones.
    Unknown languages and non-string input give ``[]``. ``part``: ``text`` is a window of a
    document (what a hover or a completion reads around the cursor), not counted as a scan of
    a whole document in :func:`work_done`.
    """
    lang = normalize_language(language)
    if lang is None or not isinstance(text, str):
        return []
    if not may_cite(text, lang):
        return []
    return (find if part else find_whole)(text, masking.mask(text, lang)[0], lang, macros)
