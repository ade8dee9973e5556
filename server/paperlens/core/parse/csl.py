"""CSL-JSON libraries (Zotero / Better BibTeX "Better CSL JSON" exports) -> Paper records.

A file is a JSON array of items, or an object ``{"items": [...]}``. Each item becomes one
Paper whose key is its citation key (``citation-key``, ``citationKey``, a ``Citation Key:`` line
in ``note``, else ``id``) and whose ``source_line`` is the 0-based line where the item's
object starts. Like the BibTeX parser it is tolerant: a bad item is reported with its line and
skipped, every other item is kept.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from paperlens.core.models import Paper, Passage
from paperlens.core.parse.common import ParseError, ParseResult, paper_id

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_IN_TEXT = re.compile(r"(?:arxiv(?:\.org/(?:abs|pdf)/|:\s*|\.)|^)" + _ARXIV_ID + r"(?![\d/])",
                            re.IGNORECASE)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ARXIV_ID, re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\." + _ARXIV_ID + "$", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_CITATION_KEY_NOTE = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)

# CSL item types -> the BibTeX entry types the rest of the library uses
_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
    "paper-conference": "inproceedings", "book": "book", "chapter": "incollection",
    "thesis": "phdthesis", "report": "techreport", "manuscript": "unpublished",
    "webpage": "misc", "post-weblog": "misc", "dataset": "misc", "software": "misc",
    "article": "misc",   # CSL "article" is a preprint
}


_CSL_TYPES = (
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
    "broadcast", "chapter", "classic", "collection", "dataset", "document", "entry",
    "entry-dictionary", "entry-encyclopedia", "event", "figure", "graphic", "hearing", "interview",
    "legal_case", "legislation", "manuscript", "map", "motion_picture", "musical_score",
    "pamphlet", "paper-conference", "patent", "performance", "periodical",
    "personal_communication", "post", "post-weblog", "regulation", "report", "review",
    "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
)
_CSL_TYPE_VALUE = re.compile(r'"type"\s*:\s*"(?:' + "|".join(re.escape(t) for t in _CSL_TYPES) + r')"')


def is_csl_json(text: str) -> bool:
    """Cheap check that a ``.json`` file is a CSL-JSON library, not some other JSON file.

    Starts with ``[`` or ``{``, has a ``"title"`` or ``"id"`` key and a ``"type"`` whose value is
    a CSL item type (``"article-journal"``, ``"paper-conference"`` ...), so ``package.json``
    (``"type": "module"``) and the like are not taken for libraries.
    """
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head not in ("[", "{"):
        return False
    sample = text[:200_000]
    if '"type"' not in sample or not ('"title"' in sample or '"id"' in sample):
        return False
    return _CSL_TYPE_VALUE.search(sample) is not None


def _strip_markup(value: Any) -> str:
    """CSL rich text (``<i>``, ``<span class="nocase">``, JATS ``<jats:p>``) -> plain text."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v is not None)
    text = str(value)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def _names(value: Any) -> list[str]:
    """CSL name list -> ``"Family, Given"`` (or the literal name)."""
    out: list[str] = []
    if not isinstance(value, list):
        return out
    for person in value:
        if isinstance(person, str):
            name = " ".join(person.split())
        elif isinstance(person, dict):
            literal = _strip_markup(person.get("literal"))
            family = _strip_markup(person.get("family"))
            given = _strip_markup(person.get("given"))
            particle = _strip_markup(person.get("non-dropping-particle"))
            dropping = _strip_markup(person.get("dropping-particle"))
            if particle and family:
                family = f"{particle} {family}"
            if dropping and given:
                given = f"{given} {dropping}"
            if literal and not family:
                name = literal
            elif family and given:
                name = f"{family}, {given}"
            else:
                name = family or given or literal
        else:
            continue
        if name:
            out.append(name)
    return out


def _year(value: Any) -> str:
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = parts[0][0]
            try:
                return str(int(str(first).strip()))
            except ValueError:
                pass
        for field in ("raw", "literal", "season"):
            m = _YEAR.search(str(value.get(field) or ""))
            if m:
                return m.group(1)
        return ""
    if isinstance(value, (str, int)):
        m = _YEAR.search(str(value))
        return m.group(1) if m else ""
    return ""


def _arxiv(item: dict[str, Any], doi: str) -> str:
    archive = str(item.get("archive") or "").strip().lower()
    for field in ("number", "archive_location", "archive-location"):
        value = str(item.get(field) or "").strip()
        if not value:
            continue
        m = _ARXIV_IN_TEXT.search(value)
        if m and (archive == "arxiv" or "arxiv" in value.lower()
                  or str(item.get("publisher") or "").lower() == "arxiv"):
            return m.group(1)
    m = _ARXIV_URL.search(str(item.get("URL") or ""))
    if m:
        return m.group(1)
    m = _ARXIV_DOI.match(doi)
    if m:
        return m.group(1)
    return ""


def _key_of(item: dict[str, Any]) -> str:
    for field in ("citation-key", "citationKey"):
        value = item.get(field)
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()
    note = item.get("note")
    if isinstance(note, str):
        m = _CITATION_KEY_NOTE.search(note)
        if m:
            return m.group(1)
    value = item.get("id")
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return ""


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_COLON = re.compile(r"\s*:")


def _item_offsets(text: str, top_is_list: bool) -> list[int]:
    """Offsets of the ``{`` of each item object, in order, for valid JSON ``text``.

    Items are the elements of the top-level array, or of the ``items`` array of the top-level
    object. Strings are skipped as tokens, so braces inside values do not count.
    """
    offsets: list[int] = []
    stack: list[str] = []            # "[" / "{" for each open container
    items_depth = 1 if top_is_list else -1
    last_key = ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            if len(stack) == 1 and stack[0] == "{" and _COLON.match(text, m.end()):
                last_key = tok
            continue
        if tok in "[{":
            if tok == "{" and len(stack) == items_depth and stack and stack[-1] == "[":
                offsets.append(m.start())
            if tok == "[" and not top_is_list and len(stack) == 1 and last_key == '"items"' \
                    and items_depth < 0:
                items_depth = 2
            stack.append(tok)
        else:
            if stack:
                stack.pop()
    return offsets


def parse_csl_json(path: Path, text: str) -> ParseResult:
    source = str(path)
    result = ParseResult()
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise ParseError("invalid JSON: nested too deeply") from exc

    if isinstance(data, list):
        items, top_is_list = data, True
    elif isinstance(data, dict) and isinstance(data.get("items"), list):
        items, top_is_list = data["items"], False
    else:
        raise ParseError("not a CSL-JSON library: expected an array of items or {\"items\": [...]}")

    offsets = _item_offsets(text, top_is_list)
    if len(offsets) != sum(1 for it in items if isinstance(it, dict)):
        offsets = []                 # should not happen for valid JSON; lines then stay 0
    item_lines: list[int] = []      # 0-based line of each offset, counted incrementally
    count, prev = 0, 0
    for off in offsets:
        count += text.count("\n", prev, off)
        prev = off
        item_lines.append(count)
    body_end = len(text.rstrip())
    last_line = text.count("\n", 0, body_end)       # the line of the closing bracket
    if not text[text.rfind("\n", 0, body_end) + 1:body_end].strip("]} \t\r"):
        last_line -= 1                                  # ... when it holds nothing else

    seen: dict[str, int] = {}
    obj_index = 0
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            # a non-object has no offset of its own: report it at the previous item's line
            line = item_lines[obj_index - 1] if item_lines and obj_index > 0 else 0
            result.warnings.append(f"{path.name}:{line + 1}: skipped item: item {position + 1} is "
                                   f"{type(item).__name__}, not an object")
            continue
        line = item_lines[obj_index] if item_lines else 0
        next_line = item_lines[obj_index + 1] if obj_index + 1 < len(item_lines) else None
        obj_index += 1
        key = _key_of(item)
        title = _strip_markup(item.get("title"))
        if not key:
            result.warnings.append(f"{path.name}:{line + 1}: skipped item: no id or citation key")
            continue
        if not title:
            result.warnings.append(f"{path.name}:{line + 1}: skipped item: {key!r} has no title")
            continue
        if key in seen:
            result.warnings.append(f"{path.name}:{line + 1}: skipped item: duplicate id {key!r}; "
                                   f"the first one (line {seen[key] + 1}) is kept")
            continue
        seen[key] = line

        doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", str(item.get("DOI") or "").strip(),
                     flags=re.IGNORECASE)
        venue = next((_strip_markup(item.get(f)) for f in
                      ("container-title", "event-title", "event", "collection-title", "publisher")
                      if _strip_markup(item.get(f))), "")
        csl_type = str(item.get("type") or "").strip()
        authors = _names(item.get("author")) or _names(item.get("editor"))
        pid = paper_id(source, key)
        paper = Paper(
            id=pid, key=key, title=title, authors=authors,
            year=_year(item.get("issued")) or _year(item.get("original-date")),
            venue=venue, abstract=_strip_markup(item.get("abstract")), doi=doi,
            arxiv=_arxiv(item, doi), url=str(item.get("URL") or "").strip(),
            entry_type=_TYPES.get(csl_type, csl_type), source=source, source_line=line,
            source_kind="csl",
        )
        result.papers.append(paper)
        if paper.abstract:
            # the item runs to the line before the next item (or to the end of the file)
            end_line = line
            if item_lines:
                end_line = max(line, (next_line - 1) if next_line is not None else last_line)
            result.passages.append(Passage(paper_id=pid, text=paper.abstract, path=source,
                                           line_start=line, line_end=end_line, section="abstract"))
    return result


__all__ = ["parse_csl_json", "is_csl_json"]
