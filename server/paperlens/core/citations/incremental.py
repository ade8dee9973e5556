"""The citation keys of a document kept across its edits (:class:`CitationScan`): an edit
rescans a window around what changed, not the document (see "Windows" in the package's
docstring)."""
from __future__ import annotations

from bisect import bisect_left

from paperlens.core.models import CitationKey

from . import masking, scanning
from .common import REACH, line_start
from .languages import normalize_language


def _prefix_length(a: str, b: str, limit: int, backwards: bool = False) -> int:
    """How many leading (``backwards``: trailing) characters ``a`` and ``b`` share, at most
    ``limit``: compared chunk by chunk (slices compare at memory speed), then by halves."""
    la, lb = len(a), len(b)

    def same(i: int, j: int) -> bool:          # characters i..j from the start (or the end)
        if backwards:
            return a[la - j:la - i] == b[lb - j:lb - i]
        return a[i:j] == b[i:j]

    done, step = 0, 4096
    while done < limit:
        upto = min(limit, done + step)
        if same(done, upto):
            done, step = upto, min(step * 2, 1 << 20)
            continue
        lo, hi = done, upto                    # the first difference is in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if same(lo, mid):
                lo = mid
            else:
                hi = mid
        return lo
    return done


def common_affixes(a: str, b: str) -> tuple[int, int]:
    """``(p, s)``: ``a`` and ``b`` share their first ``p`` and their last ``s`` characters,
    and ``p + s <= min(len(a), len(b))`` (what changed is ``a[p:len(a)-s]`` -> ``b[p:len(b)-s]``)."""
    if a is b:
        return len(a), 0
    limit = min(len(a), len(b))
    p = _prefix_length(a, b, limit)
    return p, _prefix_length(a, b, limit - p, backwards=True)


class CitationScan:
    """The citation keys of one document, kept across its edits.

    :meth:`update` gives what :func:`~.scanning.find_citations` gives for the new text, but
    rescans only a window around what changed since the last text; the keys before the
    window are kept, those after it shifted.  The mask is updated line by line for LaTeX,
    recomputed whole otherwise (a Markdown code fence can mask the rest of the document);
    the window then also covers every place where the mask changed.  ``scanned`` counts the
    characters the key finders have read, and ``full_scans`` the scans of a whole text (the
    first one, a change of language or of the LaTeX commands, or an edit that touches most
    of the text).
    """

    def __init__(self, language: str) -> None:
        self.language = normalize_language(language)
        self.text: str | None = None
        self.macros = None
        self.keys: list[CitationKey] = []
        self._masked = ""
        self.scanned = 0
        self.full_scans = 0

    def _full(self, text: str, masked: str, macros) -> list[CitationKey]:
        """The keys of the whole ``text`` (masked as ``masked``)."""
        lang = self.language
        self._masked = masked
        self.full_scans += 1
        if not scanning.may_cite(text, lang):
            return []
        self.scanned += len(text)
        return scanning.find_whole(text, masked, lang, macros)

    def update(self, text: str, macros=None) -> list[CitationKey]:
        """The keys of ``text`` (the document's new text), in document order."""
        lang = self.language
        if lang is None or not isinstance(text, str):
            return []
        macros = frozenset(macros) if macros else frozenset()
        old = self.text
        if old is not None and (text is old or text == old) and macros == self.macros:
            return self.keys
        if old is None or macros != self.macros:
            keys = self._full(text, masking.mask(text, lang)[0], macros)
        else:
            keys = self._edit(old, text, macros)
        self.text, self.macros, self.keys = text, macros, keys
        return keys

    def _edit(self, old: str, new: str, macros) -> list[CitationKey]:
        lang = self.language
        p, s = common_affixes(old, new)
        delta = len(new) - len(old)
        if lang == "latex":
            # a comment ends with its line: remask the changed lines only
            start = line_start(new, p)
            nl = new.find("\n", len(new) - s)
            end = len(new) if nl < 0 else nl + 1
            masked = self._masked[:start] + masking.mask(new[start:end], lang)[0] + self._masked[end - delta:]
        else:
            masked = masking.mask(new, lang)[0]
            mp, ms = common_affixes(self._masked, masked)
            start, end = min(p, mp), len(new) - min(s, ms)
        lo, hi = max(0, start - REACH), min(len(new), end + REACH)
        if hi - lo + 2 * REACH >= len(new):
            return self._full(new, masked, macros)
        self._masked = masked
        keys = self.keys
        before = bisect_left(keys, lo, key=lambda c: c.span.start)
        after = bisect_left(keys, hi - delta, key=lambda c: c.span.start)
        w0, w1 = max(0, lo - REACH), min(len(new), hi + REACH)
        self.scanned += w1 - w0
        middle = scanning.find_in_window(new, masked, lang, macros, lo, hi)
        return keys[:before] + middle + [scanning.shifted(c, delta) for c in keys[after:]]
