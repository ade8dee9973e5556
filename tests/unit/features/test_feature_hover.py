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


# -- evidence: the passages of the cited paper that match the sentence citing it (issue 17) ------

EVIDENCE_PAPER = r"""%! papers/gossip.txt
Epidemic Gossip for Replicated Databases
Alan Demers
Abstract
We study randomized protocols that keep replicas of a database consistent.
1. Introduction
Cheap updates matter for *large* sites, and the <b>costs</b> of mail_box & `cp` are low.
2. Anti-entropy
Anti-entropy repairs replicated data: each site regularly chooses another site at random and
the two exchange database contents, resolving every difference between them.
3. Rumor mongering
Rumor mongering spreads a hot update to sites at random until most sites know it; its traffic
is far lower than anti-entropy's but a site may miss the update.
4. Deletion
Death certificates stand for deleted items so that old copies do not resurrect them.
"""


def test_evidence_beneath_the_card_marks_the_matched_words(build):
    f = build(EVIDENCE_PAPER + r"""
        %! draft.md
        In anti-entropy, each site exchanges database contents with a site chosen at random [@demers|epidemic].
        """)
    found = hover.hover(f.doc, f.offset, f.view).markdown
    card, shown = found.split("\n\n---\n\n")
    assert card.startswith("**Epidemic Gossip for Replicated Databases**")
    lines = shown.split("\n")
    assert lines[0].startswith("**Evidence** (support ")
    uri = f.path("papers/gossip.txt").as_uri()
    best = lines[1]
    assert best.startswith(f"- [l. 8]({uri}#L8): ")          # the anti-entropy passage first
    for word in ("Anti", "entropy", "site", "random", "exchange", "database", "contents"):
        assert f"**{word}**" in best
    assert "**repairs**" not in best and "repairs" in best      # shown, not matched
    assert all(not line.startswith("- [l. 15]") for line in lines)   # nothing in common: not shown


def test_evidence_escapes_the_papers_markup(build):
    f = build(EVIDENCE_PAPER + r"""
        %! draft.tex
        Large sites need cheap updates whose costs are low \cite{demers|epidemic}.
        """)
    shown = hover.hover(f.doc, f.offset, f.view).markdown.split("\n\n---\n\n")[1]
    passage = next(line for line in shown.split("\n") if "[l. 6]" in line)
    assert r"\<b\>**costs**\</b\>" in passage and r"mail\_box \& \`cp\`" in passage
    assert r"\***large**\*" in passage and "**Cheap**" in passage and "**sites**" in passage


def test_a_paper_without_text_says_so_and_each_key_has_its_own(build):
    f = build(REFS_BIB + EVIDENCE_PAPER + r"""
        %! draft.md
        Replicated databases stay consistent with randomized protocols [@vaswani2017; @demers|epidemic].
        """)
    shown = hover.hover(f.doc, f.offset, f.view).markdown.split("\n\n---\n\n")[1]
    assert shown.startswith("**Evidence**") and "**randomized**" in shown
    other = f.doc.text.index("vaswani2017") + 2
    assert hover.hover(f.doc, other, f.view).markdown.endswith(
        "\n\n---\n\n*Evidence: the library has no text of this paper.*")


def test_evidence_on_a_numeric_citation_inside_a_library_paper(build):
    f = build(EVIDENCE_PAPER + r"""
        %! papers/survey.txt
        A Survey of Replication
        Bo Chen
        Abstract
        We survey replication.
        1. Introduction
        Sites exchange database contents with a site chosen at random in anti-entropy [1].
        2. Method
        Filler text about nothing in particular for the survey body.
        References
        [1] A. Demers. Epidemic gossip for replicated databases. In PODC, 1987.
        """)
    doc = f.snapshot("papers/survey.txt")
    at = f.files["papers/survey.txt"].index("entropy [1]") + 9
    found = hover.hover(doc, at, f.view).markdown
    assert "→ in your library: **Epidemic Gossip for Replicated Databases**" in found
    shown = found.split("**Evidence**", 1)[1]
    assert f"[l. 8]({f.path('papers/gossip.txt').as_uri()}#L8)" in shown and "**exchange**" in shown


