"""LaTeX citations: the cite commands (natbib, biblatex, apacite, plain LaTeX and the
user's own, :class:`LatexMacro`), how their arguments are read, and finding the keys, the
key being typed and what to insert for a key.  The user's commands are found in
:mod:`~paperlens.core.citations.latex_macros`."""
from __future__ import annotations

import re
from dataclasses import dataclass

from paperlens.core.models import CitationKey, Span

from .common import BLANK_LINE, LOOKBACK, CompletionContext

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
OPTIONAL_ARG = re.compile(r"\s*\[[^\[\]{}]*(?:\{[^{}]*\}[^\[\]{}]*)*\]")
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
MACRO_NAME = re.compile(r"[A-Za-z]+")
# Longest argument skipped when reading a user command's arguments.
_MAX_ARGUMENT = 4000


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


_VOLUME_PARAMS = ("o", "m", "o", "m")


def _builtin_table() -> dict:
    table: dict = {name: "cite" for name in _LATEX_SINGLE}
    table.update({name: "cites" for name in _LATEX_MULTI})
    for name in _LATEX_VOLUME:
        table[name] = LatexMacro(name, _VOLUME_PARAMS, frozenset({4}))
    return table


BUILTIN_TABLE = _builtin_table()


class Commands:
    """The citation commands of a document: name -> how it is read, and one regex for all."""

    __slots__ = ("table", "regex")

    def __init__(self, table: dict) -> None:
        self.table = table
        names = sorted(table, key=len, reverse=True)
        self.regex = re.compile(r"\\(" + "|".join(names) + r")(?![A-Za-z])(\*?)")


_DEFAULT_COMMANDS = Commands(BUILTIN_TABLE)
_COMMANDS_CACHE: dict[frozenset, Commands] = {}


def commands_for(macros) -> Commands:
    """The compiled command set for the built-in commands plus ``macros`` (cached)."""
    if not macros:
        return _DEFAULT_COMMANDS
    try:
        key = macros if isinstance(macros, frozenset) else frozenset(macros)
    except TypeError:
        return _DEFAULT_COMMANDS
    found = _COMMANDS_CACHE.get(key)
    if found is None:
        table = dict(BUILTIN_TABLE)
        for macro in sorted((m for m in key if isinstance(m, LatexMacro)), key=repr):
            if not isinstance(macro.name, str) or not MACRO_NAME.fullmatch(macro.name) \
                    or macro.name in BUILTIN_TABLE:
                continue            # a redefined \cite is still read as \cite
            if macro.like in ("cite", "cites"):
                table[macro.name] = macro.like
            elif macro.keys and all(p in ("m", "o", "s") for p in macro.params):
                table[macro.name] = macro
        found = Commands(table)
        if len(_COMMANDS_CACHE) >= 64:
            _COMMANDS_CACHE.clear()
        _COMMANDS_CACHE[key] = found
    return found


def escaped(text: str, backslash_at: int) -> bool:
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
        p = _key_group(masked, _skip(OPTIONAL_ARG, masked, p), partial, groups)
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


def skip_argument(text: str, p: int, limit: int = _MAX_ARGUMENT) -> int | None:
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
            m = (_LATEX_STAR if kind == "s" else OPTIONAL_ARG).match(masked, p)
            if m is not None:
                p = m.end()
            continue
        if number in macro.keys:
            p = _key_group(masked, p, partial, groups)
            if p is None:
                break
        else:
            end = skip_argument(masked, p)
            if end is None:
                break
            p = end
    return groups


def command_groups(masked: str, pos: int, spec, star: bool, partial: bool):
    if spec == "cite":
        return _latex_groups(masked, pos, False, partial)
    if spec == "cites":
        return _latex_groups(masked, pos, True, partial)
    return _macro_groups(masked, pos, spec, star, partial)


def find_keys(text: str, masked: str, commands: Commands = _DEFAULT_COMMANDS) -> list[CitationKey]:
    """The keys of the cite commands in ``masked`` (``text`` masked), sliced from ``text``."""
    found: list[CitationKey] = []
    table = commands.table
    for m in commands.regex.finditer(masked):
        if escaped(masked, m.start()):
            continue
        name = m.group(1)
        command = "\\" + name + m.group(2)
        for open_at, close_at in command_groups(masked, m.end(), table[name], bool(m.group(2)), False):
            if masked.find("\n", open_at, close_at) >= 0 and BLANK_LINE.search(
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


def _last_command(masked: str, offset: int, commands: Commands):
    """The match of the last cite command starting less than ``LOOKBACK`` characters before
    ``offset``, or None."""
    last = None
    for m in commands.regex.finditer(masked, max(0, offset - LOOKBACK), offset):
        if not escaped(masked, m.start()):
            last = m
    return last


def completion(
    text: str, masked: str, offset: int, commands: Commands = _DEFAULT_COMMANDS
) -> CompletionContext | None:
    """The key being typed at ``offset`` inside the key group of a cite command, or None."""
    last = _last_command(masked, offset, commands)
    if last is None:
        return None
    name = last.group(1)
    spec = commands.table[name]
    for open_at, close_at in command_groups(masked, last.end(), spec, bool(last.group(2)), True):
        if not (open_at < offset and (close_at is None or offset <= close_at)):
            continue
        before = masked[open_at + 1:offset]
        if "{" in before or "}" in before or BLANK_LINE.search(before):
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


def _awaits_keys(masked: str, offset: int, commands: Commands) -> bool:
    """True when ``offset`` is right after a cite command whose next argument is a key list:
    ``\\autocite``, ``\\citep[see][]``, ``\\cites{a}[p.~3]`` (``masked`` may end at ``offset``)."""
    last = _last_command(masked, offset, commands)
    if last is None:
        return False
    spec, p = commands.table[last.group(1)], last.end()
    if spec == "cite":
        return _skip(OPTIONAL_ARG, masked, p) == offset
    if spec == "cites":
        p = _skip(_LATEX_PAREN, masked, p)
        while p < offset:
            p = _skip(OPTIONAL_ARG, masked, p)
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
        p = _skip(_LATEX_STAR if kind == "s" else OPTIONAL_ARG, masked, p, 1)
    return False


def insertion(masked: str, offset: int, key: str, context: CompletionContext | None,
              commands: Commands = _DEFAULT_COMMANDS) -> tuple[int, str]:
    """Where and what to insert for ``key`` at ``offset`` (see
    :func:`paperlens.core.citations.insertion`): after the key under the cursor (``context``,
    its completion context, or None), right after a command that awaits its keys, else a
    whole ``\\cite``.  ``masked``: the masked text, at least ``LOOKBACK`` characters back."""
    if context is not None:
        return context.span.end, "," + key
    if _awaits_keys(masked, offset, commands):
        return offset, "{" + key + "}"
    return offset, "\\cite{" + key + "}"
