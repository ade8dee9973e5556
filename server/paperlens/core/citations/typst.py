"""Typst citations: ``@label`` references and ``#cite(<label>, label("key"))``."""
from __future__ import annotations

import re

from paperlens.core.models import CitationKey, Span

from .common import LOOKBACK, CompletionContext, is_word, walk_back

# Typst reference ``@label``: word characters, "-", "_", ":" and "."; trailing "." and ":"
# belong to the sentence, not the label (as in Typst's own lexer).
_TYPST_AT = re.compile(r"@(\w[\w\-]*(?:[:.]+[\w\-]+)*)")
_TYPST_TAIL = re.compile(r"[\w\-]*(?:[:.]+[\w\-]+)*")
_TYPST_LABEL_TAIL = re.compile(r"[\w\-:.]*")
# ``#cite(`` followed by its positional labels, ``<key>`` or ``label("key")``, each followed
# by a comma or the closing parenthesis (named arguments such as ``supplement:`` end the
# list).  No nested repetition over free text, so matching stays linear.
_TYPST_CITE = re.compile(
    r"#cite\(\s*((?:(?:<[\w\-:.]+>|label\(\s*\"[^\"\\\n]*\"\s*\))\s*(?:,\s*|(?=\))))+)"
)
_TYPST_CITE_ARG = re.compile(r"<([\w\-:.]+)>|\blabel\(\s*\"([^\"\\\n]*)\"\s*\)")
# ``#cite(`` and labels, each followed by a comma: then ``<`` (a label being typed), nothing
# (a label can follow) or one more label (a comma can follow).
_TYPST_CITE_LABEL = r"(?:<[\w\-:.]*>|label\(\s*\"[^\"\n]*\"\s*\))"
_TYPST_CITE_ARGS = r"#cite\(\s*(?:" + _TYPST_CITE_LABEL + r"\s*,\s*)*"
_TYPST_CITE_HEAD = re.compile(_TYPST_CITE_ARGS + "<")
_TYPST_CITE_OPEN = re.compile(_TYPST_CITE_ARGS)
_TYPST_CITE_LAST = re.compile(_TYPST_CITE_ARGS + _TYPST_CITE_LABEL + r"\s*")


def _typst_label_char(ch: str) -> bool:
    return is_word(ch) or ch in "-:."


def find_keys(text: str, masked: str) -> list[CitationKey]:
    """The labels of the ``@label`` references and ``#cite(..)`` calls of ``masked``."""
    found: list[CitationKey] = []
    for m in _TYPST_AT.finditer(masked):
        if m.start() > 0 and is_word(masked[m.start() - 1]):
            continue  # e-mail address or similar
        start, end = m.span(1)
        found.append(CitationKey(text[start:end], Span(start, end), "typst", "@"))
    for m in _TYPST_CITE.finditer(masked):
        for arg in _TYPST_CITE_ARG.finditer(masked, m.start(1), m.end(1)):
            group = 1 if arg.group(1) is not None else 2
            start, end = arg.span(group)
            if start < end:
                found.append(CitationKey(text[start:end], Span(start, end), "typst", "#cite"))
    return found


def completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    """The label being typed after ``@`` or inside ``#cite(<`` at ``offset``, or None."""
    start = walk_back(masked, offset, _typst_label_char)
    if start is None or start == 0:
        return None
    at = start - 1
    if masked[at] == "@":
        if start < offset and not is_word(masked[start]):
            return None
        if at > 0 and is_word(masked[at - 1]):
            return None
        end = _TYPST_TAIL.match(masked, offset).end()
        return CompletionContext(text[start:offset], Span(start, end), "typst", "@")
    if masked[at] == "<":
        head = masked.rfind("#cite(", max(0, at - LOOKBACK), at)
        if head < 0 or _TYPST_CITE_HEAD.fullmatch(masked, head, at + 1) is None:
            return None
        end = _TYPST_LABEL_TAIL.match(masked, offset).end()
        return CompletionContext(text[start:offset], Span(start, end), "typst", "#cite")
    return None


def insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` at ``offset`` (as :func:`.latex.insertion`): another
    label inside ``#cite(...)``, else ``@key``."""
    if context is not None:
        end = context.span.end
        if context.command == "@":
            return end, " @" + key
        if masked.startswith(">", end):
            return end + 1, ", <" + key + ">"
        return end, ">, <" + key + ">"
    head = masked.rfind("#cite(", max(0, offset - LOOKBACK), offset)
    if head >= 0 and _TYPST_CITE_OPEN.fullmatch(masked, head, offset):
        return offset, "<" + key + ">"
    if head >= 0 and _TYPST_CITE_LAST.fullmatch(masked, head, offset):
        return offset, ", <" + key + ">"
    if offset > 0 and is_word(masked[offset - 1]):
        return offset, " @" + key          # "word@key" is no reference
    return offset, "@" + key
