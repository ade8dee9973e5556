"""core/features/usages.py in process: find references (the .bib entry, the drafts' citations,
the citing papers' reference entries) and the code lens of a library paper."""
from __future__ import annotations

from paperlens.core.features import hover, usages
from paperlens.core.features.document import Location
from paperlens.core.models import Span

from library_fixtures import CITES_VASWANI, PAPER, REFS_BIB, citing_paper


def test_references_of_a_key(build):
    f = build(REFS_BIB + PAPER + r"""
        %! draft.tex
        As shown by \cite{vas|wani2017} and again \citep{devlin2019,vaswani2017}.
        %! notes.org
        See [cite:@vaswani2017].
        """)
    found = usages.references(f.doc, f.offset, f.view, include_declaration=True)
    assert found[0] == Location(str(f.path("refs.bib")), 0)            # the entry first
    draft, notes = f.files["draft.tex"], f.files["notes.org"]
    spans = sorted((loc.path, loc.span.start) for loc in found if loc.span is not None)
    assert spans == sorted([(str(f.path("draft.tex")), draft.index("vaswani2017")),
                            (str(f.path("draft.tex")), draft.rindex("vaswani2017")),
                            (str(f.path("notes.org")), notes.index("vaswani2017"))])
    assert all(loc.text == f.files[loc.path.rsplit("/", 1)[1]] for loc in found if loc.span is not None)
    # the library paper citing it: at its entry [1] of its reference list
    paper = f.files["papers/retrieval-notes.txt"].split("\n")
    (citing,) = [loc for loc in found if loc.path.endswith("retrieval-notes.txt")]
    assert paper[citing.line].startswith("[1] A. Vaswani") and citing.span is None
    without = usages.references(f.doc, f.offset, f.view, include_declaration=False)
    assert without == found[1:]


def test_references_of_the_paper_a_document_is_the_text_of(build):
    f = build(REFS_BIB + PAPER + r"""
        %! draft.md
        Okafor [@okaforsparse] and [@vaswani2017].
        """)
    paper = f.snapshot("papers/retrieval-notes.txt")
    found = usages.references(paper, 5, f.view, include_declaration=False)
    draft = f.files["draft.md"]
    start = draft.index("okaforsparse")
    assert [(loc.path, loc.span) for loc in found] == [(str(f.path("draft.md")), Span(start, start + 12))]


def test_no_references_outside_a_key_of_a_draft(build):
    f = build(REFS_BIB + "%! draft.tex\nPlain |text.\n")
    assert usages.references(f.doc, f.offset, f.view) is None


def test_the_lens_of_a_library_paper(build):
    f = build(REFS_BIB + PAPER)
    lens = usages.citation_lens(str(f.path("papers/retrieval-notes.txt")), f.view)
    assert lens == usages.Lens("Cites 2 papers of your library · okaforsparse", 0)
    assert usages.citation_lens(str(f.path("refs.bib")), f.view) is None          # not a paper's text


def test_the_citing_papers_come_in_the_order_of_the_card(build):
    papers = [("lima", "Dense Retrieval Revisited for Long Documents", "Ana Lima", 2019),
              ("sato", "Gaze Transformers on Small Devices", "Ken Sato", 2023),
              ("ortiz", "Tiny Attention for Sensor Streams", "Lena Ortiz", 2020),
              ("weiss", "Long Context Summaries of Legal Text", "Paul Weiss", 2022)]
    f = build(REFS_BIB + "".join(citing_paper(n, t, a, y, "[1] Someone Else. Unrelated work. 2001.",
                                              "[2] " + CITES_VASWANI[4:]) for n, t, a, y in papers)
              + "%! draft.md\nSee [@vaswa|ni2017].\n")
    found = usages.references(f.doc, f.offset, f.view)
    citing = [loc for loc in found if loc.path.endswith(".txt")]
    assert [loc.path.rsplit("/", 1)[1] for loc in citing] == ["sato.txt", "weiss.txt", "ortiz.txt", "lima.txt"]
    for loc in citing:           # at the entry citing it, [2]
        assert f.files["papers/" + loc.path.rsplit("/", 1)[1]].split("\n")[loc.line].startswith("[2] A. Vaswani")
    card = hover.hover(f.doc, f.offset, f.view).markdown
    assert [line.split("](")[0] for line in card.split("\n") if line.startswith("- [")] == [
        "- [" + t for _n, t, _a, y in sorted(papers, key=lambda p: -p[3])]