def test_hovering_the_same_citation_again_reads_and_scores_nothing(build, monkeypatch):
    """A reader moves over a citation: each move is a hover. The evidence is kept for the
    library's state, so the second hover neither reads the paper's passages nor scores them
    (the 10k bench's repeated hover went from 1.7 ms to 27 ms p95 with evidence)."""
    f = build(EVIDENCE_PAPER + r"""
        %! draft.md
        In anti-entropy, each site exchanges database contents with a site chosen at random [@demers|epidemic].
        """)
    hover.rarity(f.view, wait=True)             # the library's word rarity read (as it will be)
    first = hover.hover(f.doc, f.offset, f.view).markdown
    reads, scored = [], []
    monkeypatch.setattr(f.library, "summary_inputs", counted(f.library.summary_inputs, reads))
    monkeypatch.setattr(hover.evidence, "support", counted(hover.evidence.support, scored))
    again = hover.hover(f.doc, f.offset, f.view).markdown
    assert again == first and "**Evidence**" in again
    assert reads == [] and scored == []
    # another paper of the library changes: the cited paper's text is read again (the card's
    # cache follows the library), its support for the sentence is not scored again (in this
    # two-paper library one more paper would make the word rarity be read again: not here)
    monkeypatch.setattr(hover, "RARITY_DRIFT", 10.0)
    (f.folder / "other.txt").write_text("Another Paper\nDi Writer\nAbstract\nUnrelated.\n", encoding="utf-8")
    f.library.update()
    assert hover.hover(f.doc, f.offset, f.view).markdown == first
    assert scored == []


def _papers(n: int) -> str:
    return "".join(f"""
        %! papers/p{i}.txt
        Paper Number {i} On Gossip Topic{i}
        Ann Writer{i}
        Abstract
        We study topic{i} replication and anti-entropy between sites of a database.
        """ for i in range(n))


def test_the_word_rarity_is_kept_when_a_few_papers_change(build, monkeypatch):
    """The rarity was read again (200 papers' passages) after every change of the library: the
    10k server stayed busy ~14 s after each saved file. It is kept until about a tenth of the
    library is added or removed."""
    f = build(_papers(12) + """
        %! draft.md
        Sites exchange contents at random [@p1|].
        """)
    first = hover.rarity(f.view, wait=True)
    assert hover._sampled[0][2] is first          # read from the papers' texts
    reads = []
    monkeypatch.setattr(f.library, "summary_inputs", counted(f.library.summary_inputs, reads))
    (f.folder / "papers" / "new.txt").write_text("A New Paper On Gossip\nBo Writer\nAbstract\nWe gossip.\n",
                                                 encoding="utf-8")
    f.library.update()
    assert hover.rarity(f.view, wait=True) is first and reads == []
    for i in range(12, 16):            # a third more papers: read again
        (f.folder / "papers" / f"more{i}.txt").write_text(
            f"More Paper {i}\nCy Writer\nAbstract\nWe replicate {i}.\n", encoding="utf-8")
    f.library.update()
    again = hover.rarity(f.view, wait=True)
    assert again is not first and reads


def test_a_hover_finds_the_evidence_prepared_in_the_background(build, monkeypatch):
    """Issue 14's cold hover: the server computes the evidence of an open document's citations
    in the background (hover.prepare); a hover on any of them, on any key of a citation of
    several, then neither reads the cited paper nor scores it."""
    f = build(REFS_BIB + EVIDENCE_PAPER + r"""
        %! draft.tex
        Replicas stay consistent with randomized protocols \cite{vaswani2017,demers|epidemic}.

        Each site exchanges database contents with a site chosen at random~\citep[p.~3]{demersepidemic}.
        """)
    assert hover.prepare(f.doc, f.view)
    reads, scored = [], []
    monkeypatch.setattr(f.library, "summary_inputs", counted(f.library.summary_inputs, reads))
    monkeypatch.setattr(f.library, "paper", counted(f.library.paper, reads))      # the card's record
    monkeypatch.setattr(hover.evidence, "support", counted(hover.evidence.support, scored))
    text = f.doc.text
    for at in (f.offset, text.index("vaswani2017") + 3, text.index("demersepidemic}.") + 6):
        found = hover.hover(f.doc, at, f.view).markdown
        assert "Evidence" in found
    assert scored == [] and reads == []
    assert "**randomized**" in hover.hover(f.doc, f.offset, f.view).markdown
    # stopped between citations (a change of the document came): says so
    hover.forget_evidence()
    assert not hover.prepare(f.doc, f.view, stop=lambda: True)


def test_a_hover_waits_for_nothing_it_was_not_given(build, monkeypatch):
    """Without the background's work a hover computes its evidence as before."""
    f = build(EVIDENCE_PAPER + r"""
        %! draft.md
        Each site exchanges database contents with a site chosen at random [@demers|epidemic].
        """)
    hover.forget_evidence()
    scored = []
    monkeypatch.setattr(hover.evidence, "support", counted(hover.evidence.support, scored))
    assert "**exchange**" in hover.hover(f.doc, f.offset, f.view).markdown and len(scored) == 1
