"""Questions about the cursor: the key under it (:func:`citation_at`), the key being typed
(:func:`completion_context`) and what to write for a key picked by the user
(:func:`insertion`).  Each reads a window around the cursor, not the whole document, where
the language allows it (see "Windows" in the package's docstring)."""
from __future__ import annotations

from paperlens.core.models import CitationKey, Span

from . import latex, masking, scanning
from .common import LOOKBACK, REACH, CompletionContext, Insertion, line_start
from .languages import normalize_language


def citation_at(text: str, offset: int, language: str, macros=None) -> CitationKey | None:
    """The citation key whose span contains ``offset`` (``start <= offset <= end``).

    Returns ``None`` when there is none, and for offsets outside ``0..len(text)``.
    ``macros``: as for :func:`~.scanning.find_citations`.  Reads a window around ``offset``
    (for LaTeX, masked line by line; other languages are masked whole, their code blocks may
    start anywhere above).
    """
    if not isinstance(text, str) or not isinstance(offset, int):
        return None
    if offset < 0 or offset > len(text):
        return None
    lang = normalize_language(language)
    if lang is None:
        return None
    lo, hi = max(0, offset - REACH), min(len(text), offset + 1)
    w0, w1 = max(0, lo - REACH), min(len(text), hi + REACH)
    if lang == "latex":
        # comments end with their line: masking from the window's first line is exact
        base = line_start(text, w0)
        window = text[base:w1]
        found = scanning.find(window, masking.mask(window, lang)[0], lang, macros)
        found = [scanning.shifted(c, base) for c in found if lo <= c.span.start + base < hi]
    else:
        found = scanning.find_in_window(text, masking.mask(text, lang)[0], lang, macros, lo, hi)
    for cite in found:
        if cite.span.start > offset:
            break
        if cite.span.contains(offset):
            return cite
    return None


def _window(text: str, offset: int, lang: str) -> tuple[int, str, str, list[tuple[int, int]]]:
    """``(base, window, masked, ranges)``: the text from ``base`` on that decides what is being
    typed at ``offset``, its mask and masked ranges.  A LaTeX cite command is looked for
    ``LOOKBACK`` characters back, and comments end with their line: a window from the line
    that far back is enough.  Other languages are read whole."""
    if lang == "latex":
        base = line_start(text, offset - LOOKBACK - 1)
        window = text[base:min(len(text), offset + REACH)]
    else:
        base, window = 0, text
    masked, ranges = masking.mask(window, lang)
    return base, window, masked, ranges


def _context(window: str, masked: str, ranges, offset: int, lang: str, macros) -> CompletionContext | None:
    """The key being typed at ``offset`` of a window (offsets relative to the window)."""
    if masking.inside(ranges, offset):
        return None
    if lang == "latex":
        return latex.completion(window, masked, offset, latex.commands_for(macros))
    return scanning.SYNTAXES[lang].completion(window, masked, offset)


def completion_context(
    text: str, offset: int, language: str, macros=None
) -> CompletionContext | None:
    """Describe the citation key being typed at ``offset``, or ``None`` when not in one.

    Triggers: LaTeX inside the braces of a cite command (``\\cite{``, ``\\citep[..][..]{``,
    after a ``,``), Markdown after ``@`` / ``[@`` / ``[-@`` / ``; @`` (``@`` not after a
    word character), Typst after ``@`` and inside ``#cite(<``, Org after ``@`` inside a
    ``[cite:...`` bracket.  The citation need not be closed yet.  The returned span
    covers the whole partial key around the cursor: ``prefix == text[span.start:offset]``.
    ``macros``: as for :func:`~.scanning.find_citations` (``\\longcite{`` completes too).
    """
    lang = normalize_language(language)
    if lang is None or not isinstance(text, str) or not isinstance(offset, int):
        return None
    if offset < 0 or offset > len(text):
        return None
    base, window, masked, ranges = _window(text, offset, lang)
    found = _context(window, masked, ranges, offset - base, lang, macros)
    if found is None or not base:
        return found
    return CompletionContext(found.prefix, Span(found.span.start + base, found.span.end + base),
                             found.syntax, found.command)
def insertion(text: str, offset: int, language: str, key: str, macros=None) -> Insertion | None:
    """What to write for citation ``key`` with the cursor at ``offset``, in the document's syntax.

    Outside a citation, a whole one: LaTeX ``\\cite{key}`` (``{key}`` right after a cite
    command such as ``\\autocite`` or ``\\citep[see][]``), Markdown ``[@key]``, Typst ``@key``,
    Org ``[cite:@key]``.  Where a key can be typed (an empty :func:`completion_context`:
    ``\\cite{``, ``\\cite{a,``, ``[@``, ``@``, ``#cite(<``, ``[cite:@``), the key alone.
    With the cursor on a key, another key after it (after its item in a bracketed citation):
    ``,key``, ``; @key``, `` @key`` or ``>, <key>``, ``;@key``.  Inside a bracketed citation
    but not at a key: Markdown ``; @key`` (``@key`` after ``;``), Org ``;@key`` (``@key``
    right after ``[cite:`` or ``;``); Typst ``<key>`` inside ``#cite(``.  Other languages:
    the key.  Comments and code count as text outside citations.  ``macros``: as for
    :func:`~.scanning.find_citations`.  ``None`` for an offset outside ``0..len(text)``, an empty key
    or arguments of the wrong type.
    """
    if not isinstance(text, str) or not isinstance(key, str) or not key:
        return None
    if not isinstance(offset, int) or offset < 0 or offset > len(text):
        return None
    lang = normalize_language(language)
    if lang is None:
        return Insertion(Span(offset, offset), key)
    base, window, masked, ranges = _window(text, offset, lang)
    context = _context(window, masked, ranges, offset - base, lang, macros)
    if context is not None and context.span.start == context.span.end:
        return Insertion(Span(offset, offset), key)         # a key can be typed here
    if lang == "latex":
        at, new = latex.insertion(masked, offset - base, key, context, latex.commands_for(macros))
    else:
        at, new = scanning.SYNTAXES[lang].insertion(masked, offset - base, key, context)
    return Insertion(Span(at + base, at + base), new)
