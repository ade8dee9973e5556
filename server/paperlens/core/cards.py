"""The paper card shown on hover, in completion documentation and by ``paperlens show``.

Paper text is untrusted: everything taken from a paper or a ``.bib`` file is escaped so it renders
as plain text (no links, images, HTML or command links of its own making).
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import quote

from paperlens.core.index.table import year_int
from paperlens.core.models import Paper

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&])")      # & starts an entity (&lt; shows as <)
# what makes a block when it starts a line: heading, list item, setext underline or rule
_MD_LINE_START = re.compile(r"^(?:[#+=-]|\d{1,9}(?=[.)]))")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def escape_md(text: str) -> str:
    """Plain text -> markdown that shows exactly that text."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    m = _MD_LINE_START.match(text)
    if m:      # the authors' line starts with a name: "# Mallory" would be a heading
        end = m.end()
        text = f"\\{text}" if not text[0].isdigit() else f"{text[:end]}\\{text[end:]}"
    return text


def first_sentences(text: str, n: int = 3, max_chars: int = 700) -> str:
    sentences = _SENTENCE.split(" ".join(text.split()))
    out = ""
    for s in sentences[:n]:
        if out and len(out) + len(s) > max_chars:
            break
        out = f"{out} {s}".strip()
    if len(out) > max_chars:
        out = out[:max_chars].rsplit(" ", 1)[0] + " …"
    return out


def file_uri(path: str, line: int | None = None) -> str:
    """The ``file:`` URI of a library file (its line as ``#L``). The library's paths are
    absolute and resolved when indexed: resolving them again (a stat per component) was half
    of a cached hover's time at 10k papers; a relative path is resolved."""
    p = Path(path)
    uri = (p if p.is_absolute() else p.resolve()).as_uri()
    return f"{uri}#L{line + 1}" if line is not None else uri


def format_authors(authors: list[str], limit: int = 6) -> str:
    def pretty(name: str) -> str:
        if "," in name:  # "Vaswani, Ashish" -> "Ashish Vaswani"
            last, first = name.split(",", 1)
            return f"{first.strip()} {last.strip()}".strip()
        return name
    names = [pretty(a) for a in authors if a.strip()]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", … (+{len(names) - limit})"
    return ", ".join(names)


def render_card(paper: Paper, summary: str | None = None, summary_label: str = "Abstract",
                graph_line: str = "", sources: list[tuple[str, str]] = (),
                cited_by: Sequence["CitingPaper"] = (), cited_by_total: Optional[int] = None,
                item_link: str = "") -> str:
    """Markdown card: title, authors, year and venue, abstract or summary, key and links.

    ``sources`` are (label, file URI) links to the passages a summary was drawn from;
    ``graph_line`` says how the paper is connected to the rest of the library; ``cited_by``
    lists the library papers citing it, in the order shown (:func:`citing_papers`): the first
    :data:`CITED_BY_SHOWN`, then how many more of ``cited_by_total`` (default: all listed).
    """
    lines = [f"**{escape_md(paper.title or paper.key)}**", ""]
    meta = [escape_md(format_authors(paper.authors))] if paper.authors else []
    if paper.year:
        meta.append(escape_md(paper.year))
    if paper.venue:
        meta.append(f"*{escape_md(paper.venue)}*")
    if meta:
        lines += [" · ".join(meta), ""]
    text = summary if summary is not None else first_sentences(paper.abstract, n=4, max_chars=900)
    if text:
        lines += [f"{summary_label}: {escape_md(text)}", ""]
    if sources:
        lines += ["From: " + ", ".join(f"[{escape_md(label)}]({uri})" for label, uri in sources), ""]
    if graph_line:
        lines += [escape_md(graph_line), ""]
    if cited_by:
        lines += [cited_by_list(cited_by, cited_by_total), ""]
    foot = [f"`{paper.key.replace('`', '')}`"]
    if item_link:              # a Zotero item without a PDF: opened in Zotero
        foot.append(f"[Open in Zotero]({item_link})")
    elif paper.source:
        where = f"{Path(paper.source).name}:{paper.source_line + 1}"
        foot.append(f"[{escape_md(where)}]({file_uri(paper.source, paper.source_line)})")
    if paper.file and paper.file != paper.source:
        foot.append(f"[{escape_md(Path(paper.file).name)}]({file_uri(paper.file)})")
    if paper.doi:
        foot.append(f"[doi:{escape_md(paper.doi)}](https://doi.org/{quote(paper.doi, safe='/:;._-')})")
    if paper.arxiv:
        foot.append(f"[arXiv:{escape_md(paper.arxiv)}](https://arxiv.org/abs/{quote(paper.arxiv, safe='./')})")
    lines.append(" · ".join(foot))
    return "\n".join(lines).strip() + "\n"


@dataclass(frozen=True)
class CardSummary:
    """What a card shows instead of the abstract: the summary's text, its label ("Summary
    (gpt-4o)", "Summary", "Abstract") and links to the passages it was drawn from."""
    text: str
    label: str = "Summary"
    sources: tuple[tuple[str, str], ...] = ()


