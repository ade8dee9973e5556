"""Where a paper's own reference list is: after its last ``References`` heading, to the end or
to an ``Appendix`` / ``Acknowledgements`` heading (or the next Markdown heading of its level)."""
from __future__ import annotations

import re

__all__ = ["find_reference_section"]


_MD = r"(?:\*\*|__|\*|_)?"
_REF_HEADING = re.compile(
    r"^[ \t\x00]*(#{1,6}[ \t]*)?" + _MD +
    r"(?:(?:\d{1,2}(?:\.\d+)*\.?|[IVXLC]+\.|[A-Z]\.)[ \t]+)?"     # "7. References", not "118 References"
    r"(?:references|bibliography|reference[ \t]+list|works[ \t]+cited|literature[ \t]+cited|"
    r"cited[ \t]+literature|参考文献|參考文獻)" + _MD + r"[ \t]*[.:：]?[ \t]*" + _MD + r"[ \t\x00\r]*$",
    re.IGNORECASE | re.MULTILINE)
# "References [1] Foo ..." or "References1. Foo": the heading glued to the first entry
_REF_HEADING_GLUED = re.compile(r"^[ \t\x00]*(?:References|REFERENCES|Bibliography)[ \t]*"
                                r"(?=\[1\]|1\.[ \t]+[A-Z])", re.MULTILINE)
_END_HEADING = re.compile(
    r"^[ \t\x00]*(?:#{1,6}[ \t]*)?" + _MD + r"(?:(?:[A-Z]|\d+)\.?[ \t]+)?"
    r"(?:Appendix|APPENDIX|Appendices|APPENDICES|Supplementary|SUPPLEMENTARY|Supplemental|"
    r"SUPPLEMENTAL|Acknowledg(?:e)?ments?|ACKNOWLEDG(?:E)?MENTS?)\b[^\n]{0,90}$",
    re.MULTILINE)
_MD_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+\S", re.MULTILINE)
# LaTeX appendices without the word: "A Omitted Algorithm Details" ... "B.1 Freedman's Inequality";
# a letter heading counts when a "B ..." or "A.1 ..." heading follows it
_LETTER_HEADING = re.compile(r"^[ \t]*A[ \t]+[A-Z][\w'’\-]*(?:[ \t]+[\w'’\-:,()!?+]+){0,10}[ \t]*$", re.MULTILINE)
_NEXT_LETTER_HEADING = re.compile(r"^[ \t]*(?:B|A\.1)[ \t]+[A-Z][\w'’\-]*(?:[ \t]+[\w'’\-:,()!?+]+){0,10}[ \t]*$",
                                  re.MULTILINE)
# a journal's author biographies after the list: "Sinno Jialin Pan received the MS ...", "John Dilley is a ..."
_BIOGRAPHY = re.compile(r"^[ \t]*[A-Z][a-z\u00C0-\u024F]+(?:[ \t]+[A-Z][\w.'’\-]*){1,3}[ \t]+(?:received[ \t]+(?:the|his|her)|"
                        r"is[ \t]+(?:a|an|currently|the)[ \t]+(?:principal|senior|professor|associate|assistant|"
                        r"research|software|lead|chief|distinguished|technical|member|fellow|ph\.?d))\b", re.MULTILINE)
_RECEIVED = re.compile(r"^[ \t]*(?:Received|RECEIVED)[ \t]+(?:\d{1,2}[ \t]+)?[A-Za-z]+\.?[ \t]+(?:\d{1,2},?[ \t]+)?"
                       r"(?:19|20)\d\d\b", re.MULTILINE)
# a list without a heading: lines that start with labels ("[1] ...", "[ACL87] ...")
_LABEL_LINE = re.compile(r"^[ \t]*(?:\[(\d{1,3}|[A-Z][A-Za-z+\-.]{0,8}\d{2}[a-z]?)\][ \t]*\S|"
                         r"(\d{1,3})\.[ \t]+[A-Za-z\u00C0-\u024F])", re.MULTILINE)
_A_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
MIN_UNHEADED = 5


def find_reference_section(text: str) -> tuple[int, int] | None:
    """Code-point range ``(start, end)`` of the reference list, or ``None``.

    The list starts after the last ``References`` / ``Bibliography`` heading (Markdown ``##``
    headings and numbered headings included) and runs to the end of the text, or to an
    ``Appendix`` / ``Supplementary`` / ``Acknowledgements`` heading, or, after a Markdown
    heading, to the next Markdown heading of the same or a higher level.
    """
    if not isinstance(text, str) or not text:
        return None
    found = _list_start(text)
    if found is None:
        return None
    start, md_level = found
    return start, max(start, _list_end(text, start, md_level))


