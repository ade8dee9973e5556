"""The bibliography files a document names: ``\\bibliography{a,b}`` and
``\\addbibresource``, Markdown's ``bibliography:`` front matter, Typst's ``#bibliography(..)``,
Org's ``#+bibliography:``."""
from __future__ import annotations

import re

from . import masking
from .languages import normalize_language

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
    lang = normalize_language(language)
    if lang is None or not isinstance(text, str):
        return []
    names: list[str | None] = []
    if lang == "latex":
        names.extend(name for _at, name in latex_bibliography_names(masking.mask(text, lang)[0]))
    elif lang == "markdown":
        front = _FRONT_MATTER.match(text)
        if front is not None:
            names.extend(_bib_name(item) for item in _yaml_bibliography(front.group(1)))
    elif lang == "typst":
        masked, _ranges = masking.mask(text, lang)
        for m in _TYPST_BIB.finditer(masked):
            if m.group(1) is not None:
                names.append(_bib_name(m.group(1)))
            else:
                names.extend(_bib_name(s.group(1)) for s in _TYPST_STRING.finditer(m.group(2)))
    else:
        masked, _ranges = masking.mask(text, lang)
        for m in _ORG_BIB.finditer(masked):
            names.append(_bib_name(m.group(1)))
    return _dedupe(names)