def card_summary(summary, text_source: str, paper: Optional[Paper] = None) -> Optional[CardSummary]:
    """The card's part of a summary (a ``summarize.Summary`` of the paper whose full text is
    ``text_source``); None when the card shows the abstract: no summary, or an "abstract"
    summary of a paper that has its own abstract."""
    if summary is None or (summary.kind == "abstract" and paper is not None and paper.abstract):
        return None
    label = {"llm": f"Summary ({summary.model or 'model'})", "abstract": "Abstract"}.get(summary.kind, "Summary")
    sources: list[tuple[str, str]] = []
    for s in summary.sentences[:5]:
        where = f"p. {s.page}" if s.page else f"line {s.line + 1}"
        if where not in [w for w, _ in sources]:
            sources.append((where, file_uri(text_source, s.line)))
    return CardSummary(summary.text, label, tuple(sources))


def graph_line(graph, paper_id: str) -> str:
    """How the library's citation graph connects a paper: "Cited by 2 papers in your library;
    cites 3 papers of your library" ("" when it connects it to nothing)."""
    if graph is None:
        return ""
    n_by, n_cites = len(graph.cited_by.get(paper_id, ())), len(graph.cites.get(paper_id, {}))
    parts = []
    if n_by:
        parts.append(f"cited by {n_by} paper{'s' if n_by != 1 else ''} in your library")
    if n_cites:
        parts.append(f"cites {n_cites} paper{'s' if n_cites != 1 else ''} of your library")
    return "; ".join(parts).capitalize()


CITED_BY_SHOWN = 5          # citing papers a card lists before "and N more"


@dataclass(frozen=True)
class CitingPaper:
    """A library paper citing the paper of a card: its key, title, first author's surname,
    year, and the file holding its reference list (its text, or the full text of its entry)."""
    key: str
    title: str
    first_author: str
    year: str
    path: str
    line: Optional[int] = None  # the line of its record in ``path`` (a text paper)
    et_al: bool = False         # more authors than the first
    id: str = ""                # its row's id

    def to_dict(self) -> dict:
        """What ``paperlens show --json`` gives of it."""
        return {"key": self.key, "title": self.title, "year": self.year, "path": self.path}


def citing_papers(graph, paper_id: str, row_of: Callable[[str], object],
                  limit: Optional[int] = None) -> list[CitingPaper]:
    """The library papers citing ``paper_id`` by the citation graph (``row_of``: id -> table
    row or None), most recent first; papers of the same year by how often the library cites
    them (the better known first), then by title; the first ``limit`` only when it is given
    (a card: a few, whatever the count). Empty without a graph."""
    if graph is None:
        return []
    keyed = []
    for citing_id in graph.cited_by.get(paper_id, ()):
        row = row_of(citing_id)
        if row is None:
            continue
        year = year_int(row.year)
        keyed.append((-year if year is not None else 1, -len(graph.cited_by.get(citing_id, ())),
                      row.title.casefold(), row.key, citing_id, row))
    chosen = sorted(keyed, key=_ORDER) if limit is None else heapq.nsmallest(limit, keyed, key=_ORDER)
    return [CitingPaper(row.key, row.title or row.key, row.surnames[0] if row.surnames else "", row.year,
                        row.fulltext or row.source, None if row.fulltext else row.source_line,
                        et_al=len(row.surnames) > 1, id=row.id) for *_order, row in chosen]


def _ORDER(item: tuple) -> tuple:
    return item[:-1]          # never the row itself (ids are unique)


def cited_by_list(citing: Sequence[CitingPaper], total: Optional[int] = None,
                  shown: int = CITED_BY_SHOWN) -> str:
    """The card's list of citing papers: each one's title (a link to its text), first author
    and year; past ``shown``, how many more of ``total`` (default: all of ``citing``)."""
    items = []
    for c in citing[:shown]:
        title = escape_md(c.title)
        item = f"[{title}]({file_uri(c.path, c.line)})" if c.path else title
        author = c.first_author + (" et al." if c.et_al else "") if c.first_author else ""
        item += "".join(f" · {escape_md(x)}" for x in (author, c.year) if x)
        items.append(f"- {item}")
    more = (len(citing) if total is None else total) - len(items)
    if more > 0:
        items.append(f"- and {more} more")
    return "\n".join(items)


def paper_card(paper: Paper, summary: Optional[CardSummary] = None, graph: str = "",
               cited_by: Sequence[CitingPaper] = (), cited_by_total: Optional[int] = None,
               item_link: str = "") -> str:
    """The card of a library paper: its summary when there is one, else its abstract; the
    line saying how the library cites it and the papers citing it (the first few of
    ``cited_by_total``); ``item_link``: where a paper without a file opens (Zotero)."""
    if summary is None:
        return render_card(paper, graph_line=graph, cited_by=cited_by, cited_by_total=cited_by_total,
                           item_link=item_link)
    return render_card(paper, summary=summary.text, summary_label=summary.label, graph_line=graph,
                       sources=list(summary.sources), cited_by=cited_by, cited_by_total=cited_by_total,
                       item_link=item_link)
