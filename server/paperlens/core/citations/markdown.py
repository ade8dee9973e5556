"""Pandoc citations in Markdown: ``[@key, p. 3; -@other]``, ``@key`` and ``@{odd key}``."""
from __future__ import annotations

import re

from paperlens.core.models import CitationKey, Span

from .common import (
    BLANK_LINE, LOOKBACK, MAX_PARTIAL, CompletionContext, is_word, item_end, walk_back,
)

# Pandoc's simple citation key: starts with a word character; internal punctuation
# ":.#$%&-+?<>~/" only when followed by a word character, so a key never ends with one.
_PANDOC_KEY = r"\w(?:\w|[:.#$%&\-+?<>~/](?=\w))*"
_PANDOC_AT = re.compile(r"@(?:(" + _PANDOC_KEY + r")|\{([^{}\n]*)\})")
KEY_AT = re.compile(r"@(" + _PANDOC_KEY + r")")
KEY_TAIL = re.compile(r"(?:\w|[:.#$%&\-+?<>~/](?=\w))*")
_PANDOC_PUNCT = frozenset(":.#$%&-+?<>~/")
# ``[...]`` holding an ``@``: the brackets of a bracketed citation.
_MD_BRACKET = re.compile(r"\[[^\[\]@]*@[^\[\]]*\]")
_BRACED_TAIL = re.compile(r"[^{}\n@]*\}")
_NONSPACE_TAIL = re.compile(r"[^\s{}]*")


def partial_key_char(ch: str) -> bool:
    """Characters a key being typed may hold (trailing punctuation included)."""
    return is_word(ch) or ch in _PANDOC_PUNCT


def _md_at_ok(masked: str, at: int) -> bool:
    """An ``@`` at ``at`` starts a citation unless it follows a word char or a backslash."""
    if at == 0:
        return True
    prev = masked[at - 1]
    return not (is_word(prev) or prev == "\\")


def _md_dash(masked: str, at: int) -> bool:
    """True for ``-@key`` (author suppressed): a dash right before ``@``, not in a word."""
    return at > 0 and masked[at - 1] == "-" and (at == 1 or not is_word(masked[at - 2]))


def _md_open_bracket(masked: str, at: int) -> int:
    """Offset of the ``[`` still open at ``at`` (within ``LOOKBACK`` characters), or -1."""
    open_at = masked.rfind("[", max(0, at - LOOKBACK), at)
    return open_at if open_at >= 0 and masked.find("]", open_at, at) < 0 else -1


def _md_command(masked: str, at: int) -> str:
    """Command of a citation being typed: ``[@`` / ``[-@`` after an unclosed ``[``."""
    command = ("-@" if _md_dash(masked, at) else "@")
    if _md_open_bracket(masked, at) >= 0:
        command = "[" + command
    return command


def find_keys(text: str, masked: str) -> list[CitationKey]:
    """The keys of the ``@key`` and ``@{key}`` citations of ``masked``, sliced from ``text``."""
    found: list[CitationKey] = []
    brackets = [m.span() for m in _MD_BRACKET.finditer(masked)]
    b = 0  # index of the first bracket group not entirely before the current "@"
    for m in _PANDOC_AT.finditer(masked):
        at = m.start()
        if not _md_at_ok(masked, at):
            continue
        while b < len(brackets) and brackets[b][1] <= at:
            b += 1
        bracketed = b < len(brackets) and brackets[b][0] < at
        if m.group(1) is not None:
            start, end = m.span(1)
        else:
            start, end = m.span(2)
            if not masked[start:end].strip():
                continue
        command = ("-@" if _md_dash(masked, at) else "@")
        if bracketed:
            command = "[" + command
        found.append(CitationKey(text[start:end], Span(start, end), "pandoc", command))
    return found


def completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    """The key being typed after ``@`` or ``@{`` at ``offset``, or None."""
    start = walk_back(masked, offset, partial_key_char)
    if start is None:
        return None
    at = start - 1
    if at >= 0 and masked[at] == "@":
        if start < offset and not is_word(masked[start]):
            return None  # a key starts with a letter, digit or "_"
        if not _md_at_ok(masked, at):
            return None
        end = KEY_TAIL.match(masked, offset).end()
        return CompletionContext(
            text[start:offset], Span(start, end), "pandoc", _md_command(masked, at)
        )
    # ``@{braced key`` being typed
    brace = masked.rfind("@{", max(0, offset - MAX_PARTIAL), offset)
    if brace < 0 or not _md_at_ok(masked, brace):
        return None
    inner = masked[brace + 2:offset]
    if any(ch in inner for ch in "{}\n@"):
        return None
    tail = _BRACED_TAIL.match(masked, offset)
    end = tail.end() - 1 if tail else _NONSPACE_TAIL.match(masked, offset).end()
    return CompletionContext(
        text[brace + 2:offset], Span(brace + 2, end), "pandoc", _md_command(masked, brace)
    )


def insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` at ``offset`` (as :func:`.latex.insertion`): another
    item after the one under the cursor or in the open bracketed citation, else a new one."""
    if context is not None:
        end = context.span.end
        if context.command.startswith("["):
            return item_end(masked, end), "; @" + key
        if masked.startswith("@{", context.span.start - 2) and masked.startswith("}", end):
            end += 1
        return end, "; @" + key
    open_at = _md_open_bracket(masked, offset)
    if open_at >= 0 and not BLANK_LINE.search(masked, open_at, offset) and any(
        _md_at_ok(masked, m.start()) for m in _PANDOC_AT.finditer(masked, open_at + 1, offset)
    ):
        return offset, ("@" if masked[open_at + 1:offset].rstrip().endswith(";") else "; @") + key
    return offset, "[@" + key + "]"
