"""core/features/reading.py in process: numeric citations inside a library paper (hover: its own
entries and the library paper each is; definition: the entry), and from an entry to the library
paper it cites; the same in a PDF's text view, whose lines carry page markers."""
from __future__ import annotations

from paperlens.core.features import definition, hover
from paperlens.core.features.document import Location

from library_fixtures import PAPER, REFS_BIB

NAME = "papers/retrieval-notes.txt"


def _at(f, needle: str, delta: int) -> int:
    return f.files[NAME].index(needle) + delta


def test_hover_on_numeric_citations(build):
    f = build(REFS_BIB + PAPER)
    doc = f.snapshot(NAME)
    one = hover.hover(doc, _at(f, "Transformer [1]", 13), f.view)
    entry, card = one.markdown.split("\n\n---\n\n")
    assert entry == ("**[1]** A. Vaswani and N. Shazeer. Attention is all you need. In NeurIPS, 2017.  \n"
                     "→ in your library: **Attention is all you need** `vaswani2017`")
    assert card.startswith("**Attention is all you need**")
    assert doc.text[one.span.start:one.span.end] == "[1]"
    two = hover.hover(doc, _at(f, "encoder [1, 2]", 9), f.view).markdown
    assert "---" not in two and "`vaswani2017`" in two and "`devlin2019`" in two
    alone = hover.hover(doc, _at(f, "retrieval [3]", 11), f.view).markdown
    assert alone == "**[3]** Stephen Robertson. The probabilistic relevance framework: BM25 and beyond. 2009."


def test_definition_to_the_entry_and_from_the_entry_to_the_library(build):
    f = build(REFS_BIB + PAPER)
    doc = f.snapshot(NAME)
    lines = f.files[NAME].split("\n")
    one, two = definition.definition(doc, _at(f, "encoder [1, 2]", 12), f.view)
    assert one.uri == two.uri == doc.uri
    assert lines[one.line].startswith("[1] A. Vaswani") and lines[two.line].startswith("[2] Jacob Devlin")
    assert definition.definition(doc, _at(f, "[2] Jacob", 8), f.view) == [Location(str(f.path("refs.bib")), 7)]
    assert definition.definition(doc, _at(f, "[3] Stephen", 8), f.view) is None      # not in the library
    assert definition.definition(doc, 3, f.view) is None                            # above the entries


def test_in_a_pdf_text_view_lines_are_mapped(build, tmp_path):
    f = build(REFS_BIB + PAPER)
    text = f.files[NAME]
    view_file = tmp_path / "texts" / "retrieval-notes-view.txt"
    view_file.parent.mkdir()
    shown = ["──────── page 1 of 1 ────────"] + text.split("\n")        # one marker line above
    view_file.write_text("\n".join(shown), encoding="utf-8")
    f.view.text_views[str(view_file)] = (str(f.path(NAME)), list(range(1, len(shown))))
    doc = f.snapshot(NAME, text="\n".join(shown))
    doc = type(doc)(view_file.as_uri(), doc.text, None, view_file)
    offset = doc.text.index("encoder [1, 2]") + 9
    assert "`devlin2019`" in hover.hover(doc, offset, f.view).markdown
    locs = definition.definition(doc, offset, f.view)
    assert [shown[loc.line][:4] for loc in locs] == ["[1] ", "[2] "]


def test_the_card_of_a_numeric_citation_lists_the_papers_citing_it(build):
    f = build(REFS_BIB + PAPER)
    f.view.graph(wait=True)
    doc = f.snapshot(NAME)
    _entry, card = hover.hover(doc, _at(f, "Transformer [1]", 13), f.view).markdown.split("\n\n---\n\n")
    assert "Cited by 1 paper in your library\n\n" in card
    assert f"- [Sparse Passage Retrieval for Reading Assistants]({f.path(NAME).as_uri()}#L1) · Okafor\n" in card
    assert card == hover.card(f.view, f.view.resolve("vaswani2017"))       # the card a key's hover shows
