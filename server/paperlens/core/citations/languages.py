"""Which of the four citation syntaxes a document uses, from its LSP language id or its name."""
from __future__ import annotations

import re

LANGUAGES = ("latex", "markdown", "typst", "org")

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


def normalize_language(language: object) -> str | None:
    """Accept one of LANGUAGES, or anything :func:`language_for` understands."""
    if not isinstance(language, str):
        return None
    if language in LANGUAGES:
        return language
    return language_for(language)
