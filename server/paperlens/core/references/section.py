"""Where a paper's own reference list is: after its last ``References`` heading, to the end or
to an ``Appendix`` / ``Acknowledgements`` heading (or the next Markdown heading of its level)."""
from __future__ import annotations

import re

__all__ = ["find_reference_section"]


_MD = r"(?:\*\*|__|\*|_)?"
_REF_HEADING = re.compile(
    r"^[ \t\x00]*(#{1,6}[ \t]*)?" + _MD +
    r"(?:(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.|[A-Z]\.)[ \t]+)?"
    r"(?:references|bibliography|reference[ \t]+list|works[ \t]+cited|literature[ \t]+cited|"
    r"cited[ \t]+literature)" + _MD + r"[ \t]*[.:]?[ \t]*" + _MD + r"[ \t\x00\r]*$",
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
    heading = None
    for m in _REF_HEADING.finditer(text):
        heading = m
    glued = None
    for m in _REF_HEADING_GLUED.finditer(text):
        glued = m
    if heading is not None and (glued is None or heading.start() >= glued.start()):
        nl = text.find("\n", heading.end())
        start = len(text) if nl < 0 else nl + 1
        return start, len(heading.group(1).strip()) if heading.group(1) else 0
    if glued is not None:
        return glued.end(), 0
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
    if md_level:
        for h in _MD_HEADING.finditer(text, start, end):
            if len(h.group(1)) <= md_level:
                return h.start()
    return end
