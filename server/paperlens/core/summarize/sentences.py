"""Sentence spans of running text (abbreviations, decimals, initials, figure labels, CJK full
stops and bullets handled), for the extractive summary and for an LLM summary's sentences."""
from __future__ import annotations

import re

_ABBREVIATIONS = {
    "al.", "e.g.", "i.e.", "cf.", "vs.", "viz.", "resp.", "approx.", "fig.", "figs.", "eq.",
    "eqs.", "sec.", "secs.", "tab.", "tabs.", "no.", "nos.", "vol.", "pp.", "p.", "ch.", "app.",
    "alg.", "algo.", "def.", "thm.", "lem.", "prop.", "ref.", "refs.", "dr.", "mr.", "mrs.", "ms.",
    "prof.", "st.", "w.r.t.", "a.k.a.", "incl.", "est.", "i.i.d.", "et.", "ca.", "jr.", "sr.",
    "ed.", "eds.", "u.s.", "mt.", "op.", "cit.", "ibid.", "approx.", "max.", "min.", "avg.",
    "std.", "eqn.", "eqns.", "exp.", "expt.", "dept.", "univ.", "inc.", "ltd.", "co.", "corp.",
}
# a sentence may end here: terminal punctuation, closing quotes/brackets, then space (or, after
# CJK punctuation, nothing)
_CANDIDATE = re.compile(r"[.!?][\"'”’)\]]*\s+|[。！？][\"'”’)\]」』]*\s*|"
                        r"(?<=[a-z]{3})\.(?=[A-Z][a-z]+\s)")   # "models.Our results" (glued)
_LABEL_BEFORE = re.compile(r"(?:Figure|Fig|Figs|Table|Tab|Algorithm|Alg|Eq|Equation|Section|Sec|"
                           r"Appendix|Step|Stage|Phase|Part|Chapter)\.?\s*[A-Z]?\d+[a-z]?$")
_BULLET = re.compile(r"[•◦▪▸►·∙*–—-]\s*")
# a page number or a section heading glued to the start of a sentence: "3447 In this study"
_LEADING_JUNK = re.compile(
    r"(?:\d{1,5}\s+|(?:\d+(?:\.\d+)*\.?\s*)?(?:Abstract|Introduction|Related [Ww]ork|Background|"
    r"Methods?|Methodology|Approach|Experiments?|Results|Evaluation|Discussion|Conclusions?|"
    r"Limitations)\.?\s+)(?=[A-Z][a-z])")
_SENTENCE_START = re.compile(r"[A-Z0-9\"'“‘(\[•◦▪▸►·∙\u00C0-\u024F\u0370-\u03FF\u3400-\u9fff]")


_LOOK_BEHIND = 80                 # characters before a full stop that decide whether it ends


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text`` (``text[start:end]`` is the sentence).

    Handles abbreviations (``et al.``, ``e.g.``, ``Fig. 3``), decimals (``3.5``), initials
    (``J. Smith``), figure/table labels (``Figure 3. Overview`` stays one sentence), closing
    quotes and brackets, CJK full stops, and bullets (``• We propose``).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        punct_end = m.end()
        while punct_end > m.start() and text[punct_end - 1].isspace():
            punct_end -= 1
        nxt = m.end()
        if nxt >= n:
            break
        if text[m.start()] == ".":
            if not _SENTENCE_START.match(text[nxt]):
                continue                      # "e.g. the", "et al. proposed", "3. and"
            # the word before the full stop, and a label before it, are looked for in the few
            # characters before it: searching all the text since the sentence start made each
            # candidate cost the sentence's length ("Fig. A" repeated: quadratic)
            dot = m.start()
            i, floor = dot, max(start, dot - _LOOK_BEHIND)
            while i > floor and not text[i - 1].isspace():
                i -= 1
            token = (text[i:dot] + ".").lstrip("([{\"'“‘").lower()
            if token in _ABBREVIATIONS:
                continue
            if re.fullmatch(r"[A-Za-z]\.", token) or re.fullmatch(r"(?:[A-Za-z]\.){2,}", token):
                continue                      # an initial: "J. Smith", "U.S."
            if _LABEL_BEFORE.search(text, max(start, dot - _LOOK_BEHIND), dot):
                continue                      # "Figure 3. Overview of ..." stays together
        elif text[m.start()] in "!?" and not _SENTENCE_START.match(text[nxt]):
            continue
        if start < punct_end:
            spans.append((start, punct_end))
        start = nxt
    if start < n and text[start:].strip():
        spans.append((start, n))
    # trim whitespace and bullets inside each span; offsets stay exact
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        for lead in (_BULLET, _LEADING_JUNK):
            b = lead.match(text, s, e)
            if b and b.end() < e:
                s = b.end()
        if s < e:
            out.append((s, e))
    return out
