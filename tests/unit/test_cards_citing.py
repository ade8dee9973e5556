"""The papers a card lists as citing it (issue 15, point 3): by the citation graph, most recent
first, the same year by how often the library cites them, then by title; five, then how many
more."""
from __future__ import annotations

from types import SimpleNamespace

from paperlens.core.cards import CITED_BY_SHOWN, cited_by_list, citing_papers
from paperlens.core.graph import CitationGraph


def _row(pid, title, year, surnames=("Doe",), fulltext=""):
    return SimpleNamespace(id=pid, key=f"key-{pid}", title=title, year=year, surnames=list(surnames),
                           source=f"/nowhere/{pid}.txt", source_line=0, fulltext=fulltext)


def test_most_recent_first_then_the_most_cited_then_by_title():
    rows = {r.id: r for r in [
        _row("t", "Target", "2000"),
        _row("a", "Alpha", "2019"), _row("b", "Beta", "2021"), _row("c", "Gamma", "2021"),
        _row("d", "Delta", "2021"), _row("e", "No year", ""), _row("f", "Odd year", "²⁰²²"),
        _row("g", "Entry with its text", "2020", ("Ng", "Li"), fulltext="/nowhere/texts/g.pdf")]}
    graph = CitationGraph()
    for citing in "abcdefg":
        graph.add(citing, "t", "1")
    graph.add("a", "c", "2")           # Gamma is cited once in the library, Beta and Delta never
    graph.add("gone", "t", "3")        # a paper no longer in the library is left out
    found = citing_papers(graph, "t", rows.get)
    assert [c.title for c in found] == ["Gamma", "Beta", "Delta", "Entry with its text", "Alpha",
                                        "No year", "Odd year"]
    g = found[3]
    # a bibliography entry cites through its full text: the list links to that file
    assert (g.key, g.first_author, g.et_al, g.path) == ("key-g", "Ng", True, "/nowhere/texts/g.pdf")
    assert g.to_dict() == {"key": "key-g", "title": "Entry with its text", "year": "2020",
                           "path": "/nowhere/texts/g.pdf"}
    assert citing_papers(graph, "a", rows.get) == [] and citing_papers(None, "t", rows.get) == []
    listed = cited_by_list(found).split("\n")
    assert len(listed) == CITED_BY_SHOWN + 1 and listed[-1] == "- and 2 more"
    assert listed[0] == "- [Gamma](file:///nowhere/c.txt#L1) · Doe · 2021"
    assert listed[3] == "- [Entry with its text](file:///nowhere/texts/g.pdf) · Ng et al. · 2020"
    assert "more" not in cited_by_list(found[:CITED_BY_SHOWN])
    # a card takes the first few only, and says how many more the graph has
    first = citing_papers(graph, "t", rows.get, limit=CITED_BY_SHOWN)
    assert first == found[:CITED_BY_SHOWN]
    assert cited_by_list(first, total=8).split("\n")[-1] == "- and 3 more"
