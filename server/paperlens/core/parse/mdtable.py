"""Markdown tables where one row is one paper -> Paper records.

Reading lists are often kept as a Markdown table, e.g. ``| 年份 | 题目 | 作者 | 摘要 | 中文摘要 |
link |`` (see ``shared/seeds/iccv2023-medical-papers-table.md``) or ``| Year | Title | Authors |
Abstract | Link |``. Header names are matched in English and Chinese; a table is a paper table
when it has a title column. Each row becomes a Paper located at the row's line, with one passage
for the English abstract (section ``abstract``) and one for the Chinese abstract
(``abstract-zh``). Keys are left empty: the indexer generates them.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from paperlens.core.models import Paper, Passage
from paperlens.core.parse.common import ParseResult, paper_id
from paperlens.core.parse.repair import repair_text

_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_PIPE = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>")
_BARE_URL = re.compile(r"(?:https?|ftp)://[^\s<>()\[\]|\"']+[^\s<>()\[\]|\"'.,;:]")
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
                        r"(?:v\d+)?", re.IGNORECASE)
_ARXIV_TEXT = re.compile(r"^(?:arxiv:\s*)?(\d{4}\.\d{4,5})(?:v\d+)?$", re.IGNORECASE)
_DOI = re.compile(r"(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_VENUES = ("CVPR", "ICCV", "ECCV", "WACV", "NeurIPS", "NIPS", "ICLR", "ICML", "AAAI", "IJCAI",
           "ACL", "EMNLP", "NAACL", "MICCAI", "SIGIR", "KDD", "CHI", "SIGGRAPH", "BMVC", "TPAMI",
           "IPMI", "ISBI", "3DV", "ICRA", "IROS", "CoRL")
_VENUE_RE = re.compile(r"(?:^|[^A-Za-z0-9])(" + "|".join(re.escape(v) for v in _VENUES) +
                       r")(?:[\s_\-']*((?:19|20)\d\d))?(?=$|[^A-Za-z0-9]|\d)", re.IGNORECASE)
_VENUE_NAMES = {v.lower(): v for v in _VENUES}
_AUTHOR_SPLIT_SEMI = re.compile(r"\s*(?:\n|;|；|\s+and\s+|\s+&\s+|、)\s*", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:\n|;|；|,|，|、|\s+and\s+|\s+&\s+)\s*", re.IGNORECASE)
_AUTHOR_MARKS = re.compile(r"(?:[\d*†‡§¶∗]+|\s*\(\s*\d+\s*\))+$")


@dataclass
class PaperTable:
    """A Markdown table with a title column; lines are 0-based."""

    header_line: int
    headers: list[str]
    columns: dict[str, int]                      # field name -> column index
    rows: list[tuple[int, list[str]]] = field(default_factory=list)   # (line, raw cells)
    heading: str = ""                            # nearest Markdown heading above the table


# --- header names --------------------------------------------------------------------------------

def _norm_header(header: str) -> str:
    h = _cell_text(header).lower()
    h = re.sub(r"[*_`:：]", "", h)
    return " ".join(h.split())


def _field_of(header: str) -> Optional[str]:
    """The Paper field a column holds, from its header (English or Chinese), or None."""
    h = _norm_header(header)
    if not h:
        return None
    compact = h.replace(" ", "")
    if any(w in compact for w in ("code", "代码", "github", "备注", "note", "comment", "tag", "标签",
                                  "keyword", "关键词", "citation", "引用")):
        return None
    if compact == "doi":
        return "doi"
    if compact in ("arxiv", "arxivid"):
        return "arxiv"
    is_abstract = any(w in compact for w in ("abstract", "摘要", "summary", "简介", "概要"))
    is_chinese = any(w in compact for w in ("中文", "chinese", "(zh)", "（zh）", "-zh", "_zh", "zh-", "译"))
    if is_abstract:
        return "abstract_zh" if is_chinese else "abstract"
    is_title = any(w in compact for w in ("title", "题目", "标题", "论文名", "名称")) or \
        compact in ("paper", "论文", "name", "papername")
    if is_title:
        return "title_zh" if is_chinese else "title"
    if any(w in compact for w in ("author", "作者")):
        return "authors"
    if compact in ("year", "年份", "年", "date", "日期", "时间", "发表时间", "发表年份", "pubyear") \
            or "year" in compact:
        return "year"
    if any(w in compact for w in ("venue", "会议", "期刊", "conference", "journal", "出处", "来源",
                                  "publication", "booktitle", "刊物")):
        return "venue"
    if any(w in compact for w in ("link", "链接", "url", "pdf", "地址", "网址", "paper")):
        return "link"
    return None


# --- cells ---------------------------------------------------------------------------------------

def _split_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip() for c in _PIPE.split(s)]


def _cell_text(raw: str, keep_breaks: bool = False) -> str:
    """Cell Markdown -> plain text: ``\\|``, ``<br>``, links (their text), tags, emphasis, mojibake."""
    s = raw.replace("\\|", "|")
    s = _BR.sub("\n", s)
    s = _IMAGE.sub(r"\1", s)
    s = _MD_LINK.sub(lambda m: m.group(1) or m.group(2), s)
    s = _AUTOLINK.sub(r"\1", s)
    if "<" in s:
        s = _TAG.sub(" ", s)
    if "&" in s:
        s = html.unescape(s)
    s = re.sub(r"(\*\*|__)(.+?)\1", r"\2", s)
    s = re.sub(r"`([^`]*)`", r"\1", s)
    s = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", s)     # Markdown backslash escapes
    s = repair_text(s)
    if keep_breaks:
        return "\n".join(" ".join(part.split()) for part in s.split("\n")).strip()
    return " ".join(s.split())


def _urls(raw: str) -> list[str]:
    """Every URL of a cell, in order: Markdown link targets, autolinks, bare URLs."""
    s = raw.replace("\\|", "|")
    out: list[str] = []
    for m in _MD_LINK.finditer(s):
        out.append(m.group(2))
    s = _MD_LINK.sub(" ", s)
    for m in _AUTOLINK.finditer(s):
        out.append(m.group(1))
    s = _AUTOLINK.sub(" ", s)
    out.extend(m.group() for m in _BARE_URL.finditer(s))
    return [html.unescape(u) for u in out if u]


def _arxiv_of(urls: list[str], text: str = "") -> str:
    for u in urls:
        m = _ARXIV_URL.search(u)
        if m:
            return m.group(1)
    m = _ARXIV_TEXT.match(text.strip())
    return m.group(1) if m else ""


def _doi_of(urls: list[str], text: str = "") -> str:
    for u in urls:
        m = re.search(r"doi\.org/(10\.\d{4,9}/\S+)", u, re.IGNORECASE)
        if m:
            return m.group(1).rstrip(".,;")
        if re.match(r"^10\.\d{4,9}/", u):
            return u
    m = _DOI.search(text)
    return m.group(1) if m else ""


def split_table_authors(text: str) -> list[str]:
    """``A, B and C`` / ``A; B`` / ``A<br>B`` / ``甲、乙`` -> names as written (``First Last``).

    With semicolons the names may be ``Last, First``; those are turned around.
    """
    if not text:
        return []
    semi = ";" in text or "；" in text
    parts = (_AUTHOR_SPLIT_SEMI if semi else _AUTHOR_SPLIT).split(text)
    names: list[str] = []
    for part in parts:
        name = " ".join(part.split()).strip(" ,.;") if part else ""
        name = re.sub(r"^and\s+", "", name, flags=re.IGNORECASE)
        name = _AUTHOR_MARKS.sub("", name).strip()
        if semi and name.count(",") == 1:
            last, first = (x.strip() for x in name.split(","))
            name = f"{first} {last}".strip()
        if not name or name.lower() in ("et al", "et al.", "others", "等", "等人"):
            continue
        if name.lower().endswith(" et al"):
            name = name[:-6].strip()
        names.append(name)
    return names


def _mostly_cjk(text: str) -> bool:
    letters = sum(1 for ch in text if not ch.isspace())
    return letters > 0 and len(_CJK.findall(text)) / letters > 0.3


# --- tables --------------------------------------------------------------------------------------

def _is_delimiter(line: str, n_cells: int) -> bool:
    if "|" not in line or not _DELIMITER.match(line):
        return False
    return len(_split_row(line)) == n_cells


def _tables(text: str) -> list[PaperTable]:
    lines = text.split("\n")
    tables: list[PaperTable] = []
    heading = ""
    i = 0
    n = len(lines)
    fence = ""
    while i < n:
        line = lines[i]
        fm = _FENCE.match(line)
        if fm and (not fence or fm.group(1).startswith(fence)):
            fence = "" if fence else fm.group(1)        # tables in code blocks are examples
            i += 1
            continue
        if fence:
            i += 1
            continue
        hm = _HEADING.match(line)
        if hm:
            heading = hm.group(1)
            i += 1
            continue
        if "|" in line and i + 1 < n:
            headers = _split_row(line)
            if len(headers) >= 2 and _is_delimiter(lines[i + 1], len(headers)):
                columns: dict[str, int] = {}
                for idx, h in enumerate(headers):
                    f = _field_of(h)
                    if f and f not in columns:
                        columns[f] = idx
                table = PaperTable(header_line=i, headers=headers, columns=columns, heading=heading)
                j = i + 2
                while j < n and lines[j].strip() and _PIPE.search(lines[j]):
                    table.rows.append((j, _split_row(lines[j])))
                    j += 1
                tables.append(table)
                i = j
                continue
        i += 1
    return tables


def find_paper_tables(text: str, min_rows: int = 1) -> list[PaperTable]:
    """Markdown tables of ``text`` that have a title column and at least ``min_rows`` rows."""
    if "|" not in text or "-" not in text:
        return []
    return [t for t in _tables(text) if "title" in t.columns and len(t.rows) >= min_rows]


def is_paper_table_file(text: str) -> bool:
    """True when ``text`` holds a paper table: a title column and two rows or more."""
    return bool(find_paper_tables(text, min_rows=2))


def _venue_year(*texts: str) -> tuple[str, str]:
    for t in texts:
        if not t:
            continue
        m = _VENUE_RE.search(t)
        if m:
            return _VENUE_NAMES.get(m.group(1).lower(), m.group(1)), m.group(2) or ""
    return "", ""


def _fit_cells(cells: list[str], table: PaperTable) -> tuple[list[str], bool]:
    """Cells padded or merged to the header's width; an unescaped ``|`` in a text column
    (an abstract mentioning ``p(x|y)``) would otherwise shift every later column."""
    width = len(table.headers)
    if len(cells) <= width:
        return cells + [""] * (width - len(cells)), False
    extra = len(cells) - width
    target = table.columns.get("abstract", table.columns.get("abstract_zh"))
    if target is None:
        return cells[:width], True
    merged = cells[:target] + [" | ".join(cells[target:target + extra + 1])] + cells[target + extra + 1:]
    return merged, True


def parse_md_table(path: Path, text: str) -> ParseResult:
    source = str(path)
    result = ParseResult()
    file_heading = next((m.group(1) for m in map(_HEADING.match, text.split("\n", 200)[:200]) if m), "")
    for table in find_paper_tables(text):
        cols = table.columns
        t_venue, t_year = _venue_year(table.heading, file_heading, path.stem)
        for line, raw_cells in table.rows:
            cells, odd = _fit_cells(raw_cells, table)
            if odd:
                result.warnings.append(f"{path.name}:{line + 1}: row has {len(raw_cells)} cells for "
                                       f"{len(table.headers)} columns (unescaped '|'?)")

            def raw(name: str) -> str:
                idx = cols.get(name)
                return cells[idx] if idx is not None and idx < len(cells) else ""

            title = _cell_text(raw("title")) or _cell_text(raw("title_zh"))
            if not title:
                result.warnings.append(f"{path.name}:{line + 1}: skipped row: empty title")
                continue
            abstract = _cell_text(raw("abstract"))
            abstract_zh = _cell_text(raw("abstract_zh"))
            if abstract and not abstract_zh and "abstract_zh" not in cols and _mostly_cjk(abstract):
                abstract_zh = abstract          # a single 摘要 column written in Chinese
            year_m = _YEAR.search(_cell_text(raw("year")))
            year = year_m.group(1) if year_m else t_year
            venue_cell = _cell_text(raw("venue"))
            venue = venue_cell or t_venue
            if venue_cell and not year:
                year = _venue_year(venue_cell)[1]
            link_urls = _urls(raw("link"))
            doi_raw, arxiv_raw = raw("doi"), raw("arxiv")
            doi = _doi_of(_urls(doi_raw) + link_urls, _cell_text(doi_raw))
            arxiv = _arxiv_of(_urls(arxiv_raw) + link_urls, _cell_text(arxiv_raw))
            if not arxiv and doi.lower().startswith("10.48550/arxiv."):
                arxiv = doi[len("10.48550/arxiv."):]
            url = next((u for u in link_urls if re.match(r"^[a-z][a-z0-9+.-]*://", u, re.IGNORECASE)), "")
            pid = paper_id(source, f"row{line}")
            paper = Paper(id=pid, key="", title=title,
                          authors=split_table_authors(_cell_text(raw("authors"), keep_breaks=True)),
                          year=year, venue=venue, abstract=abstract, doi=doi, arxiv=arxiv, url=url,
                          source=source, source_line=line, source_kind="table")
            result.papers.append(paper)
            if abstract and abstract is not abstract_zh:
                result.passages.append(Passage(paper_id=pid, text=abstract, path=source,
                                               line_start=line, line_end=line, section="abstract"))
            if abstract_zh:
                result.passages.append(Passage(paper_id=pid, text=abstract_zh, path=source,
                                               line_start=line, line_end=line, section="abstract-zh"))
    return result


__all__ = ["PaperTable", "find_paper_tables", "is_paper_table_file", "parse_md_table",
           "split_table_authors"]
