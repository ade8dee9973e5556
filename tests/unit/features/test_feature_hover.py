"""core/features/hover.py in process: the card of a cited paper (its "cited by" line once the
citation graph is built), unknown keys, each draft syntax."""
from __future__ import annotations

from types import SimpleNamespace

from paperlens.core.features import completion, hover
from paperlens.core.models import Span

from library_fixtures import CITES_VASWANI, PAPER, REFS_BIB, citing_paper


def test_the_card_of_a_cited_paper(build):
    f = build(REFS_BIB + r"""
        %! draft.tex
        As shown by \cite{vas|wani2017}.
        """)
    found = hover.hover(f.doc, f.offset, f.view)
    start = f.doc.text.index("vaswani2017")
    assert found.span == Span(start, start + len("vaswani2017"))
    lines = found.markdown.split("\n")
    assert lines[0] == "**Attention is all you need**"
    assert "Ashish Vaswani, Noam Shazeer · 2017 · *NeurIPS*" in lines
    assert "Abstract: The dominant sequence transduction models are based on recurrent networks. " \
           "We propose the Transformer." in lines
    assert lines[-2].startswith("`vaswani2017` · [refs.bib:1](" + f.path("refs.bib").as_uri() + "#L1)")
    assert "cited by" not in found.markdown.lower()          # no citing paper in this library


def test_the_card_says_how_the_library_cites_the_paper_once_the_graph_is_built(build):
    f = build(REFS_BIB + PAPER + r"""
        %! notes.md
        Transformers [@vaswani2017; @devl|in2019].
        """)
    assert f.view.graph() is None                  # not built yet: the card says nothing of it
    assert "Cited by" not in hover.hover(f.doc, f.offset, f.view).markdown
    f.view.graph(wait=True)
    card = hover.hover(f.doc, f.offset, f.view).markdown
    assert card.startswith("**BERT: Pre-training of deep bidirectional transformers for language understanding**")
    assert "Cited by 1 paper in your library\n" in card
    assert "[doi:10\\.18653/v1/N19-1423](https://doi.org/10.18653/v1/N19-1423)" in card


def test_an_unknown_key_says_what_it_may_be(build):
    f = build(REFS_BIB + r"""
        %! draft.md
        As shown by [@vaswani2071|].
        """)
    found = hover.hover(f.doc, f.offset, f.view)
    assert found.markdown == "Unknown citation key `vaswani2071`: not in the library. Did you mean `vaswani2017`?"
    f.view._indexing = True
    assert hover.hover(f.doc, f.offset, f.view).markdown.endswith("? (indexing is still running)")


def test_no_hover_outside_a_citation(build):
    f = build(REFS_BIB + r"""
        %! draft.typ
        Plain t|ext @vaswani2017.
        """)
    assert hover.hover(f.doc, f.offset, f.view) is None
    typst = f.doc.text.index("@vaswani2017") + 3
    assert hover.hover(f.doc, typst, f.view).markdown.startswith("**Attention is all you need**")


class Summaries:
    """A summary service that answers with ``self.summary`` (as the real one answers from its
    cache: an extractive summary at once, the model's once it is ready)."""

    def __init__(self) -> None:
        self.summary = SimpleNamespace(kind="extractive", model="", text="Sparse indexes are cheap.",
                                       sentences=[SimpleNamespace(page=None, line=9)])
        self.asked = 0

    def card_summary(self, paper, passages, content_hash):
        self.asked += 1
        assert paper.key == "okaforsparse" and passages and content_hash
        return self.summary


def test_the_card_shows_the_summary_of_the_moment_and_reads_the_paper_once(build, monkeypatch):
    summaries = Summaries()
    f = build(REFS_BIB + PAPER + "%! draft.md\nSee [@okafor|sparse].\n", summaries=summaries)
    reads = []
    monkeypatch.setattr(f.library, "summary_inputs", counted(f.library.summary_inputs, reads))
    card = hover.hover(f.doc, f.offset, f.view).markdown
    paper_uri = f.path("papers/retrieval-notes.txt").as_uri()
    assert "Summary: Sparse indexes are cheap.\n" in card and f"From: [line 10]({paper_uri}#L10)" in card
    summaries.summary = SimpleNamespace(kind="llm", model="tiny-model", text="A model's summary.", sentences=[])
    card = hover.hover(f.doc, f.offset, f.view).markdown
    assert "Summary (tiny-model): A model's summary.\n" in card and "From:" not in card
    assert summaries.asked == 2 and len(reads) == 1           # the paper's passages were read once


def counted(fn, calls: list):
    def wrapper(*args):
        calls.append(args)
        return fn(*args)
    return wrapper


SEVEN_CITING = [("sato", "Gaze Transformers on Small Devices", "Ken Sato", 2023),
                ("okafor", "Sparse Passage Retrieval for Reading Assistants", "Mira Okafor", 2021),
                ("mallory", "Click [here](javascript:alert(1)) <b>Attention</b> Audit", "Eve Mallory and Bob Builder", 2024),
                ("lima", "Dense Retrieval Revisited for Long Documents", "Ana Lima", 2019),
                ("ortiz", "Tiny Attention for Sensor Streams", "Lena Ortiz", 2020),
                ("weiss", "Long Context Summaries of Legal Text", "Paul Weiss", 2022),
                ("moreno", "Structured Pruning of Attention Heads", "Rita Moreno", 2018)]


def test_the_card_lists_the_papers_citing_it_most_recent_first(build):
    f = build(REFS_BIB + "".join(citing_paper(n, t, a, y, CITES_VASWANI) for n, t, a, y in SEVEN_CITING)
              + "%! draft.md\nSee [@vaswa|ni2017].\n")
    assert "Cited by" not in hover.card(f.view, f.view.resolve("vaswani2017"))     # no graph yet: nothing
    f.view.graph(wait=True)
    card = hover.hover(f.doc, f.offset, f.view).markdown
    uri = {n: f.path(f"papers/{n}.txt").as_uri() for n, *_ in SEVEN_CITING}
    listed = card.split("Cited by 7 papers in your library\n\n")[1].split("\n\n")[0]
    assert listed.split("\n") == [
        # a citing paper's title is plain text too: its own brackets and tags are escaped
        rf"- [Click \[here\](javascript:alert(1)) \<b\>Attention\</b\> Audit]({uri['mallory']}#L1) · Mallory et al. · 2024",
        f"- [Gaze Transformers on Small Devices]({uri['sato']}#L1) · Sato · 2023",
        f"- [Long Context Summaries of Legal Text]({uri['weiss']}#L1) · Weiss · 2022",
        f"- [Sparse Passage Retrieval for Reading Assistants]({uri['okafor']}#L1) · Okafor · 2021",
        f"- [Tiny Attention for Sensor Streams]({uri['ortiz']}#L1) · Ortiz · 2020",
        "- and 2 more",
    ]
    # the card of a completion item is the same card
    row = f.view.resolve("vaswani2017")
    assert completion.resolve({"id": row.id, "source": row.source}, f.view) == card
