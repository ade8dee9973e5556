"""BibTeX / BibLaTeX files -> Paper records (bibtexparser 2).

The parser is tolerant: a malformed entry is reported with its line and the reason, and every
other entry is kept. Keys and raw fields are never altered; LaTeX is decoded only in the fields
that are shown (title, authors, venue, abstract).
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Optional

from paperlens.core.models import Paper, Passage
from paperlens.core.parse.common import ParseResult, paper_id

log = logging.getLogger(__name__)

# A .bib file of a few hundred bytes can name gigabytes: ``@string{a1 = a0 # a0 # a0 # a0}``,
# ``@string{a2 = a1 # a1 # a1 # a1}`` ... quadruples a line at a time, and a long @string named by
# many entries is copied into each. Expansion is bounded per file, and so is every field.
MAX_FIELD_CHARS = 64 * 1024       # a longer field is cut (and said so)
MAX_EXPANSION_CHARS = 8 * 1024 * 1024   # characters @string names may add to a file, plus twice
                                        # the file's size; past that a name stays unexpanded
MAX_KEY_CHARS = 1024              # an entry with a longer key is skipped
MAX_WARNINGS = 50                 # per file; the rest are counted

_VENUE_FIELDS = ("journaltitle", "journal", "booktitle", "eventtitle", "publisher",
                 "institution", "school", "howpublished", "organization")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_SIMPLE_ACCENTS = re.compile(r"[\\{}$~]")


def decode_latex(value: str) -> str:
    """LaTeX markup -> plain text for display (accents, braces, ``--``, ``~``)."""
    if not value:
        return ""
    if not _SIMPLE_ACCENTS.search(value):
        return " ".join(value.split())
    if len(value) <= _DECODED_MAX_CHARS:
        text = _decoded.get(value)
        if text is None:
            if len(_decoded) >= _DECODED_MAX:
                _decoded.clear()
            text = _decoded[value] = _decode_latex(value)
        return text
    return _decode_latex(value)


def _decode_latex(value: str) -> str:
    text = _plain_latex(value)
    if text is None:
        try:
            text = _latex2text().latex_to_text(value)
        except Exception:  # pylatexenc is bibtexparser's dependency; never fail on display
            text = re.sub(r"\\[a-zA-Z]+\s*|[{}]", "", value)
    return " ".join(text.replace("~", " ").split())


# decode_latex's answers for the short values (names and venues repeat from entry to entry)
_DECODED_MAX = 8192
_DECODED_MAX_CHARS = 300
_decoded: dict[str, str] = {}

# What pylatexenc reads as something else than its characters, beside braces and the tokens
# of _TOKEN: a macro, math, a comment, an alignment, a parameter, its specials.
_LATEX_MARKUP = re.compile(r"[\\$%&#^_~]|--|``|''|!`|\?`")
# Tokens pylatexenc reads as one node each, whatever is around them (what it makes of each is
# asked of it once: _tokens): a letter with an accent, {\'e}, {\'{e}}, {\c{c}}, \'{e}, \c{c},
# and an escaped character, \% \& \$ \# \_
_TOKEN = re.compile(r"(\{\\[`'^\"~=.][A-Za-z]\}|\{\\(?:[`'^\"~=.]|[cvuHkrd])\{[A-Za-z]\}\}"
                    r"|\\(?:[`'^\"~=.]|[cvuHkrd])\{[A-Za-z]\}|\\[%&$#_])")
_tokens: dict[str, str] = {}


def _plain_latex(value: str) -> Optional[str]:
    """What pylatexenc makes of ``value`` (before spaces are normalised) when it is text,
    balanced braces and the tokens of _TOKEN (most titles, names, venues and abstracts of a
    .bib: a ``{Name}`` kept in capitals, ``R{\\'e}mi``, ``50\\%``), without its parser (a few
    hundred microseconds a value, most of a big .bib's parse); None for anything else."""
    pieces = _TOKEN.split(value) if "\\" in value else [value]
    search = _LATEX_MARKUP.search
    depth = 0
    for k in range(0, len(pieces), 2):           # the text between tokens
        piece = pieces[k]
        if search(piece):
            return None
        if "{" in piece or "}" in piece:
            for ch in _BRACES.findall(piece):
                depth += 1 if ch == "{" else -1
                if depth < 0:
                    return None
            pieces[k] = piece.replace("{", "").replace("}", "")
    if depth:
        return None
    for k in range(1, len(pieces), 2):
        token = pieces[k]
        text = _tokens.get(token)
        if text is None:
            text = _tokens[token] = _latex2text().latex_to_text(token)
        pieces[k] = text
    return "".join(pieces)


_BRACES = re.compile(r"[{}]")


_converter = None


def _latex2text():
    global _converter
    if _converter is None:
        from pylatexenc.latex2text import LatexNodes2Text
        _converter = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)
    return _converter


def split_bib_authors(value: str) -> list[str]:
    """``A and B and C`` at brace depth 0 -> names, LaTeX decoded; ``others`` dropped."""
    names, depth, cur = [], 0, []
    tokens = re.split(r"(\s+and\s+|[{}])", value, flags=re.IGNORECASE)
    for tok in tokens:
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", tok or "", flags=re.IGNORECASE):
            names.append("".join(cur))
            cur = []
        else:
            cur.append(tok or "")
    names.append("".join(cur))
    out = []
    for name in names:
        name = decode_latex(name.strip())
        if name and name.lower() != "others":
            out.append(name)
    return out


def file_field_paths(value: str, bib_dir: Path) -> list[str]:
    r"""Paths in a Zotero/Better BibTeX ``file`` field, absolute, as written (never opened here).

    Forms: ``/abs/a.pdf``, ``files/12/a.pdf``, ``Full Text PDF:files/12/a.pdf:application/pdf``,
    several joined with ``;`` (``\:`` and ``\;`` escape those characters).
    """
    out = []
    for part in re.split(r"(?<!\\);", value or ""):
        part = part.strip()
        if not part:
            continue
        pieces = re.split(r"(?<!\\):", part)
        if len(pieces) >= 3 and "/" in pieces[-1] and not pieces[-1].startswith("/"):
            candidate = ":".join(pieces[1:-1])          # description:path:mime
        else:
            candidate = part
        candidate = candidate.replace("\\:", ":").replace("\\;", ";").strip()
        if re.match(r"^[A-Za-z]:[\\/]", candidate):   # a Windows path: not on this machine
            continue
        p = Path(candidate).expanduser()
        out.append(str(p if p.is_absolute() else (bib_dir / p)))
    return out


_MONTHS = {m[:3]: m for m in ("january", "february", "march", "april", "may", "june", "july",
                                "august", "september", "october", "november", "december")}


def _concat_parts(value: str) -> list[str]:
    """The pieces of a raw BibTeX value joined with ``#`` at the top level (one piece if none)."""
    parts, cur, depth, quoted = [], [], 0, False
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


class _Budget:
    """What @string names may still add to one file (characters), and what was refused."""

    def __init__(self, text_len: int) -> None:
        self.left = MAX_EXPANSION_CHARS + 2 * text_len
        self.refused = 0                   # names left unexpanded, and the first of them:
        self.first_refused = ""            # "entry 'k' field 'title'"
        self.cut = False                   # the last value resolved was cut to a field's size

    def take(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True

    def refuse(self, key: str, field: str) -> None:
        self.refused += 1
        if self.refused == 1:
            self.first_refused = f"entry {key[:60]!r} field {field!r}"


def _resolve_concat(value: str, strings: dict[str, str], budget: Optional[_Budget] = None
                    ) -> Optional[str]:
    """``jmlr # { (special issue)}`` -> the macro's text and the literal, joined (at most
    ``MAX_FIELD_CHARS``). A value with an unknown name in it is kept as it is; None when the
    file's expansion budget does not allow it."""
    parts = _concat_parts(value)
    out = []
    for part in parts:
        if len(part) >= 2 and part[0] + part[-1] in ("{}", '""'):
            out.append(part[1:-1])
        elif part.isdigit():
            out.append(part)
        elif part.lower() in strings:
            out.append(strings[part.lower()])
        elif part.lower() in _MONTHS and len(parts) > 1:
            out.append(_MONTHS[part.lower()].capitalize())
        else:
            return value
    size, kept, cut = 0, [], False
    for piece in out:                    # never build more than a field may hold
        if size + len(piece) >= MAX_FIELD_CHARS:
            kept.append(piece[:MAX_FIELD_CHARS - size])
            size, cut = MAX_FIELD_CHARS, True
            break
        kept.append(piece)
        size += len(piece)
    if budget is not None:
        budget.cut = cut
        if not budget.take(size):
            return None
    return "".join(kept)


def _macros(library, budget: Optional[_Budget] = None) -> dict[str, str]:
    """``@string`` values by lower-cased name, concatenations resolved (in definition order)."""
    strings: dict[str, str] = {}
    for s in getattr(library, "strings", []):
        value = s.value if isinstance(s.value, str) else str(s.value)
        if "#" in value:
            resolved = _resolve_concat(value, strings, budget)
            value = value if resolved is None else resolved
        strings[s.key.lower()] = value[:MAX_FIELD_CHARS]
    return strings


def _parse_stack(budget: _Budget) -> list:
    """bibtexparser's default stack, its @string resolution bounded by ``budget``."""
    from bibtexparser.middlewares import (RemoveEnclosingMiddleware,
                                          ResolveStringReferencesMiddleware)

    class BoundedStringReferences(ResolveStringReferencesMiddleware):
        def transform(self, library):
            values = {}
            for key, s in library.strings_dict.items():
                v = s.value
                values[key.lower()] = v[:MAX_FIELD_CHARS] if isinstance(v, str) else v
            for entry in library.entries:
                resolved = []
                for fld in entry.fields:
                    v = fld.value
                    if not isinstance(v, str) or (v.startswith("{") and v.endswith("}")) or (
                            v.startswith('"') and v.endswith('"')):
                        continue            # enclosed (or not text): not a name
                    text = values.get(v.lower())
                    if text is None:
                        continue
                    if isinstance(text, str) and not budget.take(len(text)):
                        budget.refuse(entry.key, fld.key)
                        continue
                    fld.value = text
                    resolved.append(fld.key)
                if resolved:
                    entry.parser_metadata[self.metadata_key()] = resolved
            return library

    return [BoundedStringReferences(allow_inplace_modification=True),
            RemoveEnclosingMiddleware(allow_inplace_modification=True)]


def parse_bib(path: Path, text: str) -> ParseResult:
    import bibtexparser

    source = str(path)
    result = ParseResult()
    # bibtexparser reports failures through logging too; our own message says it better
    bib_log = logging.getLogger("bibtexparser")
    previous = bib_log.level
    bib_log.setLevel(logging.CRITICAL)
    budget = _Budget(len(text))
    try:
        library = bibtexparser.parse_string(text, parse_stack=_parse_stack(budget))
    finally:
        bib_log.setLevel(previous)

    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        kind = type(block).__name__
        if kind == "DuplicateBlockKeyBlock":
            reason = f"duplicate key {getattr(block, 'key', '?')!r}; the first entry is kept"
        else:
            err = getattr(block, "error", None)
            why = getattr(err, "abort_reason", None) or str(err or "")
            lines = [ln.strip() for ln in why.splitlines() if ln.strip()]
            reason = lines[-1] if lines else "could not be parsed"
            head = (block.raw or "").split("\n", 1)[0][:60]
            reason = f"{head!r}: {reason}"
        result.warnings.append(f"{path.name}:{line}: skipped entry {reason}")

    strings = None
    cut, first_cut = 0, ""
    for entry in library.entries:
        if len(entry.key) > MAX_KEY_CHARS:
            result.warnings.append(f"{path.name}:{(entry.start_line or 0) + 1}: skipped entry: "
                                   f"its key is longer than {MAX_KEY_CHARS} characters")
            continue
        fields = {k.lower(): (v.value if isinstance(v.value, str) else str(v.value))
                  for k, v in entry.fields_dict.items()}
        enclosing = entry.parser_metadata.get("removed_enclosing") or {}
        for k, v in entry.fields_dict.items():   # `a # {b}`: bibtexparser leaves these raw
            if isinstance(v.value, str) and "#" in v.value and enclosing.get(k) == "no-enclosing":
                strings = _macros(library, budget) if strings is None else strings
                resolved = _resolve_concat(v.value, strings, budget)
                if resolved is None:
                    budget.refuse(entry.key, k.lower())
                    continue
                fields[k.lower()] = resolved
                if budget.cut:
                    cut += 1
                    first_cut = first_cut or (f"{path.name}:{(entry.start_line or 0) + 1}: entry "
                                              f"{entry.key[:60]!r} field {k.lower()!r}")
        for k, v in fields.items():
            if len(v) > MAX_FIELD_CHARS:
                fields[k] = v[:MAX_FIELD_CHARS]
                cut += 1
                first_cut = first_cut or (f"{path.name}:{(entry.start_line or 0) + 1}: entry "
                                          f"{entry.key[:60]!r} field {k!r}")
        year = fields.get("year", "")
        if not year:
            m = _YEAR.search(fields.get("date", ""))
            year = m.group(1) if m else ""
        venue = next((fields[f] for f in _VENUE_FIELDS if fields.get(f)), "")
        arxiv = ""
        if fields.get("eprint") and fields.get("archiveprefix", fields.get("eprinttype", "")).lower() == "arxiv":
            arxiv = fields["eprint"]
        doi = re.sub(r"^https?://(dx\.)?doi\.org/", "", fields.get("doi", "").strip())
        pid = paper_id(source, entry.key)
        paper = Paper(
            id=pid, key=entry.key, title=decode_latex(fields.get("title", "")),
            authors=split_bib_authors(fields.get("author", "") or fields.get("editor", "")),
            year=year.strip(), venue=decode_latex(venue), abstract=decode_latex(fields.get("abstract", "")),
            doi=doi, arxiv=arxiv, url=fields.get("url", ""), entry_type=entry.entry_type.lower(),
            source=source, source_line=entry.start_line or 0, source_kind="bib",
        )
        files = file_field_paths(fields.get("file", ""), path.parent)
        if files:
            paper.file = os.path.normpath(files[0])
        result.papers.append(paper)
        if paper.abstract:
            end_line = paper.source_line + entry.raw.count("\n") if entry.raw else paper.source_line
            result.passages.append(Passage(paper_id=pid, text=paper.abstract, path=source,
                                           line_start=paper.source_line, line_end=end_line,
                                           section="abstract"))
    if cut:
        result.warnings.append(f"{first_cut}: cut to its first {MAX_FIELD_CHARS // 1024} KB"
                               + (f" (and {cut - 1} more fields)" if cut > 1 else ""))
    if budget.refused:
        result.warnings.append(
            f"{path.name}: @string names expand to more than "
            f"{(MAX_EXPANSION_CHARS + 2 * len(text)) // (1024 * 1024)} MB; "
            f"{budget.first_refused} keeps the name instead of its text"
            + (f" (and {budget.refused - 1} more fields)" if budget.refused > 1 else ""))
    if len(result.warnings) > MAX_WARNINGS:
        more = len(result.warnings) - MAX_WARNINGS + 1
        result.warnings[MAX_WARNINGS - 1:] = [f"{path.name}: and {more} more problems"]
    return result