def _list_start(text: str) -> tuple[int, int] | None:
    """Where the list starts (after the last heading), and the heading's Markdown level (0 for
    none); None without a heading."""
    heading = _best_heading(text, list(_REF_HEADING.finditer(text)))
    glued_lines = _line_matches(text, _REF_HEADING_GLUED, _GLUED_WORDS)
    glued = glued_lines[-1] if glued_lines else None
    if heading is not None and (glued is None or heading.start() >= glued.start()):
        nl = text.find("\n", heading.end())
        start = len(text) if nl < 0 else nl + 1
        return start, len(heading.group(1).strip()) if heading.group(1) else 0
    if glued is not None:
        return glued.end(), 0
    unheaded = _unheaded_list(text)
    if unheaded is not None:
        return unheaded, 0
    return None


# every line _REF_HEADING_GLUED matches holds one of these
_GLUED_WORDS = ("References", "REFERENCES", "Bibliography")


def _line_matches(text: str, pattern: re.Pattern, words: tuple[str, ...]) -> list[re.Match]:
    """``list(pattern.finditer(text))`` for a MULTILINE pattern whose matches are lines, or
    their starts (from ``^``, never past the line's end), holding one of ``words`` as written:
    the pattern is tried at the start of the lines that hold a word only (a regex scanning
    30 kB for line starts is slower than ``str.find``)."""
    starts = set()
    for word in words:
        i = text.find(word)
        while i >= 0:
            starts.add(text.rfind("\n", 0, i) + 1)
            i = text.find(word, i + len(word))
    out = []
    for start in sorted(starts):
        m = pattern.match(text, start)
        if m is not None:
            out.append(m)
    return out


def _best_heading(text: str, headings: list[re.Match]) -> re.Match | None:
    """The last heading, unless an earlier one (in the last 60% of the text, not a table of
    contents) heads a list with over twice the years: a short second list after an appendix
    ("References" of a corrigendum) does not hide the paper's own."""
    if len(headings) < 2:
        return headings[-1] if headings else None
    best, best_years = headings[-1], -1
    for i in range(len(headings) - 1, -1, -1):
        h = headings[i]
        if i < len(headings) - 1 and h.start() < 0.4 * len(text):
            break
        start = text.find("\n", h.end()) + 1 or len(text)
        level = len(h.group(1).strip()) if h.group(1) else 0
        end = _list_end(text, start, level)
        if i + 1 < len(headings):
            end = min(end, headings[i + 1].start())
        years = len(_A_YEAR.findall(text, start, max(start, end)))
        if years > 2 * best_years if best_years > 0 else years > best_years:
            best, best_years = h, years
    return best


def _unheaded_list(text: str) -> int | None:
    """Where a list without a heading starts: the last run of at least MIN_UNHEADED labelled
    lines in the last 70% of the text (numbers counting up from 1, or author-year keys like
    ``[ACL87]`` in alphabetical order), each within a few lines of the previous one."""
    runs: list[list[re.Match]] = []
    for m in _LABEL_LINE.finditer(text, int(0.3 * len(text))):
        if runs and m.start() - runs[-1][-1].end() < 600:
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in reversed(runs):
        labels = [m.group(1) or m.group(2) for m in run]
        if len(labels) < MIN_UNHEADED:
            continue
        if any(m.group(2) for m in run) and not all(m.group(2) for m in run):
            continue
        with_year = sum(1 for a, b in zip(run, run[1:]) if _A_YEAR.search(text, a.start(), b.start()))
        if with_year < 0.6 * (len(run) - 1):
            continue               # numbered paragraphs or steps, not entries
        if labels[0].isdigit():
            ok = labels[0] == "1" and all(b.isdigit() and 0 < int(b) - int(a) <= 3 for a, b in zip(labels, labels[1:]))
        else:
            keys = [k.lower() for k in labels]
            ok = all(not k.isdigit() for k in keys) and \
                sum(a <= b for a, b in zip(keys, keys[1:])) >= 0.8 * (len(keys) - 1)
        if ok:
            return run[0].start()
    return None


def _list_end(text: str, start: int, md_level: int) -> int:
    """Where the list ends: an appendix-like heading, a Markdown heading of the list's level or
    higher, else the end of the text."""
    end = len(text)
    m = _END_HEADING.search(text, start)
    # a heading line that is too long or ends like an entry is text, not a heading
    while m is not None and (len(m.group().strip()) > 100 or re.search(r"(?:19|20)\d\d\.\s*$", m.group())):
        m = _END_HEADING.search(text, m.end())
    if m is not None:
        end = m.start()
    r = _RECEIVED.search(text, start, end)
    if r is not None:
        end = r.start()           # a journal's "Received September 29, 2000" after the list
    b = _BIOGRAPHY.search(text, start, end)
    if b is not None:
        end = b.start()
    for h in _LETTER_HEADING.finditer(text, start, end):
        if _NEXT_LETTER_HEADING.search(text, h.end(), end):
            end = h.start()
            break
    if md_level:
        for h in _MD_HEADING.finditer(text, start, end):
            if len(h.group(1)) <= md_level:
                return h.start()
    return end
