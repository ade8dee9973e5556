"""Find citation keys in LaTeX, Markdown (Pandoc), Typst and Org buffers.

Pure Python (only the standard ``re`` module); no protocol types.  Every public function
takes the whole buffer as a ``str`` and works in code-point offsets, the same unit as
:class:`~paperlens.core.models.Span`.

How it works
------------
1. *Masking.*  Regions in which citations do not count (LaTeX ``%`` comments, Markdown
   code fences / code spans / HTML comments / autolinks, Typst raw text and comments,
   Org source blocks and comment lines) are overwritten with spaces, newlines kept.  The
   masked copy has exactly the same length as the original, so every offset found in it is
   an offset into the original text, and outside the masked regions both are identical.
2. *Scanning.*  Precompiled, backtracking-safe regular expressions find the citing syntax
   in the masked copy.  Key text is always sliced from the original buffer, so
   ``text[span.start:span.end] == key`` holds by construction.

3. *Windows.*  Whether a key is a key depends only on the text around it, from the start
   of its command to the end of its key group, a few hundred characters at most (a LaTeX
   comment reaches to the end of its line; a Markdown code fence can mask the rest of the
   document, which is why the mask is always computed as a whole, or line by line for
   LaTeX).  So :func:`citation_at` and LaTeX's :func:`completion_context` read a window
   around the cursor, and :class:`CitationScan` keeps a document's keys across its edits,
   rescanning only a window around what changed: in a 2 MB draft a keystroke or a hover
   costs what a page costs.  Windows reach :data:`REACH` characters beyond what they must
   decide, more than any citation spans (a citation whose options and keys run over more
   than that, without a paragraph break, is the only thing a window can read wrongly).

Nothing here raises on odd input: unknown languages, non-``str`` arguments and
out-of-range offsets give ``[]`` or ``None``.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from paperlens.core.models import CitationKey, Span

__all__ = [
    "LANGUAGES",
    "CitationScan",
    "CompletionContext",
    "Insertion",
    "LatexMacro",
    "MacroDefinition",
    "bibliography_files",
    "citation_at",
    "citation_macros",
    "common_affixes",
    "completion_context",
    "find_citations",
    "insertion",
    "language_for",
    "latex_bibliography_names",
    "latex_macro_definitions",
    "masked_text",
    "work_done",
]

LANGUAGES = ("latex", "markdown", "typst", "org")

# ``CitationKey.syntax`` / ``CompletionContext.syntax`` value for each language.
_SYNTAX = {"latex": "latex", "markdown": "pandoc", "typst": "typst", "org": "org"}

# Longest partial key looked at backwards from the cursor during completion.
_MAX_PARTIAL = 256
# How far (in characters) we look back for the opening of a citation around the cursor.
_LOOKBACK = 4000
# How far the text around a key can decide whether it is one (see "Windows" above).
REACH = 16384


@dataclass(frozen=True)
class CompletionContext:
    """Where a citation key is being typed.

    ``prefix`` is the part of the key before the cursor, ``span`` the range of the whole
    partial key around the cursor (the text a completion replaces; empty at the cursor
    when nothing has been typed yet), ``syntax`` one of ``latex``, ``pandoc``, ``typst``,
    ``org`` and ``command`` the citing command (``\\citep``, ``[@``, ``@``, ``#cite``,
    ``[cite:`` ...).
    """

    prefix: str
    span: Span
    syntax: str
    command: str


@dataclass(frozen=True)
class Insertion:
    """What to write for a citation key at a position: ``text`` replaces ``span`` (an empty
    span: ``text`` is inserted at ``span.start``)."""

    span: Span
    text: str


# ---------------------------------------------------------------------------------------
# Language detection
# ---------------------------------------------------------------------------------------

_LANGUAGE_IDS = {
    "latex": "latex",
    "tex": "latex",
    "plaintex": "latex",
    "context": None,
    "bibtex": None,
    "markdown": "markdown",
    "pandoc": "markdown",
    "rmd": "markdown",
    "rmarkdown": "markdown",
    "quarto": "markdown",
    "typst": "typst",
    "org": "org",
}

_SUFFIXES = {
    "tex": "latex",
    "ltx": "latex",
    "sty": "latex",
    "cls": "latex",
    "md": "markdown",
    "markdown": "markdown",
    "qmd": "markdown",
    "rmd": "markdown",
    "typ": "typst",
    "org": "org",
}


def language_for(path_or_language_id: str) -> str | None:
    """Map an LSP ``languageId`` or a file name / path / URI to one of :data:`LANGUAGES`.

    Language ids are matched case-insensitively first (``"tex"`` -> ``"latex"``,
    ``"quarto"`` -> ``"markdown"``, ``"bibtex"`` -> ``None``); otherwise the file suffix
    decides (``.tex .ltx .sty .cls`` -> latex, ``.md .markdown .qmd .rmd`` -> markdown,
    ``.typ`` -> typst, ``.org`` -> org).  Anything else gives ``None``.
    """
    if not isinstance(path_or_language_id, str):
        return None
    value = path_or_language_id.strip()
    lowered = value.lower()
    if lowered in _LANGUAGE_IDS:
        return _LANGUAGE_IDS[lowered]
    # A path or URI: look at the suffix of the last path segment (ignore ?query/#fragment
    # of URIs only when the value looks like a URI, a file name may contain '#').
    if "://" in value:
        value = re.split(r"[?#]", value, maxsplit=1)[0]
    name = re.split(r"[/\\]", value)[-1]
    if "." not in name:
        return None
    return _SUFFIXES.get(name.rsplit(".", 1)[1].lower())


def _normalize_language(language: object) -> str | None:
    """Accept one of LANGUAGES, or anything :func:`language_for` understands."""
    if not isinstance(language, str):
        return None
    if language in LANGUAGES:
        return language
    return language_for(language)


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------

def _is_word(ch: str) -> bool:
    """Same notion of "word character" as ``\\w`` in ``str`` regexes."""
    return ch.isalnum() or ch == "_"


def _blank(segment: str) -> str:
    """Spaces in place of every character of ``segment`` except newlines."""
    if "\n" not in segment:
        return " " * len(segment)
    return "\n".join(" " * len(part) for part in segment.split("\n"))


def _apply_mask(text: str, ranges: list[tuple[int, int]]) -> str:
    """Copy of ``text`` with the (sorted, disjoint) ``ranges`` blanked out."""
    if not ranges:
        return text
    n = len(text)
    out: list[str] = []
    pos = 0
    for start, end in ranges:
        end = min(end, n)
        if start < pos or start >= end:
            continue
        out.append(text[pos:start])
        out.append(_blank(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _inside(ranges: list[tuple[int, int]], offset: int) -> bool:
    """True when a cursor at ``offset`` sits inside one of the masked ``ranges``.

    Ranges are half-open; line comments include their newline and regions running to
    the end of the buffer end at ``len(text) + 1``, so "strictly inside" is the right
    test in every case (a cursor typing at the end of a comment line is inside it, a
    cursor just after a closing backtick is not).
    """
    for start, end in ranges:
        if start >= offset:
            break
        if offset < end:
            return True
    return False


def _walk_back(text: str, offset: int, allowed) -> int | None:
    """Start of the run of characters satisfying ``allowed`` that ends at ``offset``.

    Gives up (``None``) on runs longer than ``_MAX_PARTIAL`` so a cursor inside a huge
    word costs nothing.
    """
    i = offset
    limit = max(0, offset - _MAX_PARTIAL - 1)
    while i > 0 and allowed(text[i - 1]):
        i -= 1
        if i <= limit:
            return None
    return i


_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
# The rest of one item of a bracketed citation (Pandoc ``[@a, p. 3; @b]``, Org ``[cite:@a;@b]``).
_ITEM_REST = re.compile(r"[^;\[\]]*")


def _item_end(masked: str, pos: int) -> int:
    """End of the bracketed citation item at ``pos``: the next ``;`` or ``]`` of its bracket
    (``pos`` itself when neither follows in the paragraph)."""
    end = _ITEM_REST.match(masked, pos, min(len(masked), pos + _LOOKBACK)).end()
    if end < len(masked) and masked[end] in ";]" and not _BLANK_LINE.search(masked, pos, end):
        return end
    return pos

# Names of bibliography files that are not BibTeX; they are not reported.
_NON_BIB_SUFFIXES = frozenset(
    {"json", "yaml", "yml", "ris", "xml", "enl", "wos", "medline", "copac", "nbib", "csl"}
)


def _bib_name(raw: str, always_append: bool = False) -> str | None:
    """A bibliography file name as written, with ``.bib`` appended when missing.

    ``always_append`` follows BibTeX (``\\bibliography{refs}`` means ``refs.bib``
    whatever the name).  Otherwise names with a known non-BibTeX suffix (CSL JSON/YAML,
    RIS, ...) are dropped.
    """
    name = raw.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    if not name:
        return None
    if name.lower().endswith(".bib"):
        return name
    if not always_append:
        base = re.split(r"[/\\]", name)[-1]
        if "." in base and base.rsplit(".", 1)[1].lower() in _NON_BIB_SUFFIXES:
            return None
    return name + ".bib"


def _dedupe(names) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.add(name)
            out.append(name)
    return out


# ---------------------------------------------------------------------------------------
# Masking: regions where citations do not count
# ---------------------------------------------------------------------------------------

def _latex_ranges(text: str) -> list[tuple[int, int]]:
    """``%`` comments: from an unescaped ``%`` to the end of its line (newline included)."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    while True:
        i = text.find("%", pos)
        if i < 0:
            break
        j = i
        while j > 0 and text[j - 1] == "\\":
            j -= 1
        if (i - j) % 2:  # odd number of backslashes: "\%" is a literal percent sign
            pos = i + 1
            continue
        nl = text.find("\n", i)
        end = n if nl < 0 else nl
        ranges.append((i, end + 1))
        pos = end + 1
    return ranges


# Markdown regions are found by two scans merged in document order (each pattern starts
# with a literal or a character class, which keeps the regex engine's fast search).
# A fence opens at a line start: up to three spaces, then ``` or ~~~ (3 or more); a
# backtick fence's info string cannot contain a backtick.
_MD_FENCE = re.compile(r"\n([ \t]{0,3}(`{3,}(?=[^`\n]*$)|~{3,}))", re.M)
_MD_FENCE_FIRST = re.compile(r"[ \t]{0,3}(`{3,}(?=[^`\n]*$)|~{3,})", re.M)
# A backtick run (code span delimiter) or a "<" (HTML comment or autolink).
_MD_INLINE = re.compile(r"[`<]`*")
_MD_TICK_RUN = re.compile(r"(?<!`)`+")     # a whole run of backticks
_MD_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*>")
_MD_FENCE_CLOSE: dict[tuple[str, int], re.Pattern] = {}


def _md_fence_close(ch: str, count: int) -> re.Pattern:
    key = (ch, count)
    pat = _MD_FENCE_CLOSE.get(key)
    if pat is None:
        pat = re.compile(r"^[ \t]{0,3}" + re.escape(ch) + "{%d,}[ \t\r]*$" % count, re.M)
        _MD_FENCE_CLOSE[key] = pat
    return pat


def _md_next_fence(text: str, pos: int) -> tuple[int, str] | None:
    """``(line_start, fence_run)`` of the first fence opening at or after ``pos``."""
    if pos == 0:
        m = _MD_FENCE_FIRST.match(text)
        if m is not None:
            return 0, m.group(1)
    m = _MD_FENCE.search(text, max(0, pos - 1))
    return None if m is None else (m.start(1), m.group(2))


def _markdown_ranges(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks, inline code spans, HTML comments and ``<scheme:...>`` links."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    fence = _md_next_fence(text, 0)
    inline = _MD_INLINE.search(text)
    para_from, para_end = -1, -1     # cache: first blank line at or after para_from
    # the paragraph's backtick runs, indexed once: run length -> their starts, in order
    para_runs: dict[int, list[int]] | None = None
    while pos < n:
        # Both lookups are cached and only redone once the scan has moved past them.
        if fence is not None and fence[0] < pos:
            fence = _md_next_fence(text, pos)
        if inline is not None and inline.start() < pos:
            inline = _MD_INLINE.search(text, pos)
        if fence is not None and (inline is None or fence[0] <= inline.start()):
            start, run = fence
            nl = text.find("\n", start)
            close = None if nl < 0 else _md_fence_close(run[0], len(run)).search(text, nl + 1)
            if close is None:  # an unclosed fence runs to the end of the document
                ranges.append((start, n + 1))
                break
            cl = text.find("\n", close.end())
            end = n + 1 if cl < 0 else cl + 1
            ranges.append((start, end))
            pos = end
        elif inline is not None:
            start, tok = inline.start(), inline.group()
            if tok[0] == "`":
                # A code span ends at the next run of exactly as many backticks within
                # the same paragraph; otherwise the run is literal text.  The paragraph's
                # runs are indexed by length once, so that runs of ever new lengths
                # ("` x `` x ``` ...") cost a lookup each, not a search of the paragraph.
                after = inline.end()
                if not para_from <= after <= para_end:
                    blank = _BLANK_LINE.search(text, after)
                    para_from, para_end = after, (n if blank is None else blank.start())
                    para_runs = None
                if para_runs is None:
                    para_runs = {}
                    for m in _MD_TICK_RUN.finditer(text, para_from, para_end):
                        para_runs.setdefault(m.end() - m.start(), []).append(m.start())
                count = len(tok)
                starts = para_runs.get(count)
                i = bisect_left(starts, after) if starts else 0
                if not starts or i == len(starts):
                    pos = after
                    continue
                close_end = starts[i] + count
                ranges.append((start, close_end))
                pos = close_end
            elif text.startswith("<!--", start):
                close_at = text.find("-->", start + 4)
                if close_at < 0:
                    ranges.append((start, n + 1))
                    break
                ranges.append((start, close_at + 3))
                pos = close_at + 3
            else:
                auto = _MD_AUTOLINK.match(text, start)
                if auto is not None:
                    ranges.append((start, auto.end()))
                pos = start + 1 if auto is None else auto.end()
        else:
            break
    return ranges


# A backtick run, "//" or "/*".  (Written with a leading character class, which keeps the
# regex engine's fast search; a plain alternation is three times slower.)
_TYPST_SKIP = re.compile(r"[`/](?:(?<=`)`*|(?<=/)[/*])")
_TYPST_URL = re.compile(r"(?<![A-Za-z])(?:http|https)://[^\s<>()\[\]{}\"]*")


def _typst_ranges(text: str) -> list[tuple[int, int]]:
    """Raw text (```` ```...``` ````, `` `...` ``) and ``//`` / ``/* */`` comments."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    while pos < n:
        m = _TYPST_SKIP.search(text, pos)
        if m is None:
            break
        start, tok = m.start(), m.group()
        if tok == "//":
            if start > 0 and text[start - 1] == ":":
                # "scheme://" is no comment; Typst turns http(s) URLs into links, whose
                # text ("https://x.org/@user") must not yield references either.
                link = _TYPST_URL.match(text, max(0, start - 6)) or _TYPST_URL.match(
                    text, max(0, start - 5)
                )
                if link is None or link.end() <= start:
                    pos = m.end()
                    continue
                ranges.append(link.span())
                pos = link.end()
                continue
            nl = text.find("\n", start)
            end = n + 1 if nl < 0 else nl + 1
        elif tok == "/*":
            close = text.find("*/", m.end())
            end = n + 1 if close < 0 else close + 2
        elif len(tok) == 2:  # `` is an empty raw
            end = m.end()
        else:
            # ` ... ` or ``` ... ``` (three or more: closed by the same number of backticks)
            closer = "`" if len(tok) == 1 else tok
            close = text.find(closer, m.end())
            end = n + 1 if close < 0 else close + len(closer)
        ranges.append((start, end))
        pos = end
    return ranges


_ORG_SKIP = re.compile(
    r"^[ \t]*(?:#\+begin_(?P<blk>src|example|export|comment)\b|#(?=[ \t\r]|$))",
    re.M | re.I,
)
_ORG_BLOCK_END: dict[str, re.Pattern] = {}


def _org_ranges(text: str) -> list[tuple[int, int]]:
    """Source/example/export/comment blocks and ``# comment`` lines."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    unclosed: set[str] = set()  # block kinds with no end line after some point
    while pos < n:
        m = _ORG_SKIP.search(text, pos)
        if m is None:
            break
        start = m.start()
        nl = text.find("\n", start)
        line_end = n + 1 if nl < 0 else nl + 1
        block = m.group("blk")
        if block is None:  # comment line
            ranges.append((start, line_end))
            pos = line_end
            continue
        kind = block.lower()
        if kind in unclosed:
            pos = line_end
            continue
        end_pat = _ORG_BLOCK_END.get(kind)
        if end_pat is None:
            end_pat = re.compile(r"^[ \t]*#\+end_" + kind + r"\b", re.M | re.I)
            _ORG_BLOCK_END[kind] = end_pat
        close = end_pat.search(text, min(line_end, n))
        if close is None:  # an unclosed block is not a block: just skip its line
            unclosed.add(kind)
            pos = line_end
            continue
        cl = text.find("\n", close.end())
        end = n + 1 if cl < 0 else cl + 1
        ranges.append((start, end))
        pos = end
    return ranges


_RANGE_FINDERS = {
    "latex": _latex_ranges,
    "markdown": _markdown_ranges,
    "typst": _typst_ranges,
    "org": _org_ranges,
}


def _mask(text: str, language: str) -> tuple[str, list[tuple[int, int]]]:
    """Masked copy of ``text`` plus the masked ranges (see the module docstring)."""
    ranges = _RANGE_FINDERS[language](text)
    return _apply_mask(text, ranges), ranges


# ---------------------------------------------------------------------------------------
# LaTeX
# ---------------------------------------------------------------------------------------

# Commands that take one key list: natbib, biblatex, apacite and plain LaTeX.
_LATEX_SINGLE = (
    "cite", "Cite", "citep", "Citep", "citet", "Citet", "citealp", "Citealp",
    "citealt", "Citealt", "citeauthor", "Citeauthor", "citefullauthor", "citeyear",
    "citeyearpar", "citenum", "citetitle", "Citetitle", "citedate", "citeurl",
    "citeA", "citeN", "parencite", "Parencite", "footcite", "footcitetext",
    "textcite", "Textcite", "smartcite", "Smartcite", "supercite", "autocite",
    "Autocite", "fullcite", "footfullcite", "nocite", "notecite", "Notecite",
    "pnotecite", "Pnotecite", "fnotecite", "Fnotecite", "citetalias", "citepalias",
    "citefield", "citename", "citelist",
)
# biblatex multicite commands: ``(pre)(post)`` then several ``[pre][post]{keys}`` groups.
_LATEX_MULTI = frozenset({
    "cites", "Cites", "parencites", "Parencites", "footcites", "footcitetexts",
    "textcites", "Textcites", "smartcites", "Smartcites", "supercites",
    "autocites", "Autocites",
})
# biblatex volume citations: ``\volcite[prenote]{volume}[pages]{key}``.
_LATEX_VOLUME = (
    "volcite", "Volcite", "pvolcite", "Pvolcite", "fvolcite", "Fvolcite", "ftvolcite",
    "svolcite", "Svolcite", "tvolcite", "Tvolcite", "avolcite", "Avolcite",
)

# ``[...]`` optional argument (may hold one level of braces), unrolled for linear time.
_LATEX_OPT = re.compile(r"\s*\[[^\[\]{}]*(?:\{[^{}]*\}[^\[\]{}]*)*\]")
# ``(...)`` global pre/postnote of a multicite command.
_LATEX_PAREN = re.compile(r"\s*\([^()]*\)")
# ``{keys}``; group 2 is empty when the brace is not closed (yet).
_LATEX_BRACE = re.compile(r"\s*\{([^{}]*)(\}?)")
_LATEX_STAR = re.compile(r"\s*\*")
_LATEX_CS = re.compile(r"\\(?:[A-Za-z@]+|.)", re.S)
# One key of a ``{a, b}`` list: after the brace or a comma, up to the next comma or the
# closing brace, surrounded by optional whitespace.  Empty or invalid entries ("a b",
# "\\foo") simply do not match.
_LATEX_KEY_ENTRY = re.compile(r"[{,]\s*([^\s,{}%#~\\\"()=]+)\s*(?=[,}])")
_LATEX_KEY_PARTIAL = re.compile(r"[^\s,{}%#~\\\"()=]*")
# Names of user-defined citation commands that documents can use (no ``@``: those only
# work between ``\makeatletter`` and ``\makeatother``).
_MACRO_NAME = re.compile(r"[A-Za-z]+")
# Longest argument skipped when reading a user command's arguments, longest definition body.
_MAX_ARGUMENT = 4000
_MAX_BODY = 20000


@dataclass(frozen=True)
class LatexMacro:
    """A LaTeX command that cites, beyond the built-in ones: how a document uses it.

    ``like`` is ``"cite"`` for a command used exactly like ``\\cite`` (``[pre][post]{keys}``,
    e.g. one made with biblatex's ``\\DeclareCiteCommand``) and ``"cites"`` for one used like
    ``\\cites``.  Otherwise ``params`` gives the kind of each parameter in TeX's order
    (``"m"`` a mandatory argument, ``"o"`` an optional ``[...]``, ``"s"`` an optional star)
    and ``keys`` the numbers (``#n``, 1-based) of the mandatory parameters that are key lists.
    """

    name: str
    params: tuple[str, ...] = ()
    keys: frozenset = frozenset()
    like: str = ""


@dataclass(frozen=True)
class MacroDefinition:
    """A command definition in LaTeX source (``\\newcommand``, ``\\def``, ``\\let``,
    ``\\DeclareCiteCommand`` ...), before it is known whether the command cites.

    ``body`` is the replacement text (comments blanked), ``alias`` the command a ``\\let``
    copies, ``like`` ``"cite"``/``"cites"`` for biblatex's citation command declarations.
    """

    name: str
    params: tuple[str, ...] = ()
    body: str = ""
    alias: str = ""
    like: str = ""


_VOLUME_PARAMS = ("o", "m", "o", "m")


def _builtin_table() -> dict:
    table: dict = {name: "cite" for name in _LATEX_SINGLE}
    table.update({name: "cites" for name in _LATEX_MULTI})
    for name in _LATEX_VOLUME:
        table[name] = LatexMacro(name, _VOLUME_PARAMS, frozenset({4}))
    return table


_BUILTIN_TABLE = _builtin_table()


class _Commands:
    """The citation commands of a document: name -> how it is read, and one regex for all."""

    __slots__ = ("table", "regex")

    def __init__(self, table: dict) -> None:
        self.table = table
        names = sorted(table, key=len, reverse=True)
        self.regex = re.compile(r"\\(" + "|".join(names) + r")(?![A-Za-z])(\*?)")


_DEFAULT_COMMANDS = _Commands(_BUILTIN_TABLE)
_COMMANDS_CACHE: dict[frozenset, _Commands] = {}


def _commands(macros) -> _Commands:
    """The compiled command set for the built-in commands plus ``macros`` (cached)."""
    if not macros:
        return _DEFAULT_COMMANDS
    try:
        key = macros if isinstance(macros, frozenset) else frozenset(macros)
    except TypeError:
        return _DEFAULT_COMMANDS
    found = _COMMANDS_CACHE.get(key)
    if found is None:
        table = dict(_BUILTIN_TABLE)
        for macro in sorted((m for m in key if isinstance(m, LatexMacro)), key=repr):
            if not isinstance(macro.name, str) or not _MACRO_NAME.fullmatch(macro.name) \
                    or macro.name in _BUILTIN_TABLE:
                continue            # a redefined \cite is still read as \cite
            if macro.like in ("cite", "cites"):
                table[macro.name] = macro.like
            elif macro.keys and all(p in ("m", "o", "s") for p in macro.params):
                table[macro.name] = macro
        found = _Commands(table)
        if len(_COMMANDS_CACHE) >= 64:
            _COMMANDS_CACHE.clear()
        _COMMANDS_CACHE[key] = found
    return found


def _latex_escaped(text: str, backslash_at: int) -> bool:
    """True when the backslash at ``backslash_at`` is the second half of ``\\\\``."""
    j = backslash_at
    while j > 0 and text[j - 1] == "\\":
        j -= 1
    return (backslash_at - j) % 2 == 1


def _latex_groups(masked: str, pos: int, multi: bool, partial: bool):
    """Key groups ``(open_brace, close_brace | None)`` of a cite command ending at ``pos``.

    Skips optional ``[..]`` arguments (at most two per group) and, for multicite
    commands, up to two ``(..)`` arguments first.  An unclosed group is reported (with
    ``None``) only when ``partial`` is set and always ends the list.
    """
    groups: list[tuple[int, int | None]] = []
    p = _skip(_LATEX_PAREN, masked, pos) if multi else pos
    while True:
        p = _key_group(masked, _skip(_LATEX_OPT, masked, p), partial, groups)
        if p is None or not multi:
            break
    return groups


def _skip(pattern: re.Pattern, masked: str, p: int, times: int = 2) -> int:
    """The offset after up to ``times`` arguments matching ``pattern`` (``[..]``, ``(..)``) at ``p``."""
    for _ in range(times):
        m = pattern.match(masked, p)
        if m is None:
            break
        p = m.end()
    return p


def _key_group(masked: str, p: int, partial: bool, groups: list) -> int | None:
    """Append the ``{keys}`` group at ``p`` to ``groups`` (an unclosed one, as ``(open, None)``,
    only when ``partial``); the offset after it, or None when there is no closed group."""
    m = _LATEX_BRACE.match(masked, p)
    if m is None:
        return None
    open_at = m.start(1) - 1
    if not m.group(2):
        if partial:
            groups.append((open_at, None))
        return None
    groups.append((open_at, m.end() - 1))
    return m.end()


def _skip_argument(text: str, p: int, limit: int = _MAX_ARGUMENT) -> int | None:
    """End of the undelimited TeX argument at ``p`` (after spaces): a balanced ``{...}``
    group, a control sequence or one character.  ``None`` when there is none, or when a
    group does not close within ``limit`` characters."""
    n = len(text)
    while p < n and text[p] in " \t\r\n":
        p += 1
    if p >= n or text[p] == "}":
        return None
    if text[p] == "\\":
        m = _LATEX_CS.match(text, p)
        return None if m is None else m.end()
    if text[p] != "{":
        return p + 1
    depth = 0
    i, stop = p, min(n, p + limit)
    while i < stop:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _macro_groups(masked: str, pos: int, macro: LatexMacro, star: bool, partial: bool):
    """Key groups of a user command with parameters (see :func:`_latex_groups`)."""
    params = macro.params
    groups: list[tuple[int, int | None]] = []
    first = 0
    if params[:1] == ("s",):
        first = 1
    elif star:
        return groups                   # "\mycite*{x}": the star is the first argument
    last = max(macro.keys)
    p = pos
    n = len(masked)
    for number in range(first + 1, min(len(params), last) + 1):
        kind = params[number - 1]
        q = p
        while q < n and masked[q] in " \t\r\n":
            q += 1
        if masked.count("\n", p, q) > 1:
            break                       # a paragraph break ends the command's arguments
        if kind in ("s", "o"):
            m = (_LATEX_STAR if kind == "s" else _LATEX_OPT).match(masked, p)
            if m is not None:
                p = m.end()
            continue
        if number in macro.keys:
            p = _key_group(masked, p, partial, groups)
            if p is None:
                break
        else:
            end = _skip_argument(masked, p)
            if end is None:
                break
            p = end
    return groups


def _command_groups(masked: str, pos: int, spec, star: bool, partial: bool):
    if spec == "cite":
        return _latex_groups(masked, pos, False, partial)
    if spec == "cites":
        return _latex_groups(masked, pos, True, partial)
    return _macro_groups(masked, pos, spec, star, partial)


def _latex_find(text: str, masked: str, commands: _Commands = _DEFAULT_COMMANDS) -> list[CitationKey]:
    found: list[CitationKey] = []
    table = commands.table
    for m in commands.regex.finditer(masked):
        if _latex_escaped(masked, m.start()):
            continue
        name = m.group(1)
        command = "\\" + name + m.group(2)
        for open_at, close_at in _command_groups(masked, m.end(), table[name], bool(m.group(2)), False):
            if masked.find("\n", open_at, close_at) >= 0 and _BLANK_LINE.search(
                masked, open_at, close_at
            ):
                break  # a paragraph break cannot be inside an argument: not a key list
            for km in _LATEX_KEY_ENTRY.finditer(masked, open_at, close_at + 1):
                start, end = km.span(1)
                key = text[start:end]
                if key == "*":  # \nocite{*}: every entry, not a key
                    continue
                found.append(CitationKey(key, Span(start, end), "latex", command))
    return found


def _last_command(masked: str, offset: int, commands: _Commands):
    """The match of the last cite command starting less than ``_LOOKBACK`` characters before
    ``offset``, or None."""
    last = None
    for m in commands.regex.finditer(masked, max(0, offset - _LOOKBACK), offset):
        if not _latex_escaped(masked, m.start()):
            last = m
    return last


def _latex_completion(
    text: str, masked: str, offset: int, commands: _Commands = _DEFAULT_COMMANDS
) -> CompletionContext | None:
    last = _last_command(masked, offset, commands)
    if last is None:
        return None
    name = last.group(1)
    spec = commands.table[name]
    for open_at, close_at in _command_groups(masked, last.end(), spec, bool(last.group(2)), True):
        if not (open_at < offset and (close_at is None or offset <= close_at)):
            continue
        before = masked[open_at + 1:offset]
        if "{" in before or "}" in before or _BLANK_LINE.search(before):
            return None
        piece = before[before.rfind(",") + 1:]
        prefix = piece.lstrip()
        if _LATEX_KEY_PARTIAL.fullmatch(prefix) is None:
            return None
        start = offset - len(prefix)
        end = _LATEX_KEY_PARTIAL.match(masked, offset).end()
        return CompletionContext(
            text[start:offset], Span(start, end), "latex", "\\" + name + last.group(2)
        )
    return None


def _latex_awaits_keys(masked: str, offset: int, commands: _Commands) -> bool:
    """True when ``offset`` is right after a cite command whose next argument is a key list:
    ``\\autocite``, ``\\citep[see][]``, ``\\cites{a}[p.~3]`` (``masked`` may end at ``offset``)."""
    last = _last_command(masked, offset, commands)
    if last is None:
        return False
    spec, p = commands.table[last.group(1)], last.end()
    if spec == "cite":
        return _skip(_LATEX_OPT, masked, p) == offset
    if spec == "cites":
        p = _skip(_LATEX_PAREN, masked, p)
        while p < offset:
            p = _skip(_LATEX_OPT, masked, p)
            group = _LATEX_BRACE.match(masked, p)
            if group is None or not group.group(2):
                break
            p = group.end()
        return p == offset
    params = spec.params
    first = 1 if params[:1] == ("s",) else 0
    if last.group(2) and not first:
        return False                    # "\mycite*": the star is the first argument
    for number in range(first + 1, len(params) + 1):
        kind = params[number - 1]
        if kind == "m":
            return number in spec.keys and p == offset
        p = _skip(_LATEX_STAR if kind == "s" else _LATEX_OPT, masked, p, 1)
    return False


def _latex_insertion(text: str, offset: int, key: str, macros, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` (see :func:`insertion`); ``context``: the
    completion context at ``offset`` when the cursor is on a key, else None."""
    if context is not None:
        return context.span.end, "," + key          # after the key under the cursor
    base = _line_start(text, offset - _LOOKBACK - 1)
    masked = _mask(text[base:offset], "latex")[0]
    if _latex_awaits_keys(masked, offset - base, _commands(macros)):
        return offset, "{" + key + "}"
    return offset, "\\cite{" + key + "}"


# --- user-defined citation commands ------------------------------------------------------

_DEF_NAME = r"\s*(?:\{\s*\\([A-Za-z@]+)\s*\}|\\([A-Za-z@]+))"
# Everything that may define a command; the rest of each definition is read by hand.
_DEFINER = re.compile(
    r"\\(newcommand|renewcommand|providecommand|DeclareRobustCommand"
    r"|NewDocumentCommand|RenewDocumentCommand|ProvideDocumentCommand|DeclareDocumentCommand"
    r"|DeclareCiteCommand|DeclareMultiCiteCommand"
    r"|NewCommandCopy|RenewCommandCopy|DeclareCommandCopy|LetLtxMacro|let|[gex]?def)(?![A-Za-z@])"
)
_NAME_AFTER = re.compile(r"\*?" + _DEF_NAME)
_ARITY = re.compile(r"\s*\[\s*([0-9])\s*\]")
_DEF_PARAMS = re.compile(r"\s*\\([A-Za-z@]+)((?:\s*#[1-9])*)\s*(?=\{)")
_LET_TARGET = re.compile(r"\s*=?\s*\\([A-Za-z@]+)(?![A-Za-z@])")
_COPY_TARGET = re.compile(_DEF_NAME)
_ALIAS_BODY = re.compile(r"\s*\\([A-Za-z]+)\s*")
_PARAM_REF = re.compile(r"#([1-9])")


def _xparse_params(spec: str) -> tuple[str, ...] | None:
    """``m``, ``o``, ``O{default}`` and ``s`` of an xparse argument specification (``None``
    for anything else: such commands are not followed)."""
    out: list[str] = []
    i, n = 0, len(spec)
    while i < n:
        ch = spec[i]
        if ch in " \t\r\n+!":
            i += 1
        elif ch in "mos":
            out.append(ch)
            i += 1
        elif ch in "O>":
            end = _skip_argument(spec, i + 1)
            if end is None:
                return None
            if ch == "O":
                out.append("o")
            i = end
        else:
            return None
    return tuple(out) if len(out) <= 9 else None


def _group_body(masked: str, p: int) -> tuple[str, int] | None:
    """``(content, end)`` of the ``{...}`` group at ``p`` (after spaces)."""
    while p < len(masked) and masked[p] in " \t\r\n":
        p += 1
    if p >= len(masked) or masked[p] != "{":
        return None
    end = _skip_argument(masked, p, _MAX_BODY)
    return None if end is None else (masked[p + 1:end - 1], end)


def _definition_at(masked: str, m) -> tuple[MacroDefinition | None, int]:
    """The definition whose defining command ``m`` matched, and where reading stopped."""
    kind = m.group(1)
    p = m.end()
    if kind in ("let", "def", "gdef", "edef", "xdef"):
        if kind == "let":
            head = re.match(r"\s*\\([A-Za-z@]+)", masked[p:p + 200])
            if head is None:
                return None, p
            target = _LET_TARGET.match(masked, p + head.end())
            if target is None:
                return None, p
            return MacroDefinition(head.group(1), alias=target.group(1)), target.end()
        head = _DEF_PARAMS.match(masked, p)
        if head is None:
            return None, p
        group = _group_body(masked, head.end())
        if group is None:
            return None, head.end()
        params = ("m",) * head.group(2).count("#")
        return MacroDefinition(head.group(1), params, group[0]), group[1]
    head = _NAME_AFTER.match(masked, p)
    if head is None:
        return None, p
    name = head.group(1) or head.group(2)
    p = head.end()
    if kind in ("DeclareCiteCommand", "DeclareMultiCiteCommand"):
        like = "cites" if kind == "DeclareMultiCiteCommand" else "cite"
        return MacroDefinition(name, like=like), p
    if kind in ("NewCommandCopy", "RenewCommandCopy", "DeclareCommandCopy", "LetLtxMacro"):
        target = _COPY_TARGET.match(masked, p)
        if target is None:
            return None, p
        return MacroDefinition(name, alias=target.group(1) or target.group(2)), target.end()
    if kind.endswith("DocumentCommand"):
        spec = _group_body(masked, p)
        if spec is None:
            return None, p
        params = _xparse_params(spec[0])
        body = _group_body(masked, spec[1])
        if params is None or body is None:
            return None, spec[1]
        return MacroDefinition(name, params, body[0]), body[1]
    # \newcommand and friends: [n] then an optional [default] for an optional first parameter
    arity = _ARITY.match(masked, p)
    count = 0
    if arity is not None:
        count = int(arity.group(1))
        p = arity.end()
    params = ("m",) * count
    default = _LATEX_OPT.match(masked, p) if count else None
    if default is not None:
        params = ("o",) + params[1:]
        p = default.end()
    body = _group_body(masked, p)
    if body is None:
        return None, p
    return MacroDefinition(name, params, body[0]), body[1]


def latex_macro_definitions(text: str) -> list[MacroDefinition]:
    """Command definitions in LaTeX source, outside comments, in document order.

    Recognised: ``\\newcommand``/``\\renewcommand``/``\\providecommand``/
    ``\\DeclareRobustCommand`` (``[n]`` parameters, ``[default]`` for an optional first one),
    ``\\def``/``\\gdef``/``\\edef``/``\\xdef`` with ``#1#2...`` parameters, xparse's
    ``\\NewDocumentCommand`` and friends (``m``, ``o``, ``O{..}``, ``s`` arguments),
    ``\\let``, ``\\NewCommandCopy``, ``\\LetLtxMacro`` and biblatex's
    ``\\DeclareCiteCommand``/``\\DeclareMultiCiteCommand``.  Whether a command cites is
    decided later, over a whole project, by :func:`citation_macros`.
    """
    if not isinstance(text, str) or "\\" not in text:
        return []
    masked, _ranges = _mask(text, "latex")
    out: list[MacroDefinition] = []
    pos = 0
    while len(out) < 5000:
        m = _DEFINER.search(masked, pos)
        if m is None:
            break
        if _latex_escaped(masked, m.start()):
            pos = m.end()
            continue
        definition, pos = _definition_at(masked, m)
        pos = max(pos, m.end())
        if definition is not None and "@" not in definition.name:
            out.append(definition)
    return out


def _key_parameters(body: str, params: tuple[str, ...], commands: _Commands) -> frozenset:
    """Numbers of the mandatory parameters that ``body`` passes as keys to a citation command."""
    numbers: set[int] = set()
    table = commands.table
    for m in commands.regex.finditer(body):
        if _latex_escaped(body, m.start()):
            continue
        for open_at, close_at in _command_groups(body, m.end(), table[m.group(1)], bool(m.group(2)), False):
            for entry in body[open_at + 1:close_at].split(","):
                ref = _PARAM_REF.fullmatch(entry.strip())
                if ref is not None:
                    n = int(ref.group(1))
                    if n <= len(params) and params[n - 1] == "m":
                        numbers.add(n)
    return frozenset(numbers)


def _as_macro(definition: MacroDefinition, known: dict, commands: _Commands) -> LatexMacro | None:
    name = definition.name
    if definition.like:
        return LatexMacro(name, like=definition.like)
    alias = definition.alias
    if not alias and not definition.params:
        plain = _ALIAS_BODY.fullmatch(definition.body)   # \newcommand{\mycite}{\cite}
        alias = plain.group(1) if plain is not None else ""
    if alias:
        target = known.get(alias)
        if isinstance(target, str):
            return LatexMacro(name, like=target)
        if isinstance(target, LatexMacro):
            return LatexMacro(name, target.params, target.keys, target.like)
        return None
    if not definition.params:
        return None
    keys = _key_parameters(definition.body, definition.params, commands)
    return LatexMacro(name, definition.params, keys) if keys else None


def citation_macros(definitions) -> frozenset:
    """The citation commands among ``definitions`` (from :func:`latex_macro_definitions`,
    usually of every file of a project): commands declared with ``\\DeclareCiteCommand``,
    copies of a citation command (``\\let\\mycite\\cite``) and commands whose body passes
    one of their parameters as the key list of a citation command, e.g.
    ``\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}``.  Definitions may build on
    each other in any order.  When a name is defined several times, the last definition
    that cites is used (conditional definitions in ``\\if...\\else...\\fi`` are all seen).
    """
    defs = [d for d in definitions if isinstance(d, MacroDefinition) and isinstance(d.name, str)
            and _MACRO_NAME.fullmatch(d.name) and d.name not in _BUILTIN_TABLE]
    found: dict[str, LatexMacro] = {}
    for _round in range(min(len(defs), 16) + 1):
        commands = _commands(frozenset(found.values()))
        known: dict = dict(_BUILTIN_TABLE)
        known.update((name, macro.like or macro) for name, macro in found.items())
        new: dict[str, LatexMacro] = {}
        for definition in defs:
            macro = _as_macro(definition, known, commands)
            if macro is not None:
                new[definition.name] = macro
        if new == found:
            break
        found = new
    return frozenset(found.values())


# ---------------------------------------------------------------------------------------
# Pandoc Markdown
# ---------------------------------------------------------------------------------------

# Pandoc's simple citation key: starts with a word character; internal punctuation
# ":.#$%&-+?<>~/" only when followed by a word character, so a key never ends with one.
_PANDOC_KEY = r"\w(?:\w|[:.#$%&\-+?<>~/](?=\w))*"
_PANDOC_AT = re.compile(r"@(?:(" + _PANDOC_KEY + r")|\{([^{}\n]*)\})")
_PANDOC_KEY_AT = re.compile(r"@(" + _PANDOC_KEY + r")")
_PANDOC_TAIL = re.compile(r"(?:\w|[:.#$%&\-+?<>~/](?=\w))*")
_PANDOC_PUNCT = frozenset(":.#$%&-+?<>~/")
# ``[...]`` holding an ``@``: the brackets of a bracketed citation.
_MD_BRACKET = re.compile(r"\[[^\[\]@]*@[^\[\]]*\]")
_BRACED_TAIL = re.compile(r"[^{}\n@]*\}")
_NONSPACE_TAIL = re.compile(r"[^\s{}]*")


def _pandoc_partial_char(ch: str) -> bool:
    """Characters a key being typed may hold (trailing punctuation included)."""
    return _is_word(ch) or ch in _PANDOC_PUNCT


def _md_at_ok(masked: str, at: int) -> bool:
    """An ``@`` at ``at`` starts a citation unless it follows a word char or a backslash."""
    if at == 0:
        return True
    prev = masked[at - 1]
    return not (_is_word(prev) or prev == "\\")


def _md_dash(masked: str, at: int) -> bool:
    """True for ``-@key`` (author suppressed): a dash right before ``@``, not in a word."""
    return at > 0 and masked[at - 1] == "-" and (at == 1 or not _is_word(masked[at - 2]))


def _md_open_bracket(masked: str, at: int) -> int:
    """Offset of the ``[`` still open at ``at`` (within ``_LOOKBACK`` characters), or -1."""
    open_at = masked.rfind("[", max(0, at - _LOOKBACK), at)
    return open_at if open_at >= 0 and masked.find("]", open_at, at) < 0 else -1


def _md_command(masked: str, at: int) -> str:
    """Command of a citation being typed: ``[@`` / ``[-@`` after an unclosed ``[``."""
    command = ("-@" if _md_dash(masked, at) else "@")
    if _md_open_bracket(masked, at) >= 0:
        command = "[" + command
    return command


def _markdown_find(text: str, masked: str) -> list[CitationKey]:
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


def _markdown_completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    start = _walk_back(masked, offset, _pandoc_partial_char)
    if start is None:
        return None
    at = start - 1
    if at >= 0 and masked[at] == "@":
        if start < offset and not _is_word(masked[start]):
            return None  # a key starts with a letter, digit or "_"
        if not _md_at_ok(masked, at):
            return None
        end = _PANDOC_TAIL.match(masked, offset).end()
        return CompletionContext(
            text[start:offset], Span(start, end), "pandoc", _md_command(masked, at)
        )
    # ``@{braced key`` being typed
    brace = masked.rfind("@{", max(0, offset - _MAX_PARTIAL), offset)
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


def _markdown_insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` (see :func:`insertion`; ``context`` as for
    :func:`_latex_insertion`): another item after the one under the cursor or in the open
    bracketed citation, else a new bracketed citation."""
    if context is not None:
        end = context.span.end
        if context.command.startswith("["):
            return _item_end(masked, end), "; @" + key
        if masked.startswith("@{", context.span.start - 2) and masked.startswith("}", end):
            end += 1
        return end, "; @" + key
    open_at = _md_open_bracket(masked, offset)
    if open_at >= 0 and not _BLANK_LINE.search(masked, open_at, offset) and any(
        _md_at_ok(masked, m.start()) for m in _PANDOC_AT.finditer(masked, open_at + 1, offset)
    ):
        return offset, ("@" if masked[open_at + 1:offset].rstrip().endswith(";") else "; @") + key
    return offset, "[@" + key + "]"


# ---------------------------------------------------------------------------------------
# Typst
# ---------------------------------------------------------------------------------------

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
    return _is_word(ch) or ch in "-:."


def _typst_find(text: str, masked: str) -> list[CitationKey]:
    found: list[CitationKey] = []
    for m in _TYPST_AT.finditer(masked):
        if m.start() > 0 and _is_word(masked[m.start() - 1]):
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


def _typst_completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    start = _walk_back(masked, offset, _typst_label_char)
    if start is None or start == 0:
        return None
    at = start - 1
    if masked[at] == "@":
        if start < offset and not _is_word(masked[start]):
            return None
        if at > 0 and _is_word(masked[at - 1]):
            return None
        end = _TYPST_TAIL.match(masked, offset).end()
        return CompletionContext(text[start:offset], Span(start, end), "typst", "@")
    if masked[at] == "<":
        head = masked.rfind("#cite(", max(0, at - _LOOKBACK), at)
        if head < 0 or _TYPST_CITE_HEAD.fullmatch(masked, head, at + 1) is None:
            return None
        end = _TYPST_LABEL_TAIL.match(masked, offset).end()
        return CompletionContext(text[start:offset], Span(start, end), "typst", "#cite")
    return None


def _typst_insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` (see :func:`insertion`; ``context`` as for
    :func:`_latex_insertion`): another label inside ``#cite(...)``, else ``@key``."""
    if context is not None:
        end = context.span.end
        if context.command == "@":
            return end, " @" + key
        if masked.startswith(">", end):
            return end + 1, ", <" + key + ">"
        return end, ">, <" + key + ">"
    head = masked.rfind("#cite(", max(0, offset - _LOOKBACK), offset)
    if head >= 0 and _TYPST_CITE_OPEN.fullmatch(masked, head, offset):
        return offset, "<" + key + ">"
    if head >= 0 and _TYPST_CITE_LAST.fullmatch(masked, head, offset):
        return offset, ", <" + key + ">"
    if offset > 0 and _is_word(masked[offset - 1]):
        return offset, " @" + key          # "word@key" is no reference
    return offset, "@" + key


# ---------------------------------------------------------------------------------------
# Org
# ---------------------------------------------------------------------------------------

_ORG_OPEN = re.compile(r"\[cite(?:/[\w\-]+)*:")
_ORG_CITE = re.compile(r"\[cite(?:/[\w\-]+)*:([^\[\]]*)\]")


def _org_find(text: str, masked: str) -> list[CitationKey]:
    found: list[CitationKey] = []
    for m in _ORG_CITE.finditer(masked):
        command = text[m.start():m.start(1)]
        for km in _PANDOC_KEY_AT.finditer(masked, m.start(1), m.end(1)):
            if km.start() > 0 and _is_word(masked[km.start() - 1]):
                continue
            start, end = km.span(1)
            found.append(CitationKey(text[start:end], Span(start, end), "org", command))
    return found


def _org_completion(text: str, masked: str, offset: int) -> CompletionContext | None:
    start = _walk_back(masked, offset, _pandoc_partial_char)
    if start is None or start == 0:
        return None
    at = start - 1
    if masked[at] != "@" or (at > 0 and _is_word(masked[at - 1])):
        return None
    if start < offset and not _is_word(masked[start]):
        return None
    m = _org_open(masked, at)
    if m is None:
        return None
    end = _PANDOC_TAIL.match(masked, offset).end()
    return CompletionContext(
        text[start:offset], Span(start, end), "org", text[m.start():m.end()]
    )


def _org_open(masked: str, at: int):
    """The match of the ``[cite...:`` still open at ``at`` (within ``_LOOKBACK``), or None."""
    head = masked.rfind("[cite", max(0, at - _LOOKBACK), at)
    if head < 0:
        return None
    m = _ORG_OPEN.match(masked, head)
    if m is None or m.end() > at:
        return None
    between = masked[m.end():at]
    return None if "[" in between or "]" in between else m


def _org_insertion(masked: str, offset: int, key: str, context) -> tuple[int, str]:
    """Where and what to insert for ``key`` (see :func:`insertion`; ``context`` as for
    :func:`_latex_insertion`): another item inside ``[cite:...]``, else a new citation."""
    if context is not None:
        return _item_end(masked, context.span.end), ";@" + key
    m = _org_open(masked, offset)
    if m is not None:
        inner = masked[m.end():offset].rstrip()
        return offset, ("@" if not inner or inner.endswith(";") else ";@") + key
    if offset > 0 and masked[offset - 1] == "@" and (offset == 1 or masked[offset - 2].isspace()):
        return offset, key
    return offset, "[cite:@" + key + "]"


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------

_FINDERS = {
    "latex": _latex_find,
    "markdown": _markdown_find,
    "typst": _typst_find,
    "org": _org_find,
}

_COMPLETERS = {
    "latex": _latex_completion,
    "markdown": _markdown_completion,
    "typst": _typst_completion,
    "org": _org_completion,
}

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


def _find(text: str, masked: str, lang: str, macros) -> list[CitationKey]:
    """Keys of ``text`` (masked as ``masked``) in document order."""
    _WORK["chars"] += len(text)
    if lang == "latex":
        found = _latex_find(text, masked, _commands(macros))
    else:
        found = _FINDERS[lang](text, masked)
    found.sort(key=lambda c: (c.span.start, c.span.end))
    return found


def _shifted(cite: CitationKey, delta: int) -> CitationKey:
    return CitationKey(cite.key, Span(cite.span.start + delta, cite.span.end + delta), cite.syntax, cite.command)


def _find_in_window(text: str, masked: str, lang: str, macros, lo: int, hi: int) -> list[CitationKey]:
    """The keys of ``text`` that start in ``[lo, hi)``, read from a window reaching
    :data:`REACH` characters beyond (``masked``: the mask of the whole text)."""
    w0, w1 = max(0, lo - REACH), min(len(text), hi + REACH)
    return [_shifted(c, w0) for c in _find(text[w0:w1], masked[w0:w1], lang, macros)
            if lo <= c.span.start + w0 < hi]


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, max(0, offset)) + 1


def find_citations(text: str, language: str, macros=None) -> list[CitationKey]:
    """All citation keys of ``text``, ordered by position.

    ``language`` is one of :data:`LANGUAGES` (an LSP language id or a file name is
    accepted too).  Keys in comments and code are skipped; each key of a multi-key
    citation gets its own :class:`CitationKey` whose span covers the key text only.
    ``macros`` (LaTeX only) are the user-defined citation commands of the document's
    project (:func:`citation_macros`), read besides the built-in ones.
    Unknown languages and non-string input give ``[]``.
    """
    lang = _normalize_language(language)
    if lang is None or not isinstance(text, str):
        return []
    if not any(trigger in text for trigger in _TRIGGER[lang]):
        return []
    _WORK["whole"] += 1
    return _find(text, _mask(text, lang)[0], lang, macros)


def citation_at(text: str, offset: int, language: str, macros=None) -> CitationKey | None:
    """The citation key whose span contains ``offset`` (``start <= offset <= end``).

    Returns ``None`` when there is none, and for offsets outside ``0..len(text)``.
    ``macros``: as for :func:`find_citations`.  Reads a window around ``offset`` (for
    LaTeX, masked line by line; other languages are masked whole, their code blocks may
    start anywhere above).
    """
    if not isinstance(text, str) or not isinstance(offset, int):
        return None
    if offset < 0 or offset > len(text):
        return None
    lang = _normalize_language(language)
    if lang is None:
        return None
    lo, hi = max(0, offset - REACH), min(len(text), offset + 1)
    w0, w1 = max(0, lo - REACH), min(len(text), hi + REACH)
    if lang == "latex":
        # comments end with their line: masking from the window's first line is exact
        base = _line_start(text, w0)
        window = text[base:w1]
        found = _find(window, _mask(window, lang)[0], lang, macros)
        found = [_shifted(c, base) for c in found if lo <= c.span.start + base < hi]
    else:
        found = _find_in_window(text, _mask(text, lang)[0], lang, macros, lo, hi)
    for cite in found:
        if cite.span.start > offset:
            break
        if cite.span.contains(offset):
            return cite
    return None


def completion_context(
    text: str, offset: int, language: str, macros=None
) -> CompletionContext | None:
    """Describe the citation key being typed at ``offset``, or ``None`` when not in one.

    Triggers: LaTeX inside the braces of a cite command (``\\cite{``, ``\\citep[..][..]{``,
    after a ``,``), Markdown after ``@`` / ``[@`` / ``[-@`` / ``; @`` (``@`` not after a
    word character), Typst after ``@`` and inside ``#cite(<``, Org after ``@`` inside a
    ``[cite:...`` bracket.  The citation need not be closed yet.  The returned span
    covers the whole partial key around the cursor: ``prefix == text[span.start:offset]``.
    ``macros``: as for :func:`find_citations` (``\\longcite{`` completes too).
    """
    lang = _normalize_language(language)
    if lang is None or not isinstance(text, str) or not isinstance(offset, int):
        return None
    if offset < 0 or offset > len(text):
        return None
    if lang == "latex":
        # a LaTeX cite command is looked for _LOOKBACK characters back, and comments end
        # with their line: a window from the line that far back is enough
        base = _line_start(text, offset - _LOOKBACK - 1)
        window = text[base:min(len(text), offset + REACH)]
        masked, ranges = _mask(window, lang)
        if _inside(ranges, offset - base):
            return None
        found = _latex_completion(window, masked, offset - base, _commands(macros))
        if found is None:
            return None
        return CompletionContext(found.prefix, Span(found.span.start + base, found.span.end + base),
                                 found.syntax, found.command)
    masked, ranges = _mask(text, lang)
    if _inside(ranges, offset):
        return None
    return _COMPLETERS[lang](text, masked, offset)


_INSERTERS = {
    "markdown": _markdown_insertion,
    "typst": _typst_insertion,
    "org": _org_insertion,
}


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
    :func:`find_citations`.  ``None`` for an offset outside ``0..len(text)``, an empty key
    or arguments of the wrong type.
    """
    if not isinstance(text, str) or not isinstance(key, str) or not key:
        return None
    if not isinstance(offset, int) or offset < 0 or offset > len(text):
        return None
    here = Span(offset, offset)
    lang = _normalize_language(language)
    if lang is None:
        return Insertion(here, key)
    if lang == "latex":
        context = completion_context(text, offset, lang, macros)
    else:
        masked, ranges = _mask(text, lang)
        context = None if _inside(ranges, offset) else _COMPLETERS[lang](text, masked, offset)
    if context is not None and context.span.start == context.span.end:
        return Insertion(here, key)                 # a key can be typed here
    if lang == "latex":
        at, new = _latex_insertion(text, offset, key, macros, context)
    else:
        at, new = _INSERTERS[lang](masked, offset, key, context)
    return Insertion(Span(at, at), new)


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

    :meth:`update` gives what :func:`find_citations` gives for the new text, but rescans
    only a window around what changed since the last text (see "Windows" in the module
    docstring); the keys before the window are kept, those after it shifted.  The mask is
    updated line by line for LaTeX, recomputed whole otherwise (a Markdown code fence can
    mask the rest of the document); the window then also covers every place where the
    mask changed.  ``scanned`` counts the characters the key finders have read, and
    ``full_scans`` the scans of a whole text (the first one, a change of language or of
    the LaTeX commands, or an edit that touches most of the text).
    """

    def __init__(self, language: str) -> None:
        self.language = _normalize_language(language)
        self.text: str | None = None
        self.macros = None
        self.keys: list[CitationKey] = []
        self._masked = ""
        self.scanned = 0
        self.full_scans = 0

    def _full(self, text: str, macros) -> list[CitationKey]:
        lang = self.language
        self._masked = _mask(text, lang)[0]
        self.full_scans += 1
        if any(trigger in text for trigger in _TRIGGER[lang]):
            self.scanned += len(text)
            _WORK["whole"] += 1
            return _find(text, self._masked, lang, macros)
        return []

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
            keys = self._full(text, macros)
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
            start = _line_start(new, p)
            nl = new.find("\n", len(new) - s)
            end = len(new) if nl < 0 else nl + 1
            masked = self._masked[:start] + _mask(new[start:end], lang)[0] + self._masked[end - delta:]
        else:
            masked = _mask(new, lang)[0]
            mp, ms = common_affixes(self._masked, masked)
            start, end = min(p, mp), len(new) - min(s, ms)
        lo, hi = max(0, start - REACH), min(len(new), end + REACH)
        if hi - lo + 2 * REACH >= len(new):
            self._masked = masked
            self.full_scans += 1
            if not any(trigger in new for trigger in _TRIGGER[lang]):
                return []
            self.scanned += len(new)
            _WORK["whole"] += 1
            return _find(new, masked, lang, macros)
        self._masked = masked
        keys = self.keys
        before = bisect_left(keys, lo, key=lambda c: c.span.start)
        after = bisect_left(keys, hi - delta, key=lambda c: c.span.start)
        w0, w1 = max(0, lo - REACH), min(len(new), hi + REACH)
        self.scanned += w1 - w0
        middle = _find_in_window(new, masked, lang, macros, lo, hi)
        return keys[:before] + middle + [_shifted(c, delta) for c in keys[after:]]


def masked_text(text: str, language: str) -> str:
    """``text`` with the regions where citations do not count (comments, code) blanked out,
    newlines kept: same length, same offsets.  Unknown languages give ``text`` unchanged."""
    lang = _normalize_language(language)
    if lang is None or not isinstance(text, str):
        return text
    return _mask(text, lang)[0]


# --- bibliography files ----------------------------------------------------------------

_LATEX_BIB = re.compile(
    r"\\(bibliography|addbibresource|addglobalbib|addsectionbib)(?![A-Za-z])"
    r"\s*(?:\[[^\[\]]*\]\s*)?\{([^{}]*)\}"
)
_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$", re.S | re.M
)
_YAML_BIB = re.compile(r"^bibliography[ \t]*:[ \t]*([^\n]*)$", re.M)
_YAML_ITEM = re.compile(r"[ \t]*-[ \t]+([^\n]*)")
_YAML_COMMENT = re.compile(r"(?:^|[ \t])#.*$")
_TYPST_BIB = re.compile(r"#bibliography\(\s*(?:\"([^\"\\\n]*)\"|\(([^()]*)\))")
_TYPST_STRING = re.compile(r"\"([^\"\\\n]*)\"")
_ORG_BIB = re.compile(r"^[ \t]*#\+bibliography:[ \t]*([^\n]*?)[ \t\r]*$", re.M | re.I)


def _yaml_scalar(value: str) -> str:
    """A YAML scalar as written on one line: quotes removed or trailing comment cut."""
    value = value.strip()
    if value[:1] in ("'", '"'):
        close = value.find(value[0], 1)
        return value[1:close] if close > 0 else value[1:]
    return _YAML_COMMENT.sub("", value).strip()


def _yaml_bibliography(front: str) -> list[str]:
    m = _YAML_BIB.search(front)
    if m is None:
        return []
    raw = m.group(1).strip()
    if raw[:1] in ("'", '"'):  # quoted scalar
        return [_yaml_scalar(raw)]
    value = _YAML_COMMENT.sub("", raw).strip()
    if value.startswith("["):  # flow list: [a.bib, "b.bib"]
        inner = value[1:value.rfind("]")] if "]" in value else value[1:]
        return [_yaml_scalar(item) for item in inner.split(",")]
    if value and value not in ("|", ">"):
        return [_yaml_scalar(value)]
    # block list on the following lines
    items: list[str] = []
    for line in front[m.end() + 1:].split("\n"):
        item = _YAML_ITEM.fullmatch(line.rstrip("\r"))
        if item is not None:
            items.append(_yaml_scalar(item.group(1)))
        elif line.strip() and not line.lstrip().startswith("#"):
            break
    return items


def latex_bibliography_names(masked: str) -> list[tuple[int, str]]:
    """``(offset, name)`` of each ``.bib`` file that LaTeX text names, in document order:
    ``\\bibliography{a,b}`` (``.bib`` always appended, as BibTeX does), ``\\addbibresource``,
    ``\\addglobalbib``, ``\\addsectionbib``.  ``masked`` is the text with comments blanked
    (:func:`masked_text`)."""
    out: list[tuple[int, str]] = []
    if not isinstance(masked, str):
        return out
    for m in _LATEX_BIB.finditer(masked):
        if m.group(1) == "bibliography":
            parts = [_bib_name(part, True) for part in m.group(2).split(",")]
        else:
            parts = [_bib_name(m.group(2))]
        out.extend((m.start(), name) for name in parts if name)
    return out


def bibliography_files(text: str, language: str) -> list[str]:
    """The ``.bib`` files ``text`` names, as written, with ``.bib`` appended when missing.

    LaTeX: ``\\bibliography{a,b}``, ``\\addbibresource[opts]{x.bib}`` (outside comments);
    Markdown: ``bibliography:`` in the YAML front matter (scalar, flow or block list);
    Typst: ``#bibliography("x.bib")`` / ``#bibliography(("a.bib", "b.bib"))``;
    Org: ``#+bibliography: x.bib``.  Files in other formats (``.json``, ``.yaml``...)
    are left out; duplicates are reported once, in document order.
    """
    lang = _normalize_language(language)
    if lang is None or not isinstance(text, str):
        return []
    names: list[str | None] = []
    if lang == "latex":
        names.extend(name for _at, name in latex_bibliography_names(_mask(text, lang)[0]))
    elif lang == "markdown":
        front = _FRONT_MATTER.match(text)
        if front is not None:
            names.extend(_bib_name(item) for item in _yaml_bibliography(front.group(1)))
    elif lang == "typst":
        masked, _ranges = _mask(text, lang)
        for m in _TYPST_BIB.finditer(masked):
            if m.group(1) is not None:
                names.append(_bib_name(m.group(1)))
            else:
                names.extend(_bib_name(s.group(1)) for s in _TYPST_STRING.finditer(m.group(2)))
    else:
        masked, _ranges = _mask(text, lang)
        for m in _ORG_BIB.finditer(masked):
            names.append(_bib_name(m.group(1)))
    return _dedupe(names)
