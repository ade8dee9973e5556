"""The user's LaTeX citation commands: command definitions in LaTeX source
(:func:`latex_macro_definitions`) and, over a whole project, those that cite
(:func:`citation_macros`), e.g. ``\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}``."""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import latex, masking
from .latex import LatexMacro

# Longest definition body read.
_MAX_BODY = 20000


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
            end = latex.skip_argument(spec, i + 1)
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
    end = latex.skip_argument(masked, p, _MAX_BODY)
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
    default = latex.OPTIONAL_ARG.match(masked, p) if count else None
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
    masked, _ranges = masking.mask(text, "latex")
    out: list[MacroDefinition] = []
    pos = 0
    while len(out) < 5000:
        m = _DEFINER.search(masked, pos)
        if m is None:
            break
        if latex.escaped(masked, m.start()):
            pos = m.end()
            continue
        definition, pos = _definition_at(masked, m)
        pos = max(pos, m.end())
        if definition is not None and "@" not in definition.name:
            out.append(definition)
    return out


def _key_parameters(body: str, params: tuple[str, ...], commands: latex.Commands) -> frozenset:
    """Numbers of the mandatory parameters that ``body`` passes as keys to a citation command."""
    numbers: set[int] = set()
    table = commands.table
    for m in commands.regex.finditer(body):
        if latex.escaped(body, m.start()):
            continue
        for open_at, close_at in latex.command_groups(body, m.end(), table[m.group(1)], bool(m.group(2)), False):
            for entry in body[open_at + 1:close_at].split(","):
                ref = _PARAM_REF.fullmatch(entry.strip())
                if ref is not None:
                    n = int(ref.group(1))
                    if n <= len(params) and params[n - 1] == "m":
                        numbers.add(n)
    return frozenset(numbers)


def _as_macro(definition: MacroDefinition, known: dict, commands: latex.Commands) -> LatexMacro | None:
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
            and latex.MACRO_NAME.fullmatch(d.name) and d.name not in latex.BUILTIN_TABLE]
    found: dict[str, LatexMacro] = {}
    for _round in range(min(len(defs), 16) + 1):
        commands = latex.commands_for(frozenset(found.values()))
        known: dict = dict(latex.BUILTIN_TABLE)
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
